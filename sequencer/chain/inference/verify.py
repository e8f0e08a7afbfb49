"""Receipt verification: may this receipt answer this call in this block?

``verify_receipt`` is the state transition's check of DESIGN.md section 6. It raises
:class:`~.errors.InvalidInferenceReceipt` (the block is invalid) naming the first failed
check, in this order:

1. the receipt answers the call: same request id, chain id, model CID, mode, input hash;
2. the model hash is the registry's (registered models) and the digest inside the CID
   (every model: the CID is the sha256 of the model file, like the model hash);
3. the signed digest (domain ``neurostack.inference.v1``, chain id, request id, model
   hash, input hash, output hash, mode, expiry) recovers to the receipt's sprinter, the
   output bytes hash to the output hash, and the block timestamp is ``<= expiry``
   (``neurostack.protocol.receipts.check_receipt``);
4. the output is at most ``MAX_OUTPUT_BYTES`` and a well-formed ``ModelOutput``;
5. the mode's own check, dispatched through the fork's map of :class:`ReceiptVerifier`
   (``NeuroState.receipt_verifiers``, default :data:`RECEIPT_VERIFIERS`): VANILLA and TEE run the rule light
   clients run too (``neurostack.protocol.admission.signer_problem``): VANILLA — the
   signer is an active sprinter; TEE — a key admitted with an attestation whose
   measurement is approved and not revoked, attested at most ``TEE_ATTESTATION_TTL``
   seconds before the block; ZK — the receipt's proof verifies under the model's
   registered circuit for the call's input and the receipt's output (:mod:`.zk`);
   OPTIMISTIC — bonded at least ``minBond`` and no recorded result of the request with
   another output (:func:`optimistic_problem`). A mode without a verifier in the map is
   "not supported by this node yet". The registry is the parent block's.

A fork that verifies more modes (ezkl proofs, optimistic bonds) subclasses ``NeuroState``
with a larger map; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.errors import InvalidReceipt, InvalidTensor
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, check_receipt
from neurostack.protocol.registry import optimistic_result_of
from neurostack.protocol.tensors import decode_model_output
from neurostack.protocol.types import Address, Hash32

from .calls import InferenceRequest
from .constants import MAX_OUTPUT_BYTES
from .errors import InvalidInferenceReceipt
from .registry import ModelEntry, RegistryView


@dataclass(frozen=True)
class ReceiptCheck:
    """What a mode's verifier judges: a receipt whose common checks passed."""

    receipt: InferenceReceipt
    request: InferenceRequest
    signer: Address
    registry: RegistryView
    model: ModelEntry | None
    now: int
    zk_srs: Mapping[Hash32, bytes] = field(default_factory=lambda: MappingProxyType({}))
    """Mode ZK: the chain spec's SRS files by sha256 (``InferencePolicy.zk_srs``)."""


class ReceiptVerifier(Protocol):
    """The mode-specific part of verification: ``None`` if admissible, else why not."""

    def __call__(self, check: ReceiptCheck) -> str | None: ...


def vanilla_signer_problem(check: ReceiptCheck) -> str | None:
    """VANILLA: the signer must be an active sprinter."""
    return signer_problem(
        check.signer, InferenceMode.VANILLA, registry=check.registry, now=check.now
    )


def tee_signer_problem(check: ReceiptCheck) -> str | None:
    """TEE: an attested key, approved measurement, attestation fresh at block time."""
    return signer_problem(check.signer, InferenceMode.TEE, registry=check.registry, now=check.now)


def zk_problem(check: ReceiptCheck) -> str | None:
    """ZK: the proof verifies under the model's registered circuit (:mod:`.zk`)."""
    from .zk import zk_proof_problem

    return zk_proof_problem(check)


RECEIPT_VERIFIERS: Mapping[InferenceMode, ReceiptVerifier] = MappingProxyType(
    {
        InferenceMode.VANILLA: vanilla_signer_problem,
        InferenceMode.TEE: tee_signer_problem,
        InferenceMode.ZK: zk_problem,
    }
)
"""The modes this fork verifies, and how (the Neuro fork's default map)."""


def verify_receipt(
    receipt: InferenceReceipt,
    request: InferenceRequest,
    *,
    registry: RegistryView,
    model: ModelEntry | None,
    now: int,
    verifiers: Mapping[InferenceMode, ReceiptVerifier] = RECEIPT_VERIFIERS,
    zk_srs: Mapping[Hash32, bytes] = MappingProxyType({}),
) -> Address:
    """Check ``receipt`` against the call ``request`` in a block at time ``now``; the signer."""

    def fail(reason: str) -> InvalidInferenceReceipt:
        return InvalidInferenceReceipt(request.request_id, reason)

    if receipt.model_cid != request.model_cid:
        raise fail(f"it is for model {receipt.model_cid}, the call asked {request.model_cid}")
    if len(receipt.output) > MAX_OUTPUT_BYTES:
        raise fail(f"its output has {len(receipt.output)} bytes, more than {MAX_OUTPUT_BYTES}")
    if receipt.mode != request.mode:
        raise fail(
            f"it is a {InferenceMode(receipt.mode).name} receipt for a {request.mode.name} call"
        )
    try:
        signer = check_receipt(
            receipt,
            chain_id=request.chain_id,
            request_id=request.request_id,
            model_hash=model.model_hash if model is not None else None,
            input_hash=request.input_hash,
            now=now,
        )
    except InvalidReceipt as exc:
        raise fail(str(exc)) from None
    try:
        decode_model_output(receipt.output)
    except InvalidTensor as exc:
        raise fail(f"its output is not an ABI-encoded ModelOutput: {exc}") from None
    verifier = verifiers.get(request.mode)
    if verifier is None:
        raise fail(f"{request.mode.name} receipts are not supported by this node yet")
    problem = verifier(ReceiptCheck(receipt, request, signer, registry, model, now, zk_srs))
    if problem is not None:
        raise fail(problem)
    return signer


# --- OPTIMISTIC (issue 9): a bonded signature, and no contradiction of a recorded result -----


def optimistic_problem(check: ReceiptCheck) -> str | None:
    """OPTIMISTIC: the signer bonds at least ``minBond`` (and is admitted as for VANILLA),
    and the request has no recorded result with another output. A recorded result stays
    until its challenge window closes (and for ever once final); a challenged one records
    the counter-proof's output. So a later receipt can neither contradict a final result
    nor replace a pending one and let its sprinter escape a challenge."""
    problem = signer_problem(
        check.signer, InferenceMode.OPTIMISTIC, registry=check.registry, now=check.now
    )
    if problem is not None:
        return problem
    recorded = optimistic_result_of(check.registry, check.request.request_id)
    if recorded is not None and recorded.output_hash != check.receipt.output_hash:
        return (
            f"the registry records output 0x{bytes(recorded.output_hash).hex()} for this "
            f"request (block {recorded.block_number}, {recorded.status.name.lower()}); a "
            "receipt with another output contradicts it (challenge the result instead)"
        )
    return None


RECEIPT_VERIFIERS = MappingProxyType(
    {**RECEIPT_VERIFIERS, InferenceMode.OPTIMISTIC: optimistic_problem}
)
