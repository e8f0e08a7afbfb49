"""The Neuro fork: py-evm's Prague VM with the inference precompiles, fee settlement and a
block environment, as subclasses (py-evm's own extension mechanism).

- :class:`NeuroComputation` — Prague's precompile map merged, when the class is defined,
  with ``0x…F4`` (``runModelInference``), the registry system contract at
  ``0x4E53…0001`` and ``0x…F5``, reserved for OpenGradient's price-history precompile
  (every call reverts with a clear reason, :mod:`.inference.opengradient`). py-evm's
  EIP-2929 warm-address set is built from the same map.
- :class:`NeuroTransactionExecutor` — Prague's executor; it opens each transaction in the
  block's inference accumulator and, after py-evm's own finalisation (refund, tip),
  settles the transaction's inference fees (:mod:`.inference.fees`). Building, validating
  and calls all execute through it.
- :class:`NeuroState` — carries the per-block :class:`~.environment.BlockEnvironment`
  and its :class:`~.inference.outputs.InferenceOutputs`, and the fork's verification
  rules: ``receipt_verifiers`` (mode → verifier, :mod:`.inference.verify`) and the TEE
  ``attestation_verifier``.
- :class:`NeuroVM` — hands its ``environment`` and ``outputs`` to whatever state py-evm
  builds. They live on the VM instance, so two blocks or calls on different threads
  never see each other's.

Nothing here is a registry filled at import time: a fork with more precompiles, modes or
another attestation verifier is a further subclass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from eth.abc import ComputationAPI, MessageAPI, SignedTransactionAPI, StateAPI
from eth.vm.base import VM
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES, PragueComputation
from eth.vm.forks.prague.state import PragueState, PragueTransactionExecutor

from neurostack.protocol.modes import InferenceMode

from .environment import BlockEnvironment, fork_state
from .inference.attestation import AttestationVerifier, DevAttestationVerifier
from .inference.constants import (
    INFERENCE_PRECOMPILE_ADDRESS,
    PRICE_HISTORY_ADDRESS,
    REGISTRY_ADDRESS,
)
from .inference.fees import settle_transaction
from .inference.opengradient import run_price_history
from .inference.outputs import InferenceOutputs, begin_transaction
from .inference.precompile import run_model_inference
from .inference.system_contract import run_registry
from .inference.verify import RECEIPT_VERIFIERS, ReceiptVerifier

NEURO_PRECOMPILES = {
    **PRAGUE_PRECOMPILES,
    INFERENCE_PRECOMPILE_ADDRESS: run_model_inference,
    REGISTRY_ADDRESS: run_registry,
    PRICE_HISTORY_ADDRESS: run_price_history,
}
"""Prague's precompiles, the fork's two system addresses and the reserved ``0x…F5``."""


class NeuroComputation(PragueComputation):
    """Prague's computation with the Neuro precompiles."""

    _precompiles = NEURO_PRECOMPILES  # type: ignore[assignment]


class NeuroTransactionExecutor(PragueTransactionExecutor):
    """Prague's executor, opening and settling each transaction's inference calls."""

    def build_evm_message(self, transaction: SignedTransactionAPI) -> MessageAPI:
        outputs = fork_state(self.vm_state).outputs
        if outputs is not None:
            begin_transaction(outputs)
        return super().build_evm_message(transaction)

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        computation = super().finalize_computation(transaction, computation)
        outputs = fork_state(self.vm_state).outputs
        if outputs is not None:
            settle_transaction(self.vm_state, transaction, computation, outputs)
        return computation


class NeuroState(PragueState):
    """Prague's state with the block environment and the fork's verification rules."""

    computation_class = NeuroComputation
    transaction_executor_class = NeuroTransactionExecutor
    environment: BlockEnvironment | None = None
    outputs: InferenceOutputs | None = None
    receipt_verifiers: ClassVar[Mapping[InferenceMode, ReceiptVerifier]] = RECEIPT_VERIFIERS
    attestation_verifier: ClassVar[AttestationVerifier] = DevAttestationVerifier()


class NeuroVM(PragueVM):
    """The chain's VM: Prague rules, Neuro precompiles, an explicit block environment."""

    fork = "prague"  # consensus rules are Prague's; tools that look at the name see that
    _state_class = NeuroState
    environment: BlockEnvironment | None = None
    outputs: InferenceOutputs | None = None

    @property
    def state(self) -> StateAPI:
        # py-evm builds (and in import_block re-builds) the state lazily; attach the
        # environment whichever path created it.
        state: Any = VM.state.fget(self)  # type: ignore[attr-defined]
        if state.environment is not self.environment or state.outputs is not self.outputs:
            state.environment = self.environment
            state.outputs = self.outputs
        return state


def attestation_verifier_of(vm_class: type[NeuroVM]) -> AttestationVerifier:
    """The attestation verifier of a fork (genesis checks its TEE keys with it)."""
    return cast(type[NeuroState], vm_class.get_state_class()).attestation_verifier
