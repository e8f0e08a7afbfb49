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
5. the signer is admissible for the mode per the registry of the parent block
   (``neurostack.protocol.admission.signer_problem``, the rule light clients run too):
   VANILLA — an active sprinter; TEE — a key admitted with an attestation whose
   measurement is approved and not revoked, attested at most ``TEE_ATTESTATION_TTL``
   seconds before the block; ZK and OPTIMISTIC — not supported by this node yet.
"""

from __future__ import annotations

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.errors import InvalidReceipt, InvalidTensor
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, check_receipt
from neurostack.protocol.tensors import decode_model_output
from neurostack.protocol.types import Address

from .constants import MAX_OUTPUT_BYTES
from .environment import InferenceRequest
from .errors import InvalidInferenceReceipt
from .registry import ModelEntry, RegistryView

SUPPORTED_MODES = frozenset({InferenceMode.VANILLA, InferenceMode.TEE})
"""Modes whose receipts this node can verify; a chain's policy may only narrow them."""


def verify_receipt(
    receipt: InferenceReceipt,
    request: InferenceRequest,
    *,
    registry: RegistryView,
    model: ModelEntry | None,
    now: int,
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
    problem = signer_problem(signer, request.mode, registry=registry, now=now)
    if problem is not None:
        raise fail(problem)
    return signer

