"""The Neuro fork: py-evm's Prague VM with an extendable precompile map and a block environment.

Extension points (documented in docs/chain.md):

- ``EXTRA_PRECOMPILES``: a module-level dict ``{Address: precompile}`` that other modules
  of ``sequencer.chain`` populate at import time (the inference precompile at ``0x…F4``).
  ``NeuroComputation`` looks precompiles up in it before Prague's own map, and py-evm's
  EIP-2929 warm-address check sees the added addresses too.
- ``TRANSACTION_HOOKS``: objects with ``begin(state, tx)`` and ``finalize(state, tx,
  computation)``, called by ``NeuroTransactionExecutor`` when a transaction starts and after
  py-evm's own finalisation (gas refund, tip): inference fee settlement lives there, so
  block building, import and ``eth_call`` all apply it.
- ``NeuroState.environment``: the per-block environment object (for example the block's
  inference witness). The block builder and the call executor hand one to the VM with
  ``vm.environment = ...``; a precompile reads it as ``computation.state.environment``.
  It lives on the VM/state instance, so two blocks or calls running in different threads
  never see each other's environment.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from typing import Any, Protocol

from eth.abc import ComputationAPI, MessageAPI, SignedTransactionAPI, StateAPI
from eth.vm.base import VM
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES, PragueComputation
from eth.vm.forks.prague.state import PragueState, PragueTransactionExecutor
from eth_typing import Address

Precompile = Callable[[ComputationAPI], ComputationAPI]

EXTRA_PRECOMPILES: dict[Address, Precompile] = {}
"""Precompiles added by this project, keyed by 20-byte address. Populated at import time."""


class NeuroComputation(PragueComputation):
    """Prague's computation; its precompile map is Prague's overlaid with ``EXTRA_PRECOMPILES``."""

    # A ChainMap, not a merged copy: additions made after this class is created are seen.
    _precompiles = ChainMap(EXTRA_PRECOMPILES, PRAGUE_PRECOMPILES)  # type: ignore[assignment]  # noqa: RUF012


class TransactionHook(Protocol):
    """Sees every transaction a Neuro state executes (see ``TRANSACTION_HOOKS``)."""

    def begin(self, state: StateAPI, transaction: SignedTransactionAPI) -> None: ...

    def finalize(
        self, state: StateAPI, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> None: ...


TRANSACTION_HOOKS: list[TransactionHook] = []
"""Hooks run around each transaction, in registration order. Populated at import time."""


class NeuroTransactionExecutor(PragueTransactionExecutor):
    """Prague's executor, calling ``TRANSACTION_HOOKS`` at the start and end of a transaction."""

    def build_evm_message(self, transaction: SignedTransactionAPI) -> MessageAPI:
        for hook in TRANSACTION_HOOKS:
            hook.begin(self.vm_state, transaction)
        return super().build_evm_message(transaction)

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        computation = super().finalize_computation(transaction, computation)
        for hook in TRANSACTION_HOOKS:
            hook.finalize(self.vm_state, transaction, computation)
        return computation


class NeuroState(PragueState):
    """Prague's state with a slot for the per-block environment."""

    computation_class = NeuroComputation
    transaction_executor_class = NeuroTransactionExecutor
    environment: Any = None


class NeuroVM(PragueVM):
    """The chain's VM: Prague rules, Neuro precompiles, an explicit block environment."""

    fork = "prague"  # consensus rules are Prague's; tools that look at the name see that
    _state_class = NeuroState
    environment: Any = None

    @property
    def state(self) -> StateAPI:
        # py-evm builds (and in import_block re-builds) the state lazily; attach the
        # environment whichever path created it.
        state = VM.state.fget(self)  # type: ignore[attr-defined]
        if getattr(state, "environment", None) is not self.environment:
            state.environment = self.environment  # type: ignore[attr-defined]
        return state
