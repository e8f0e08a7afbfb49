"""Verifying a transaction's model calls the way a light client does: one adapter.

:func:`verify_tx` is the only place the explorer asks ``hub_client`` for a verdict
(:func:`sdk_verdict`). Today that is ``RollupClient.inference_proof`` +
``verify_inference_proof`` (header hash, receipt hashes and signature, Merkle branch to
the header's ``inferenceRoot``); when ``RollupClient.verify_inference(tx_hash,
trusted_block_hash=...)`` (signer admissibility through ``eth_getProof``) lands, only
:func:`sdk_verdict` changes.

Next to the verdict the page lists each check with its own outcome, computed from the
same public building blocks (``BlockHeader.hash_matches``, ``hub_client.verify_receipt``,
``neurostack.protocol``'s Merkle functions, the registry layout), so a failure says which
step broke. A call is "verified" only if the SDK's verdict and every check pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub_client import (
    BlockHeader,
    HubError,
    InferenceProof,
    RollupClient,
    VerifiedInference,
    verify_receipt,
)
from neurostack.protocol.merkle import verify_merkle_branch
from neurostack.protocol.receipts import receipt_leaf

from .node import NodeReader
from .registry import read_admission


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class CallVerification:
    """The outcome for one model call (one request id) of a transaction."""

    request_id: str
    verified: bool
    reason: str | None
    checks: tuple[Check, ...] = ()
    proof: InferenceProof | None = None
    header: BlockHeader | None = None
    checked: VerifiedInference | None = None


@dataclass(frozen=True)
class TxVerification:
    calls: tuple[CallVerification, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return bool(self.calls) and all(c.verified for c in self.calls)


def sdk_verdict(
    rollup: RollupClient, proof: InferenceProof, header: BlockHeader
) -> VerifiedInference:
    """The SDK's light-client check (the one line to switch to ``verify_inference``)."""
    return rollup.verify_inference_proof(proof, header)


def verify_tx(
    reader: NodeReader,
    tx_hash: str,
    calls: list[dict[str, str]],
    *,
    tx_block_hash: str | None = None,
    trusted_block_hash: str | None = None,
) -> TxVerification:
    """Verify every call of a mined transaction (``calls``: its receipt's ``inferences``)."""
    return TxVerification(
        tuple(
            verify_call(reader, call, tx_block_hash=tx_block_hash, trusted=trusted_block_hash)
            for call in calls
        )
    )


def verify_call(
    reader: NodeReader, call: dict[str, str], *, tx_block_hash: str | None, trusted: str | None
) -> CallVerification:
    rollup = reader.rollup
    request_id = str(call["requestId"])
    try:
        proof = rollup.inference_proof(request_id)
        header = rollup.header(proof.block_number)
    except (HubError, ValueError) as exc:
        return CallVerification(request_id, False, f"no proof from the node: {exc}")
    checks = list(_checks(reader, call, proof, header, tx_block_hash, trusted))
    checked: VerifiedInference | None = None
    reason = next((f"{c.name}: {c.detail}" for c in checks if not c.ok), None)
    try:
        checked = sdk_verdict(rollup, proof, header)
    except HubError as exc:
        reason = reason or str(exc)
    return CallVerification(
        request_id, checked is not None and reason is None, reason, tuple(checks), proof, header,
        checked,
    )  # fmt: skip


def _checks(
    reader: NodeReader,
    call: dict[str, str],
    proof: InferenceProof,
    header: BlockHeader,
    tx_block_hash: str | None,
    trusted: str | None,
) -> list[Check]:
    receipt = proof.receipt
    out = [
        Check(
            "the block header hashes to its block hash",
            header.hash_matches(),
            f"block {header.number} is {header.hash_hex}",
        )
    ]
    expected_block = trusted or tx_block_hash
    if expected_block is not None:
        same = header.hash_hex == expected_block.lower()
        out.append(
            Check(
                "the proof is for the transaction's block"
                if trusted is None
                else "the block is the trusted block",
                same,
                header.hash_hex if same else f"expected {expected_block}, got {header.hash_hex}",
            )
        )
    answered = (
        "0x" + bytes(receipt.request_id).hex() == call["requestId"].lower()
        and receipt.model_cid == call["modelCID"]
        and receipt.mode.name == call["mode"]
    )
    out.append(
        Check(
            "the receipt answers this call (request id, model, mode)",
            answered,
            f"receipt for {receipt.model_cid} in mode {receipt.mode.name}",
        )
    )
    try:
        verify_receipt(receipt, chain_id=reader.rollup.chain_id(), now=header.timestamp)
        out.append(Check("the receipt's hashes and sprinter signature", True, "valid"))
    except HubError as exc:
        out.append(Check("the receipt's hashes and sprinter signature", False, str(exc)))
    branch_ok = verify_merkle_branch(
        receipt_leaf(receipt), list(proof.branch), proof.index, proof.inference_root,
        proof.leaf_count,
    )  # fmt: skip
    out.append(
        Check(
            "the Merkle branch leads from the receipt to inferenceRoot",
            branch_ok,
            f"leaf {proof.index} of {proof.leaf_count}",
        )
    )
    out.append(
        Check(
            "inferenceRoot is the header's extraData",
            header.extra_data == bytes(proof.inference_root),
            f"0x{bytes(proof.inference_root).hex()}",
        )
    )
    sprinter = "0x" + bytes(receipt.sprinter).hex()
    parent = max(header.number - 1, 0)
    try:
        admission = read_admission(reader, sprinter, parent)
        admissible = admission.admissible(receipt.mode.name, header.timestamp)
        detail = f"{sprinter} in the registry of block {parent} (eth_getStorageAt)"
    except HubError as exc:
        admissible, detail = False, f"registry unreadable: {exc}"
    out.append(Check(f"the signer is an admitted {receipt.mode.name} sprinter", admissible, detail))
    return out
