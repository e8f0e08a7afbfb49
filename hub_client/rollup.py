"""``RollupClient``: the SDK's side of a rollup's ``neuro_*`` JSON-RPC, and proof checking.

A transaction whose contract calls a model is included with a signed inference receipt;
the block header's ``extraData`` is the Merkle root (``inferenceRoot``) of the block's
receipts, so the block hash commits to every model output the block used. This client
fetches those receipts and proofs and checks them on the caller's machine::

    from hub_client import RollupClient
    with RollupClient("http://127.0.0.1:8545") as rollup:
        rollup.wait_for_inference(tx_hash)                # included, or InferenceDropped
        proof = rollup.inference_proof(tx_hash)           # receipt + Merkle branch
        checked = rollup.verify_inference_proof(proof, proof.block_number)
        print(checked.arrays(), checked.sprinter)

:meth:`RollupClient.verify_inference_proof` trusts nothing the node said about the
proof: it re-checks the receipt (hashes, request id, signature; expiry at the block's
timestamp) with the same code the chain runs (``neurostack.protocol``), recomputes the
receipt's leaf, walks the branch to the root, compares the root with the header's
``extraData`` and the header's fields with its hash. What it cannot know alone is
whether the signer was an admissible sprinter: pass ``expected_signers`` for that.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from neurostack.protocol.receipts import InferenceReceipt, receipt_leaf

from ._rpcwire import (
    BlockHeader,
    ChainInfo,
    InferenceProof,
    InferenceStatus,
    InferenceWitness,
    VerifiedInference,
    block_param,
    hash_param,
    parse_chain_info,
    parse_header,
    parse_proof,
    parse_status,
    parse_witness,
    rpc_result,
)
from .dapp import DappMixin  # send, deploy, call: hub_client/dapp.py
from .errors import (
    InferenceDropped,
    InferenceNotFound,
    ProofInvalid,
    RollupError,
    RollupUnavailable,
)
from .verify import verify_receipt

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_RPC_TIMEOUT = 30.0
POLL_INTERVAL = 0.1  # seconds between status polls in wait_for_inference

__all__ = [
    "DEFAULT_RPC_URL",
    "BlockHeader",
    "ChainInfo",
    "InferenceProof",
    "InferenceStatus",
    "InferenceWitness",
    "RollupClient",
    "VerifiedInference",
]


class RollupClient(DappMixin):
    """Talks to a Neuro Stack rollup node's JSON-RPC (``neuro_*`` and a few ``eth_*``)."""

    def __init__(
        self,
        rpc_url: str = DEFAULT_RPC_URL,
        *,
        timeout: float = DEFAULT_RPC_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._chain_id: int | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call; returns ``result`` or raises ``RpcError``/``RollupUnavailable``."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        try:
            response = self._http.post(self.rpc_url, json=body)
        except httpx.TransportError as exc:
            raise RollupUnavailable(
                f"cannot reach the rollup node at {self.rpc_url}: {exc}",
                hint="is `neurostack up` running, and is this its RPC URL?",
            ) from None
        try:
            reply = response.json()
        except ValueError:
            raise RollupError(
                f"{self.rpc_url} answered HTTP {response.status_code} without JSON-RPC",
                hint="check that the URL is the node's JSON-RPC endpoint",
            ) from None
        return rpc_result(method, reply)

    # --- reads ----------------------------------------------------------------------------

    def chain_info(self) -> ChainInfo:
        """``neuro_chainInfo``: chain id, name, native token and block time."""
        info = parse_chain_info(self.request("neuro_chainInfo"))
        self._chain_id = info.chain_id
        return info

    def chain_id(self) -> int:
        """The chain id (asked once, then remembered)."""
        if self._chain_id is None:
            self.chain_info()
        assert self._chain_id is not None
        return self._chain_id

    def header(self, block: int | str = "latest") -> BlockHeader:
        """The header of ``block`` (number or tag); ``InferenceNotFound`` if there is none."""
        raw = self.request("eth_getBlockByNumber", block_param(block), False)
        if raw is None:
            raise InferenceNotFound(f"block {block} does not exist on this chain (yet)")
        return parse_header(raw)

    def inference_witness(self, block: int | str = "latest") -> InferenceWitness:
        """``neuro_getInferenceWitness``: every receipt block ``block`` used, in order."""
        raw = self.request("neuro_getInferenceWitness", block_param(block))
        if raw is None:
            raise InferenceNotFound(f"block {block} does not exist on this chain (yet)")
        return parse_witness(raw)

    def inference_proof(self, key: str | bytes) -> InferenceProof:
        """``neuro_getInferenceProof``: the receipt for a tx hash (its first model call) or a
        request id, with its Merkle branch. ``InferenceNotFound`` until it is included."""
        raw = self.request("neuro_getInferenceProof", hash_param(key))
        if raw is None:
            raise InferenceNotFound(
                f"no inference receipt for {hash_param(key)} in a block",
                hint="the transaction may still be pending (see inference_status), or made "
                "no model call",
            )
        return parse_proof(raw)

    def inference_status(self, tx_hash: str | bytes) -> InferenceStatus:
        """``neuro_getInferenceStatus``: parked, dispatched, ready, included or dropped."""
        raw = self.request("neuro_getInferenceStatus", hash_param(tx_hash))
        if raw is None:
            raise InferenceNotFound(
                f"the node knows no transaction {hash_param(tx_hash)}",
                hint="was it sent to this node?",
            )
        return parse_status(raw)

    def wait_for_inference(self, tx_hash: str | bytes, timeout: float = 60.0) -> InferenceStatus:
        """Poll until the transaction is included (returns its status) or dropped
        (raises ``InferenceDropped`` with the node's reason); ``TimeoutError`` otherwise."""
        end = time.monotonic() + timeout
        while True:
            status = self.inference_status(tx_hash)
            if status.status == "included":
                return status
            if status.status == "dropped":
                reason = status.reason or "no reason given"
                raise InferenceDropped(
                    f"transaction {hash_param(tx_hash)} was dropped: {reason}", reason=reason
                )
            if time.monotonic() > end:
                raise TimeoutError(
                    f"transaction {hash_param(tx_hash)} is still {status.status} after "
                    f"{timeout:g} s"
                )
            time.sleep(POLL_INTERVAL)

    # --- verification ---------------------------------------------------------------------

    def verify_inference_proof(
        self,
        proof: InferenceProof | Mapping[str, Any],
        header: BlockHeader | int | None = None,
        *,
        expected_signers: Iterable[str | bytes] | None = None,
        chain_id: int | None = None,
    ) -> VerifiedInference:
        """Check ``proof`` against a block header; return what it proves.

        ``header`` is a :class:`BlockHeader` the caller already trusts, or a block number
        to fetch (default: the proof's block). ``chain_id`` defaults to the node's.
        Raises ``ProofInvalid`` (a ``ReceiptInvalid``) when anything does not hold.
        """
        if not isinstance(proof, InferenceProof):
            proof = parse_proof(dict(proof))
        if header is None:
            header = proof.block_number
        if not isinstance(header, BlockHeader):
            header = self.header(header)
        return check_inference_proof(
            proof,
            header,
            chain_id=self.chain_id() if chain_id is None else chain_id,
            expected_signers=expected_signers,
        )


def check_inference_proof(
    proof: InferenceProof,
    header: BlockHeader,
    *,
    chain_id: int,
    expected_signers: Iterable[str | bytes] | None = None,
) -> VerifiedInference:
    """The offline part of :meth:`RollupClient.verify_inference_proof` (no I/O)."""
    from neurostack.protocol.merkle import verify_merkle_branch
    from neurostack.protocol.tensors import decode_model_output

    if not header.hash_matches():
        raise ProofInvalid(
            f"block {header.number}'s fields do not hash to its hash {header.hash_hex}",
            hint="the node sent an altered header; do not trust this proof",
        )
    receipt: InferenceReceipt = proof.receipt
    # The receipt was valid when the block was sealed; judge its expiry at that moment.
    signer = verify_receipt(
        receipt, chain_id=chain_id, expected_signers=expected_signers, now=header.timestamp
    )
    leaf = receipt_leaf(receipt)
    if proof.leaf is not None and proof.leaf != leaf:
        raise ProofInvalid("the proof's leaf is not the hash of its receipt")
    if not verify_merkle_branch(
        leaf, list(proof.branch), proof.index, proof.inference_root, proof.leaf_count
    ):
        raise ProofInvalid(
            f"the Merkle branch does not lead from the receipt to the root "
            f"0x{proof.inference_root.hex()}",
            hint="do not trust this output",
        )
    if header.extra_data != proof.inference_root:
        raise ProofInvalid(
            f"block {header.number}'s extraData 0x{header.extra_data.hex()} is not the proof's "
            f"inference root 0x{proof.inference_root.hex()}",
            hint="the receipt is not committed by this block",
        )
    if proof.block_hash is not None and proof.block_hash != header.hash:
        raise ProofInvalid(
            f"the proof names block 0x{proof.block_hash.hex()}, the header is {header.hash_hex}"
        )
    return VerifiedInference(
        receipt=receipt,
        output=decode_model_output(receipt.output),
        sprinter=signer,
        block_number=header.number,
        block_hash=header.hash,
        inference_root=proof.inference_root,
    )
