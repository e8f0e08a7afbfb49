"""On-chain inference: the ``0x…F4`` precompile, the registry system contract (``0x4E53…0001``), receipt verification.

The Neuro fork (``sequencer.chain.fork``) merges both precompiles into its precompile map
and settles inference fees in its transaction executor; nothing here installs itself.

How a block uses it (see docs/inference.md):

1. the block's frozen ``BlockEnvironment`` (``sequencer.chain.environment``) carries the
   chain spec, the parent block's registry and the witness (receipts by request id);
2. execute; a transaction whose receipt is missing or invalid raises a
   ``TransactionDeferred`` subclass (the builder leaves it out, the state transition
   rejects the block); ``SIMULATE`` mode halts at the first unknown request with
   :class:`InferencePending`;
3. the block's :class:`InferenceOutputs` holds the receipts used in order of first use
   (``witness_of``; their root is the header's ``extraData``) and each transaction's
   calls and payouts.

PIPE detection: ``simulate_transaction(state, tx, env)`` says whether a transaction is ready,
pending on a request, or holds an invalid receipt, and leaves the state untouched.

Modules: ``constants`` (addresses, gas), ``calls`` (requests, calls, the recorder),
``outputs`` (the accumulator), ``verify`` (mode → verifier), ``registry`` (storage
layout), ``attestation`` (TEE verifier interface), ``fees``, ``witness``, ``errors`` —
re-exported here; and the modules that run inside the fork and read its block
environment, imported from their own module (the package stays below
``sequencer.chain.environment`` so the fork can import it): ``precompile``,
``system_contract`` (admin ABI, ``registry_calldata``), ``simulate`` (PIPE),
``genesis``.
"""

from __future__ import annotations

from .attestation import (
    Attestation,
    AttestationVerifier,
    DevAttestationVerifier,
    make_dev_attestation,
)
from .calls import (
    InferenceCall,
    InferencePayout,
    InferenceRecorder,
    InferenceRequest,
    RecordingRecorder,
    TransactionInferences,
)
from .constants import INFERENCE_PRECOMPILE_ADDRESS, REGISTRY_ADDRESS
from .errors import (
    BlockInvalidInference,
    InferenceError,
    InferencePending,
    InvalidAttestation,
    InvalidInferenceReceipt,
    MissingInferenceEnvironment,
    MissingInferenceReceipt,
    UnpaidInferenceOutput,
)
from .outputs import InferenceOutputs, witness_of
from .registry import ModelEntry, RegistryView, live_registry, model_of, registry_at
from .verify import RECEIPT_VERIFIERS, ReceiptCheck, ReceiptVerifier, verify_receipt
from .witness import (
    InferenceProof,
    inference_proof,
    inference_root,
    inferences_to_json,
    proof_to_json,
    verify_inference_proof,
    witness_to_json,
)

__all__ = [
    "INFERENCE_PRECOMPILE_ADDRESS",
    "RECEIPT_VERIFIERS",
    "REGISTRY_ADDRESS",
    "Attestation",
    "AttestationVerifier",
    "BlockInvalidInference",
    "DevAttestationVerifier",
    "InferenceCall",
    "InferenceError",
    "InferenceOutputs",
    "InferencePayout",
    "InferencePending",
    "InferenceProof",
    "InferenceRecorder",
    "InferenceRequest",
    "InvalidAttestation",
    "InvalidInferenceReceipt",
    "MissingInferenceEnvironment",
    "MissingInferenceReceipt",
    "ModelEntry",
    "ReceiptCheck",
    "ReceiptVerifier",
    "RecordingRecorder",
    "RegistryView",
    "TransactionInferences",
    "UnpaidInferenceOutput",
    "inference_proof",
    "inference_root",
    "inferences_to_json",
    "live_registry",
    "make_dev_attestation",
    "model_of",
    "proof_to_json",
    "registry_at",
    "verify_inference_proof",
    "verify_receipt",
    "witness_of",
    "witness_to_json",
]  # fmt: skip
