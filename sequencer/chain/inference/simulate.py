"""PIPE detection: run one transaction in ``SIMULATE`` mode and report what it needs.

``simulate_transaction`` applies a transaction on a state (normally the pending state of
the next block), always reverts the state afterwards, and says whether the transaction ran
to completion with the receipts already known, stopped at an unresolved request (dispatch
it to the hub, then simulate again: "stitch"), or hit a receipt that fails verification
(drop that receipt, ask another sprinter). No placeholder output reaches contract code:
execution halts inside the precompile.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from eth.abc import SignedTransactionAPI, StateAPI

from neurostack.protocol.receipts import InferenceReceipt

from ..environment import BlockEnvironment, ExecutionMode, fork_state
from .calls import InferenceRequest, RecordingRecorder
from .errors import InferencePending, InvalidInferenceReceipt
from .outputs import InferenceOutputs, witness_of


@dataclass(frozen=True)
class Simulation:
    """The outcome of simulating one transaction."""

    pending: InferenceRequest | None = None
    """The first request without a receipt; ``None`` when nothing is pending."""
    invalid: InvalidInferenceReceipt | None = None
    """A known receipt that fails verification (its ``request_id`` and ``reason``)."""
    receipts: tuple[InferenceReceipt, ...] = field(default=())
    """Receipts a completed run used, in order of first use: its witness entries."""
    success: bool = False
    """Whether a completed run succeeded (a reverted transaction is still includable)."""

    @property
    def ready(self) -> bool:
        """All of the transaction's requests are resolved: it may go into a block."""
        return self.pending is None and self.invalid is None


def simulate_transaction(
    state: StateAPI, transaction: SignedTransactionAPI, env: BlockEnvironment
) -> Simulation:
    """Simulate ``transaction`` on ``state`` with the receipts in ``env.witness``.

    Runs in ``SIMULATE`` mode with ``env.recorder`` (a :class:`~.calls.RecordingRecorder`
    when it has none: halt at the first unknown request). The state is left exactly as it
    was.
    """
    env = replace(env, mode=ExecutionMode.SIMULATE, recorder=env.recorder or RecordingRecorder())
    fork = fork_state(state)
    previous = (fork.environment, fork.outputs)
    outputs = InferenceOutputs()
    fork.environment, fork.outputs = env, outputs
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(transaction)
        return Simulation(receipts=witness_of(outputs), success=computation.is_success)
    except InferencePending as pending:
        return Simulation(pending=pending.request)
    except InvalidInferenceReceipt as invalid:
        return Simulation(invalid=invalid)
    finally:
        state.revert(snapshot)
        fork.environment, fork.outputs = previous
