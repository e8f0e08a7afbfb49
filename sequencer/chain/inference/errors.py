"""Exceptions of the inference part of the state transition (``sequencer.chain.inference``).

Tree, classified by what the caller should do (op-node style)::

    InferenceError(SequencerError)          root
    ├── BlockInvalidInference(TransactionDeferred)   the block (or the builder's candidate) is invalid:
    │   │                                   a builder takes the tx out and parks it again,
    │   │                                   a follower rejects the block
    │   ├── MissingInferenceReceipt         the witness has no receipt for a call's request id
    │   ├── InvalidInferenceReceipt(ValueError)   the receipt fails a check (``reason`` names it)
    │   └── UnpaidInferenceOutput           the call has too little gas left to pay for the
    │                                       output bytes its receipt would put in the witness
    ├── InferencePending(TransactionDeferred)   simulation halted at an unresolved request
    │                                       (PIPE: dispatch ``request`` and re-simulate later)
    ├── InvalidAttestation(ValueError)      a TEE attestation document is rejected
    └── MissingInferenceEnvironment(TransactionDeferred)   an execution without a block
                                            environment (py-evm's own import path) reached
                                            a Neuro precompile: the tx is kept out, not fatal

None of these subclasses py-evm's ``VMError`` on purpose: a ``VMError`` would be swallowed by
the computation and become a revert the calling contract can catch, while a missing or
invalid receipt must invalidate the whole block (DESIGN.md section 6). Both kinds that stop
a transaction subclass ``sequencer.errors.TransactionDeferred``, so the block builder reverts
the transaction's effects and keeps it pending, as PIPE needs. Catchable failures
(a mode the chain does not accept, an unregistered model) are ordinary reverts with an
``Error(string)`` reason instead and never reach Python callers as exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import SequencerError, TransactionDeferred

if TYPE_CHECKING:
    from .calls import InferenceRequest


class InferenceError(SequencerError):
    """Root of every error raised by ``sequencer.chain.inference``."""


class BlockInvalidInference(InferenceError, TransactionDeferred):
    """Executing the transaction needs an inference result the block cannot justify."""


class MissingInferenceReceipt(BlockInvalidInference):
    """No receipt in the block's witness for the request a contract made."""

    def __init__(self, request: InferenceRequest) -> None:
        self.request = request
        super().__init__(
            f"no inference receipt in the block witness for request 0x{request.request_id.hex()} "
            f"(model {request.model_cid}, mode {request.mode.name}); the block is invalid — "
            "a builder must park the transaction until a sprinter answers it"
        )


class InvalidInferenceReceipt(BlockInvalidInference, ValueError):
    """The witness receipt for a call fails verification; ``reason`` says which check."""

    def __init__(self, request_id: bytes, reason: str) -> None:
        self.request_id = request_id
        self.reason = reason
        super().__init__(
            f"inference receipt for request 0x{request_id.hex()} is invalid: {reason}; "
            "the block is invalid — drop this receipt and ask another sprinter"
        )


class UnpaidInferenceOutput(BlockInvalidInference):
    """A call's remaining gas does not cover its receipt's output bytes: the receipt may not
    enter the witness unpaid, so the transaction cannot be included (raise its gas limit)."""

    def __init__(self, request: InferenceRequest, size: int, gas: int) -> None:
        self.request = request
        self.size = size
        self.gas = gas
        super().__init__(
            f"out of gas: the model output of request 0x{request.request_id.hex()} is {size} "
            f"bytes and costs {gas} gas, more than the call has left; raise the gas limit"
        )


class InferencePending(InferenceError, TransactionDeferred):
    """Simulation stopped at the first call whose result is not yet known.

    ``request`` is what the PIPE dispatches to the hub; no placeholder output reached the
    contract, so the simulated state must be thrown away.
    """

    def __init__(self, request: InferenceRequest) -> None:
        self.request = request
        super().__init__(
            f"inference request 0x{request.request_id.hex()} (model {request.model_cid}, "
            f"mode {request.mode.name}) is pending; re-simulate once its receipt is known"
        )


class InvalidAttestation(InferenceError, ValueError):
    """A TEE attestation document failed verification; the message says why."""


class MissingInferenceEnvironment(InferenceError, TransactionDeferred):
    """The VM state has no block environment (an execution outside ``sequencer.chain``'s
    builder, state transition and calls), so a transaction calling a Neuro precompile is kept
    out of the block."""
