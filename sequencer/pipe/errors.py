"""Errors of PIPE, the sequencer's inference pre-execution (``sequencer.pipe``).

Tree::

    PipeError(SequencerError)          root
    └── InferenceUnavailable           eth_call / eth_estimateGas needed a model result and
        │                              could not get one (JSON-RPC -32000); retry later or
        │                              check the hub
        ├── InferenceTimedOut          no sprinter answered within the timeout
        ├── InferenceFailed            the job failed (unknown model, invalid input, no
        │                              backend, every sprinter failing)
        └── InferenceCallsLimited(LimitReached)   too many calls waiting for models, or a
                                       caller past its rate (JSON-RPC -32005)

Parked transactions that cannot be served are not errors raised to anyone: they are
dropped with a reason that ``neuro_getInferenceStatus`` shows. The per-sender parking
limit rejects at admission with ``sequencer.errors.TransactionRejected`` (geth style).
"""

from __future__ import annotations

from ..errors import LimitReached, SequencerError


class PipeError(SequencerError):
    """Root of every error ``sequencer.pipe`` raises on purpose."""


class InferenceUnavailable(PipeError):
    """A read-only call needed an inference result it could not get."""


class InferenceTimedOut(InferenceUnavailable):
    """No result within the call's timeout; the message starts ``inference timed out:``."""


class InferenceFailed(InferenceUnavailable):
    """The job ended without a receipt; the message starts ``inference failed:``."""


class InferenceCallsLimited(InferenceUnavailable, LimitReached):
    """A call that needs a model job passed the node's concurrency cap or its caller's rate;
    the message starts ``limit exceeded:`` and names the setting."""
