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
whether the signer was an admissible sprinter: pass ``expected_signers`` for that, or use
:meth:`RollupClient.verify_inference`, the light client, which proves the whole transaction
(header, inclusion, receipts, and the signer's admission from registry storage proven with
``eth_getProof``) from a transaction hash alone::

    result = rollup.verify_inference(tx_hash, trusted_block_hash=None)
    for inference in result.inferences:
        print(inference.model_cid, inference.mode.name, inference.arrays(), inference.admission)
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, overload

import httpx
from eth_utils import to_canonical_address

from neurostack.protocol.modes import InferenceMode

from ._checks import CheckName, Recorder, committed_receipt
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
    RollupError,
    RollupUnavailable,
)
from .light import InferenceVerification, verify_admission, verify_inference
from .verify import admit_signer

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_RPC_TIMEOUT = 30.0
POLL_INTERVAL = 0.1  # seconds between status polls in wait_for_inference

__all__ = [
    "DEFAULT_RPC_URL",
    "BlockHeader",
    "ChainInfo",
    "InferenceProof",
    "InferenceStatus",
    "InferenceVerification",
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

    def verify_inference(
        self,
        tx_hash: str | bytes,
        *,
        trusted_block_hash: str | bytes | None = None,
        zk_srs: bytes | str | os.PathLike[str] | None = None,
    ) -> InferenceVerification:
        """Prove, from the node's answers alone, the model calls of transaction ``tx_hash``.

        Checks, in order (``hub_client.light``): the block header against its hash (and
        against ``trusted_block_hash`` when given: ``.anchored``), the transaction under
        ``transactionsRoot``, its receipt under ``receiptsRoot``, each model call's receipt
        (signature, hashes, request id, chain id, expiry) and its Merkle branch to the
        header's ``extraData``, the parent header against ``parentHash``, and the signer's
        admission for the receipt's mode from registry storage proven with ``eth_getProof``
        against the parent's state root. Returns an :class:`InferenceVerification`; raises
        ``VerificationFailed`` (``.check``, ``.reason``) on the first check that fails,
        ``InferenceNotFound`` when there is no mined transaction with model calls.

        A mode-ZK call's proof is verified too (check ``zk``) against the model's registered
        circuit, which needs the chain's SRS: ``zk_srs`` is the file (a path) or its bytes;
        without it a ZK call raises ``ValueError`` saying so.
        """
        if zk_srs is not None and not isinstance(zk_srs, bytes):
            zk_srs = Path(zk_srs).read_bytes()
        return verify_inference(
            self, _hash_bytes(tx_hash), trusted_block_hash=_hash_bytes(trusted_block_hash),
            zk_srs=zk_srs,
        )  # fmt: skip

    def verify_admission(
        self,
        signer: str | bytes,
        mode: InferenceMode | int | str,
        *,
        block: int | str = "latest",
        trusted_block_hash: str | bytes | None = None,
    ) -> str:
        """Prove from block ``block``'s registry storage (``eth_getProof`` against its
        verified state root) that ``signer`` may sign ``mode`` receipts in the next block.
        Returns what admits it; ``VerificationFailed`` with ``check == "admission"`` and the
        chain's reason (revoked, not registered, stale attestation, ...) when it may not."""
        if isinstance(mode, str):
            mode = InferenceMode[mode.upper()]
        return verify_admission(
            self, to_canonical_address(signer), InferenceMode(mode), block=block,
            trusted_block_hash=_hash_bytes(trusted_block_hash),
        )  # fmt: skip

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


@overload
def _hash_bytes(value: None) -> None: ...
@overload
def _hash_bytes(value: str | bytes) -> bytes: ...
def _hash_bytes(value: str | bytes | None) -> bytes | None:
    return None if value is None else bytes.fromhex(hash_param(value)[2:])


def check_inference_proof(
    proof: InferenceProof,
    header: BlockHeader,
    *,
    chain_id: int,
    expected_signers: Iterable[str | bytes] | None = None,
) -> VerifiedInference:
    """The offline part of :meth:`RollupClient.verify_inference_proof` (no I/O): the header's
    fields against its hash, then the light client's ``receipt`` and ``merkle`` checks."""
    record = Recorder()
    if not header.hash_matches():
        record.fail(
            CheckName.HEADER,
            f"block {header.number}'s fields do not hash to its hash {header.hash_hex}",
        )
    signer, output = committed_receipt(proof, header, record, chain_id=chain_id)
    return VerifiedInference(
        receipt=proof.receipt,
        output=output,
        sprinter=admit_signer(signer, expected_signers),
        block_number=header.number,
        block_hash=header.hash,
        inference_root=proof.inference_root,
        index=proof.index,
        leaf_count=proof.leaf_count,
        branch=proof.branch,
    )
