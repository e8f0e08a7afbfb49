"""Local receipt verification: the SDK trusts no output it has not checked itself.

The checks themselves live in ``neurostack.protocol.receipts.check_receipt`` (the same code
the chain runs) and, for mode ZK, ``neurostack.zk.verify`` (the proof, natively, against
the model's verifying key, circuit settings and SRS); this module decides *what to expect*
from the request the client sent and turns their errors into
:class:`~hub_client.errors.ReceiptInvalid`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import to_canonical_address, to_checksum_address

from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, check_receipt, receipt_from_json
from neurostack.protocol.request import input_hash, request_id
from neurostack.protocol.tensors import ModelOutput, encode_model_output
from neurostack.protocol.types import Address, ModelCID, RequestId
from neurostack.zk import ProofRejected, ZkError
from neurostack.zk import verify as verify_proof

from .errors import ReceiptInvalid

#: Receipts from the hub's off-chain API are signed for chain id 0 (docs/protocol.md).
OFFCHAIN_CHAIN_ID = 0


@dataclass(frozen=True)
class SentRequest:
    """What the client sent, kept to recompute every id and hash the receipt must carry."""

    model_cid: ModelCID
    mode: InferenceMode
    input_abi: bytes
    chain_id: int = OFFCHAIN_CHAIN_ID

    @property
    def request_id(self) -> RequestId:
        return request_id(self.chain_id, self.model_cid, int(self.mode), self.input_abi)


@dataclass(frozen=True)
class ZkKeys:
    """What verifying a model's ZK proofs takes: its circuit settings, verifying key and
    SRS (bytes whose sha256 the hub lists on the model; the settings bind the other two)."""

    settings: bytes
    verifying_key: bytes
    srs: bytes


def verify_zk_proof(receipt: InferenceReceipt, input_abi: bytes, keys: ZkKeys) -> None:
    """Check a ZK receipt's proof: the model's circuit maps ``input_abi`` (what was sent)
    to the receipt's output. Raises :class:`ReceiptInvalid` naming the failed check."""
    try:
        verify_proof(
            receipt.proof,
            keys.verifying_key,
            keys.settings,
            input_abi,
            receipt.output,
            srs=keys.srs,
        )
    except ProofRejected as exc:
        raise ReceiptInvalid(
            f"the receipt's ZK proof is invalid: {exc.reason}", hint="do not use its output"
        ) from None
    except ZkError as exc:
        raise ReceiptInvalid(
            f"the receipt's ZK proof cannot be verified here: {exc}",
            hint="install neurostack[zk], or pass verify_receipts=False to accept it unverified",
        ) from None


def _as_receipt(receipt: InferenceReceipt | Mapping[str, Any]) -> InferenceReceipt:
    if isinstance(receipt, InferenceReceipt):
        return receipt
    try:
        return receipt_from_json(dict(receipt))
    except ProtocolError as exc:
        raise ReceiptInvalid(
            f"the receipt is malformed: {exc}", hint="it cannot be verified; do not use it"
        ) from None


def verify_receipt(
    receipt: InferenceReceipt | Mapping[str, Any],
    *,
    chain_id: int | None = None,
    expected_signers: Iterable[str | bytes] | None = None,
    now: int | None = None,
) -> Address:
    """Check a receipt's hashes and signature; return the sprinter address that signed it.

    ``chain_id`` pins the chain the receipt was signed for (0 for the hub's off-chain API);
    ``expected_signers`` restricts who may have signed (addresses, hex or bytes). Expiry is
    checked against ``now`` (default: the current time). Raises :class:`ReceiptInvalid`.
    """
    parsed = _as_receipt(receipt)
    clock = int(time.time()) if now is None else now
    try:
        signer = check_receipt(parsed, chain_id=chain_id, now=clock)
    except ProtocolError as exc:
        raise ReceiptInvalid(f"receipt check failed: {exc}", hint="do not use its output") from None
    return admit_signer(signer, expected_signers)


def admit_signer(signer: Address, expected_signers: Iterable[str | bytes] | None) -> Address:
    """``signer`` if ``expected_signers`` is None or names it; else ``ReceiptInvalid``."""
    if expected_signers is not None:
        allowed = {to_canonical_address(a) for a in expected_signers}
        if bytes(signer) not in allowed:
            raise ReceiptInvalid(
                f"receipt signed by {to_checksum_address(signer)}, which is not an expected signer",
                hint="pass the sprinter addresses you trust in expected_signers",
            )
    return signer


def verify_against_request(
    receipt: InferenceReceipt,
    output: ModelOutput,
    sent: SentRequest | None,
    *,
    expected_signers: Iterable[str | bytes] | None = None,
    now: int | None = None,
    zk_keys: ZkKeys | None = None,
) -> Address:
    """Verify a receipt and that it answers ``sent`` with exactly ``output``.

    Without ``sent`` (a job submitted by another process) only what the receipt carries
    itself can be checked: its hashes, signature, expiry and that ``output`` is its output.
    A ZK receipt's proof is checked too, with ``zk_keys``; it needs ``sent`` (the proof is
    about the input, which the receipt holds only as a hash).
    """
    try:
        signed_output = encode_model_output(output) == receipt.output
    except ProtocolError as exc:
        raise ReceiptInvalid(f"the hub returned an output that cannot be encoded: {exc}") from None
    if not signed_output:
        raise ReceiptInvalid(
            "the output the hub returned differs from the output the receipt signs",
            hint="the response was altered; do not use it",
        )
    if sent is None:
        if receipt.mode == InferenceMode.ZK:
            raise ReceiptInvalid(
                "a ZK receipt's proof can only be checked with the input that was sent",
                hint="get the job's result from the client that submitted it",
            )
        return verify_receipt(receipt, expected_signers=expected_signers, now=now)
    if receipt.model_cid != sent.model_cid or int(receipt.mode) != int(sent.mode):
        raise ReceiptInvalid(
            f"receipt is for model {receipt.model_cid} mode {InferenceMode(receipt.mode).name}, "
            f"not the requested {sent.model_cid} mode {sent.mode.name}",
            hint="the hub answered another request; do not use it",
        )
    clock = int(time.time()) if now is None else now
    try:
        signer = check_receipt(
            receipt,
            chain_id=sent.chain_id,
            request_id=sent.request_id,
            # the model hash needs no expectation here: check_receipt ties it to the CID,
            # and the CID was compared with the one sent above
            input_hash=input_hash(sent.input_abi),
            now=clock,
        )
    except ProtocolError as exc:
        raise ReceiptInvalid(
            f"receipt does not match the request sent: {exc}", hint="do not use its output"
        ) from None
    if receipt.mode == InferenceMode.ZK:
        if zk_keys is None:
            raise ReceiptInvalid(
                "a ZK receipt needs the model's circuit settings, verifying key and SRS",
                hint="the client fetches them from the hub for models with a ZK circuit",
            )
        verify_zk_proof(receipt, sent.input_abi, zk_keys)
    return admit_signer(signer, expected_signers)
