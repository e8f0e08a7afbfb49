"""The light client's vocabulary: named checks, their outcomes, and the checks shared by
``verify_inference`` and ``RollupClient.verify_inference_proof`` (a header against its
hash; a receipt and its Merkle branch against a header). See :mod:`hub_client.light`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, Protocol

from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeyValidationError
from eth_utils import to_checksum_address
from rlp.exceptions import RLPException

from neurostack.protocol.errors import InvalidReceipt, InvalidTensor
from neurostack.protocol.merkle import verify_merkle_branch
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import check_receipt, receipt_leaf
from neurostack.protocol.tensors import ModelOutput, decode_model_output
from neurostack.protocol.types import Address, Hash32

from ._rpcwire import BlockHeader, InferenceProof, parse_header
from .errors import RollupError, VerificationFailed

# Malformed data from a node surfaces as one of these while it is decoded or checked.
MALFORMED = (KeyError, TypeError, ValueError, IndexError, RLPException, BadSignature,
             KeyValidationError)  # fmt: skip


class CheckName(StrEnum):
    """The checks of :func:`verify_inference`, in the order they run."""

    HEADER = "header"
    ANCHOR = "anchor"
    TRANSACTION = "transaction"
    STATUS = "status"
    RECEIPT = "receipt"
    MERKLE = "merkle"
    PARENT = "parent"
    REGISTRY = "registry"
    ADMISSION = "admission"
    ZK = "zk"


class Outcome(StrEnum):
    """How a check ended: ``skipped`` only for ``anchor`` without a trusted block hash."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``detail`` says what was proven or why it failed."""

    name: CheckName
    outcome: Outcome
    detail: str


class Rpc(Protocol):
    """What the light client needs from a JSON-RPC client (``RollupClient.request``)."""

    def request(self, method: str, *params: Any) -> Any: ...


class Recorder:
    """Collects check outcomes; :meth:`fail` records the failure and builds its exception."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def passed(self, name: CheckName, detail: str) -> None:
        self.checks.append(Check(name, Outcome.PASSED, detail))

    def skipped(self, name: CheckName, detail: str) -> None:
        self.checks.append(Check(name, Outcome.SKIPPED, detail))

    def fail(self, name: CheckName, reason: str) -> NoReturn:
        self.checks.append(Check(name, Outcome.FAILED, reason))
        raise VerificationFailed(name.value, reason, checks=tuple(self.checks))


def hex_of(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def short(value: bytes) -> str:
    text = hex_of(value)
    return f"{text[:10]}…{text[-8:]}"


# --- pieces shared with RollupClient.verify_inference_proof -------------------------------


def verified_header(
    raw: Any, expected_hash: bytes, record: Recorder, name: CheckName
) -> BlockHeader:
    """A header from the node's JSON whose fields hash to ``expected_hash``."""
    if not isinstance(raw, Mapping):
        record.fail(name, f"the node serves no block {hex_of(expected_hash)}")
    try:
        header = parse_header(raw)
        matches = header.hash_matches()
    except (RollupError, *MALFORMED) as exc:
        record.fail(
            name, f"the node's header of block {hex_of(expected_hash)} is malformed ({exc})"
        )
    if not matches:
        record.fail(name, f"block {header.number}'s fields do not hash to {header.hash_hex}")
    if bytes(header.hash) != bytes(expected_hash):
        record.fail(
            name, f"the node sent block {header.hash_hex} where {hex_of(expected_hash)} was asked"
        )
    return header


def committed_receipt(
    proof: InferenceProof,
    header: BlockHeader,
    record: Recorder,
    *,
    chain_id: int | None,
    request_id: bytes | None = None,
) -> tuple[Address, ModelOutput]:
    """Check ``proof``'s receipt and its Merkle branch to ``header`` (already hash-checked);
    returns the signer and the decoded output. Records ``receipt`` and ``merkle``."""
    receipt = proof.receipt
    rid = hex_of(receipt.request_id)
    if request_id is not None and bytes(receipt.request_id) != bytes(request_id):
        record.fail(
            CheckName.RECEIPT,
            f"asked for the receipt of request {hex_of(request_id)}, the node sent request {rid}'s",
        )
    try:
        # The receipt was valid when the block was sealed: judge its expiry at that moment.
        signer = check_receipt(receipt, chain_id=chain_id, now=header.timestamp)
        output = decode_model_output(receipt.output)
    except (InvalidReceipt, InvalidTensor) as exc:
        record.fail(CheckName.RECEIPT, f"request {rid}: {exc}")
    record.passed(
        CheckName.RECEIPT,
        f"request {rid}: model {receipt.model_cid}, {InferenceMode(receipt.mode).name}, "
        f"signed by {to_checksum_address(signer)}",
    )
    try:
        leaf = receipt_leaf(receipt)
    except InvalidReceipt as exc:
        record.fail(CheckName.MERKLE, f"request {rid}: no leaf for the receipt ({exc})")
    root = header.extra_data
    if bytes(proof.inference_root) != bytes(root):
        record.fail(
            CheckName.MERKLE,
            f"the proof's inferenceRoot {hex_of(proof.inference_root)} is not block "
            f"{header.number}'s extraData {hex_of(root)}",
        )
    if proof.leaf is not None and bytes(proof.leaf) != bytes(leaf):
        record.fail(
            CheckName.MERKLE, f"the proof's leaf is not the hash of request {rid}'s receipt"
        )
    if proof.block_hash is not None and bytes(proof.block_hash) != bytes(header.hash):
        record.fail(
            CheckName.MERKLE,
            f"the proof of request {rid} names block {hex_of(proof.block_hash)}, "
            f"not {header.hash_hex}",
        )
    if not verify_merkle_branch(
        leaf, list(proof.branch), proof.index, Hash32(root), proof.leaf_count
    ):
        record.fail(
            CheckName.MERKLE,
            f"the Merkle branch of request {rid} does not lead to block {header.number}'s "
            f"inferenceRoot {hex_of(root)}",
        )
    record.passed(
        CheckName.MERKLE,
        f"request {rid}: leaf {proof.index} of {proof.leaf_count} under inferenceRoot {hex_of(root)}",
    )
    return signer, output
