"""Exceptions of ``neurostack.zk``.

Tree::

    ZkError                               root: anything the proof-system layer rejects
    ├── ProofRejected(ValueError)         verification failed; ``reason`` says which check
    ├── InvalidCircuitSettings(ValueError) a settings document that does not parse
    ├── CircuitUnsupported(ValueError)    a model that cannot become a circuit (setup)
    ├── ProvingFailed(ValueError)         no proof for this input (out of the calibrated range, ...)
    └── ProofSystemUnavailable(RuntimeError)  the backend library is not installed

Messages say what was wrong and what to do, so the hub, the SDK and the chain can show
them to users unchanged.
"""

from __future__ import annotations


class ZkError(Exception):
    """Root of every error raised by :mod:`neurostack.zk`."""


class ProofRejected(ZkError, ValueError):
    """A proof that does not verify for the given model, input and output."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidCircuitSettings(ZkError, ValueError):
    """Circuit settings bytes that are not a settings document this code reads."""


class CircuitUnsupported(ZkError, ValueError):
    """A model the proof system cannot turn into a circuit (string tensors, unsupported ops)."""


class ProvingFailed(ZkError, ValueError):
    """The witness or the proof could not be made for this input."""


class ProofSystemUnavailable(ZkError, RuntimeError):
    """The proof system's library is not installed in this environment."""
