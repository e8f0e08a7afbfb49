"""A rollup's JSON-RPC on the client side: result shapes, their parsing, and header hashing.

The shapes are those of ``sequencer/rpc/neuro.py`` (docs/pipe.md, docs/rpc.md): hashes and
bytes as 0x-hex, block numbers as hex quantities, counts (``index``, ``leafCount``) and
``chainId`` as JSON numbers. Parsing is strict: a malformed answer is a ``RollupError``
naming the method, never a ``KeyError`` deep in a caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import rlp
from eth_utils import keccak

from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, receipt_from_json
from neurostack.protocol.tensors import ModelOutput, model_output_to_arrays
from neurostack.protocol.types import Address, Hash32, RequestId

from ._consensus import hex_bytes as _hex_bytes
from .errors import RollupError, RpcError

# The header's RLP fields in order (Prague), with how each JSON field becomes bytes:
# "q" a quantity (minimal big-endian), "b" raw bytes as sent. Optional trailing fields
# (post-London forks) are present only if the node sends them.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "b"), ("sha3Uncles", "b"), ("miner", "b"), ("stateRoot", "b"),
    ("transactionsRoot", "b"), ("receiptsRoot", "b"), ("logsBloom", "b"), ("difficulty", "q"),
    ("number", "q"), ("gasLimit", "q"), ("gasUsed", "q"), ("timestamp", "q"),
    ("extraData", "b"), ("mixHash", "b"), ("nonce", "b"), ("baseFeePerGas", "q"),
    ("withdrawalsRoot", "b"), ("blobGasUsed", "q"), ("excessBlobGas", "q"),
    ("parentBeaconBlockRoot", "b"), ("requestsHash", "b"),
)  # fmt: skip
OPTIONAL_FROM = 15  # baseFeePerGas and later may be absent on older forks


@dataclass(frozen=True)
class ChainInfo:
    """``neuro_chainInfo``."""

    chain_id: int
    name: str
    token_name: str
    token_symbol: str
    token_decimals: int
    block_time: float


@dataclass(frozen=True)
class BlockHeader:
    """The parts of a block header proofs are checked against, plus all its fields."""

    number: int
    hash: Hash32
    timestamp: int
    extra_data: bytes
    fields: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def hash_hex(self) -> str:
        return "0x" + bytes(self.hash).hex()

    def hash_matches(self) -> bool:
        """Whether keccak256(rlp(header fields)) is the header's hash: then ``extraData``
        (the inference root) is what the block hash commits to."""
        return header_hash(self.fields) == bytes(self.hash)

    # The roots a light client checks proofs against (meaningful once hash_matches()).

    @property
    def parent_hash(self) -> Hash32:
        return Hash32(_hex_bytes(self.fields["parentHash"]))

    @property
    def state_root(self) -> Hash32:
        return Hash32(_hex_bytes(self.fields["stateRoot"]))

    @property
    def transactions_root(self) -> Hash32:
        return Hash32(_hex_bytes(self.fields["transactionsRoot"]))

    @property
    def receipts_root(self) -> Hash32:
        return Hash32(_hex_bytes(self.fields["receiptsRoot"]))


@dataclass(frozen=True)
class InferenceWitness:
    """``neuro_getInferenceWitness``: a block's receipts in order of first use."""

    block_number: int
    block_hash: Hash32
    inference_root: Hash32
    receipts: tuple[InferenceReceipt, ...]


@dataclass(frozen=True)
class InferenceProof:
    """``neuro_getInferenceProof``: one receipt and the Merkle branch to its block's root."""

    receipt: InferenceReceipt
    index: int
    leaf_count: int
    branch: tuple[Hash32, ...]
    inference_root: Hash32
    block_number: int
    block_hash: Hash32 | None = None
    leaf: Hash32 | None = None

    @property
    def request_id(self) -> RequestId:
        return self.receipt.request_id


@dataclass(frozen=True)
class RequestStatus:
    """One model call of a transaction as PIPE sees it (``pending``/``resolved``/``failed``)."""

    request_id: RequestId
    model_cid: str
    mode: str
    state: str
    optimistic: str | None = None
    """OPTIMISTIC requests the registry records: ``pending`` (challengeable until
    ``challenge_deadline``), ``final`` or ``challenged``; ``None`` otherwise."""
    challenge_deadline: int | None = None


@dataclass(frozen=True)
class InferenceStatus:
    """``neuro_getInferenceStatus``: ``parked``, ``dispatched``, ``ready``, ``included`` or
    ``dropped`` (then ``reason`` says why)."""

    status: str
    requests: tuple[RequestStatus, ...] = ()
    reason: str | None = None
    block_number: int | None = None


@dataclass(frozen=True)
class VerifiedInference:
    """What a checked proof establishes: this output, signed by ``sprinter``, is committed
    by block ``block_number`` (hash ``block_hash``) as leaf ``index`` of ``leaf_count``.
    ``admission`` says why the signer was admissible, when the light client proved it from
    the registry (``RollupClient.verify_inference``); empty otherwise."""

    receipt: InferenceReceipt
    output: ModelOutput
    sprinter: Address
    block_number: int
    block_hash: Hash32
    inference_root: Hash32
    index: int = 0
    leaf_count: int = 1
    branch: tuple[Hash32, ...] = ()
    admission: str = ""

    @property
    def request_id(self) -> RequestId:
        return self.receipt.request_id

    @property
    def model_cid(self) -> str:
        return str(self.receipt.model_cid)

    @property
    def mode(self) -> InferenceMode:
        return InferenceMode(self.receipt.mode)

    def arrays(self) -> dict[str, np.ndarray]:
        """The output tensors as numpy arrays (floats as float64)."""
        return model_output_to_arrays(self.output)


# --- requests -----------------------------------------------------------------------------


def block_param(block: int | str) -> str:
    """A block number or tag as JSON-RPC wants it."""
    if isinstance(block, int):
        if block < 0:
            raise ValueError(f"block number {block} is negative")
        return hex(block)
    return block


def hash_param(value: str | bytes) -> str:
    """A 32-byte hash (tx hash or request id) as 0x-hex; ``ValueError`` otherwise."""
    raw = bytes(value) if isinstance(value, bytes | bytearray) else _hex_bytes(str(value))
    if len(raw) != 32:
        raise ValueError(f"expected a 32-byte hash, got {len(raw)} bytes")
    return "0x" + raw.hex()


def rpc_result(method: str, reply: Any) -> Any:
    """The ``result`` of a JSON-RPC reply, or the typed error it carries."""
    if not isinstance(reply, dict):
        raise RollupError(f"{method}: the node sent {type(reply).__name__}, not a JSON-RPC reply")
    error = reply.get("error")
    if error is not None:
        code = int(error.get("code", 0)) if isinstance(error, dict) else 0
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        hint = ""
        if code == -32601:
            hint = "this node does not serve that method: is it a Neuro Stack node?"
        raise RpcError(
            f"{method}: {message}", code=code, data=error.get("data") if code else None, hint=hint
        )
    if "result" not in reply:
        raise RollupError(f"{method}: the reply has neither result nor error")
    return reply["result"]


# --- results ------------------------------------------------------------------------------


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith(("0x", "0X")) else int(str(value))


_Parsed = TypeVar("_Parsed")


def _parsed(method: str, build: Callable[[Any], _Parsed], raw: Any) -> _Parsed:
    try:
        return build(raw)
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise RollupError(f"{method}: unexpected answer from the node ({exc!r})") from None


def parse_chain_info(raw: Mapping[str, Any]) -> ChainInfo:
    def build(r: Mapping[str, Any]) -> ChainInfo:
        token = r["token"]
        return ChainInfo(
            chain_id=_quantity(r["chainId"]),
            name=str(r["name"]),
            token_name=str(token["name"]),
            token_symbol=str(token["symbol"]),
            token_decimals=int(token["decimals"]),
            block_time=float(r["blockTime"]),
        )

    return _parsed("neuro_chainInfo", build, raw)


def header_hash(fields: Mapping[str, str]) -> bytes:
    """keccak256 of the RLP of a header given as ``eth_getBlockBy*`` JSON."""
    items: list[bytes] = []
    for position, (name, kind) in enumerate(HEADER_FIELDS):
        if name not in fields:
            if position >= OPTIONAL_FROM:
                break
            raise KeyError(name)
        value = fields[name]
        if kind == "q":
            number = _quantity(value)
            items.append(number.to_bytes((number.bit_length() + 7) // 8, "big"))
        else:
            items.append(_hex_bytes(value))
    return keccak(rlp.encode(items))


def parse_header(raw: Mapping[str, Any]) -> BlockHeader:
    def build(r: Mapping[str, Any]) -> BlockHeader:
        return BlockHeader(
            number=_quantity(r["number"]),
            hash=Hash32(_hex_bytes(r["hash"])),
            timestamp=_quantity(r["timestamp"]),
            extra_data=_hex_bytes(r["extraData"]),
            fields={k: r[k] for k, _ in HEADER_FIELDS if k in r},
        )

    return _parsed("eth_getBlockByNumber", build, raw)


def parse_witness(raw: Mapping[str, Any]) -> InferenceWitness:
    def build(r: Mapping[str, Any]) -> InferenceWitness:
        return InferenceWitness(
            block_number=_quantity(r["blockNumber"]),
            block_hash=Hash32(_hex_bytes(r["blockHash"])),
            inference_root=Hash32(_hex_bytes(r["inferenceRoot"])),
            receipts=tuple(receipt_from_json(dict(x)) for x in r["receipts"]),
        )

    return _parsed("neuro_getInferenceWitness", build, raw)


def parse_proof(raw: Mapping[str, Any]) -> InferenceProof:
    def build(r: Mapping[str, Any]) -> InferenceProof:
        return InferenceProof(
            receipt=receipt_from_json(dict(r["receipt"])),
            index=int(r["index"]),
            leaf_count=int(r["leafCount"]),
            branch=tuple(Hash32(_hex_bytes(h)) for h in r["branch"]),
            inference_root=Hash32(_hex_bytes(r["inferenceRoot"])),
            block_number=_quantity(r["blockNumber"]),
            block_hash=Hash32(_hex_bytes(r["blockHash"])) if r.get("blockHash") else None,
            leaf=Hash32(_hex_bytes(r["leaf"])) if r.get("leaf") else None,
        )

    return _parsed("neuro_getInferenceProof", build, raw)


def parse_status(raw: Mapping[str, Any]) -> InferenceStatus:
    def build(r: Mapping[str, Any]) -> InferenceStatus:
        requests = tuple(
            RequestStatus(
                request_id=RequestId(_hex_bytes(q["requestId"])),
                model_cid=str(q["modelCID"]),
                mode=str(q["mode"]),
                state=str(q.get("state", "")),
                optimistic=str(q["optimistic"]["state"]) if "optimistic" in q else None,
                challenge_deadline=(
                    _quantity(q["optimistic"]["challengeDeadline"]) if "optimistic" in q else None
                ),
            )
            for q in r.get("requests", [])
        )
        number = r.get("blockNumber")
        return InferenceStatus(
            status=str(r["status"]),
            requests=requests,
            reason=r.get("reason"),
            block_number=None if number is None else _quantity(number),
        )

    return _parsed("neuro_getInferenceStatus", build, raw)
