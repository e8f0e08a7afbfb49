"""On-chain inference: the ``0x…F4`` precompile, the registry system contract (``0x4E53…0001``), receipt verification.

Importing this package installs it into the Neuro fork (idempotently): the two precompiles
into ``sequencer.chain.fork.EXTRA_PRECOMPILES``, the fee hook into ``TRANSACTION_HOOKS``
and the registry seed into ``sequencer.chain.genesis.GENESIS_HOOKS``.

How a block uses it (see docs/inference.md):

1. ``env = block_environment(policy, parent_state, witness=...)`` and ``vm.environment = env``
   (``BlockHooks.block_environment`` in the node);
2. execute; a transaction whose receipt is missing or invalid raises a
   ``TransactionDeferred`` subclass and is left out; ``SIMULATE`` mode halts at the first
   unknown request with :class:`InferencePending`;
3. ``extra_data(env)`` is the sealed header's ``extraData``; ``block_witness(env)`` the
   receipts to publish; ``env.transactions`` the per-transaction calls and payouts.

PIPE detection: ``simulate_transaction(state, tx, env)`` says whether a transaction is ready,
pending on a request, or holds an invalid receipt, and leaves the state untouched.

Modules: ``constants`` (addresses, gas), ``environment`` (what a block's calls see),
``precompile``, ``verify``, ``registry`` (storage layout), ``system_contract`` (admin ABI),
``attestation`` (TEE verifier interface), ``fees``, ``witness``, ``simulate`` (PIPE),
``replay`` (followers), ``genesis``, ``errors``.
"""

from __future__ import annotations

from ..fork import EXTRA_PRECOMPILES, TRANSACTION_HOOKS
from ..genesis import GENESIS_HOOKS
from .attestation import (
    Attestation,
    AttestationVerifier,
    DevAttestationVerifier,
    make_dev_attestation,
)
from .constants import INFERENCE_PRECOMPILE_ADDRESS, REGISTRY_ADDRESS
from .environment import (
    ExecutionMode,
    InferenceCall,
    InferenceEnvironment,
    InferencePayout,
    InferencePolicy,
    InferenceRecorder,
    InferenceRequest,
    RecordingRecorder,
    TransactionInferences,
    block_environment,
    policy_from_config,
)
from .errors import (
    BlockInvalidInference,
    InferenceError,
    InferencePending,
    InvalidAttestation,
    InvalidInferenceReceipt,
    InvalidInferenceWitness,
    MissingInferenceEnvironment,
    MissingInferenceReceipt,
)
from .fees import InferenceFeeHook
from .genesis import seed_registry
from .precompile import run_model_inference
from .registry import ModelEntry, RegistryView, live_registry, model_of, registry_at
from .replay import replay_block
from .simulate import Simulation, simulate_transaction
from .system_contract import registry_calldata, run_registry
from .verify import verify_receipt
from .witness import (
    InferenceProof,
    block_witness,
    check_block_witness,
    extra_data,
    inference_proof,
    inference_root,
    inferences_to_json,
    proof_to_json,
    verify_inference_proof,
    witness_map,
    witness_to_json,
)

__all__ = [
    "INFERENCE_PRECOMPILE_ADDRESS",
    "REGISTRY_ADDRESS",
    "Attestation",
    "AttestationVerifier",
    "BlockInvalidInference",
    "DevAttestationVerifier",
    "ExecutionMode",
    "InferenceCall",
    "InferenceEnvironment",
    "InferenceError",
    "InferencePayout",
    "InferencePending",
    "InferencePolicy",
    "InferenceProof",
    "InferenceRecorder",
    "InferenceRequest",
    "InvalidAttestation",
    "InvalidInferenceReceipt",
    "InvalidInferenceWitness",
    "MissingInferenceEnvironment",
    "MissingInferenceReceipt",
    "ModelEntry",
    "RecordingRecorder",
    "RegistryView",
    "Simulation",
    "TransactionInferences",
    "block_environment",
    "block_witness",
    "check_block_witness",
    "extra_data",
    "inference_proof",
    "inference_root",
    "inferences_to_json",
    "live_registry",
    "make_dev_attestation",
    "model_of",
    "policy_from_config",
    "proof_to_json",
    "registry_at",
    "registry_calldata",
    "replay_block",
    "run_model_inference",
    "run_registry",
    "simulate_transaction",
    "verify_inference_proof",
    "verify_receipt",
    "witness_map",
    "witness_to_json",
]  # fmt: skip


def _install() -> None:
    EXTRA_PRECOMPILES[INFERENCE_PRECOMPILE_ADDRESS] = run_model_inference
    EXTRA_PRECOMPILES[REGISTRY_ADDRESS] = run_registry
    if not any(isinstance(h, InferenceFeeHook) for h in TRANSACTION_HOOKS):
        TRANSACTION_HOOKS.append(InferenceFeeHook())
    if seed_registry not in GENESIS_HOOKS:
        GENESIS_HOOKS.append(seed_registry)


_install()
