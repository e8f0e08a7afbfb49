"""PIPE detection: run one transaction in ``SIMULATE`` mode and report what it needs.

``simulate_transaction`` applies a transaction on a state (normally the pending state of
the next block), always reverts the state afterwards, and says whether the transaction ran
to completion with the receipts already known, stopped at an unresolved request (dispatch
it to the hub, then simulate again: "stitch"), or hit a receipt that fails verification
(drop that receipt, ask another sprinter). No placeholder output reaches contract code:
execution halts inside the precompile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth.abc import SignedTransactionAPI, StateAPI

from neurostack.protocol.receipts import InferenceReceipt

from .environment import (
    ExecutionMode,
    InferenceEnvironment,
    InferenceRecorder,
    InferenceRequest,
    RecordingRecorder,
    begin_transaction,
)
from .errors import InferencePending, InvalidInferenceReceipt


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
    state: StateAPI,
    transaction: SignedTransactionAPI,
    env: InferenceEnvironment,
    recorder: InferenceRecorder | None = None,
) -> Simulation:
    """Simulate ``transaction`` on ``state`` with the receipts in ``env.witness``.

    The state is left exactly as it was. ``recorder`` defaults to a
    :class:`~.environment.RecordingRecorder` (halt at the first unknown request).
    """
    env.mode = ExecutionMode.SIMULATE
    env.recorder = recorder or RecordingRecorder()
    previous = getattr(state, "environment", None)
    state.environment = env  # type: ignore[attr-defined]
    used_before = len(env.used)
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(transaction)
        receipts = tuple(list(env.used.values())[used_before:])
        return Simulation(receipts=receipts, success=computation.is_success)
    except InferencePending as pending:
        return Simulation(pending=pending.request)
    except InvalidInferenceReceipt as invalid:
        return Simulation(invalid=invalid)
    finally:
        state.revert(snapshot)
        state.environment = previous  # type: ignore[attr-defined]
        begin_transaction(env)
