"""Exceptions of ``neurostack.protocol``.

Tree::

    ProtocolError                      root: anything the protocol layer rejects
    ├── InvalidTensor(ValueError)      bad tensor data: ABI bytes, JSON, numpy dtype/shape/range
    ├── InvalidReceipt(ValueError)     malformed receipt or one that fails a check
    ├── InvalidCID(ValueError)         not a CIDv1 raw sha2-256 content id
    ├── InvalidJob(ValueError)         a Celery job/result message that does not parse or match
    └── InvalidProof(ValueError)       a Merkle-Patricia (state, storage, transaction) proof that fails

Messages say what was wrong and what to do, so callers (hub HTTP API, JSON-RPC, CLI)
can show them to users unchanged.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Root of every error raised by ``neurostack.protocol``."""


class InvalidTensor(ProtocolError, ValueError):
    """Tensor data (ABI, JSON or numpy) that cannot be encoded, decoded or converted."""


class InvalidReceipt(ProtocolError, ValueError):
    """An inference receipt that is malformed or fails verification."""


class InvalidCID(ProtocolError, ValueError):
    """A string that is not a model content id (CIDv1, raw, sha2-256)."""


class InvalidJob(ProtocolError, ValueError):
    """A job or job-result message that is malformed or inconsistent."""


class InvalidProof(ProtocolError, ValueError):
    """A Merkle-Patricia proof that does not prove what it claims against its root."""
