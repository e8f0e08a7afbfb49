"""Zero-knowledge proofs of inference (mode ZK): the proof-system interface and its checks.

This package sits between ``neurostack.protocol`` (which it uses) and the components that
prove or verify (``neurostack.hub``, ``hub_client``, later ``sequencer``). The backend
library (ezkl) is imported only when a proof is made or checked.

- :func:`verify` — the verifier's one call (what the state transition runs);
- :class:`CircuitSettings`, :func:`parse_settings`, :func:`public_inputs` — what a proof
  proves and how inputs/outputs become public inputs (``circuit.py``, ``fixedpoint.py``);
- :class:`ProofSystem`, :func:`backend_for` — the backend interface (``backend.py``) with
  the ezkl implementation in ``ezkl_backend.py``.
"""

from .backend import (
    SETUP_STEPS,
    Proof,
    ProofSystem,
    ProverFiles,
    SetupOptions,
    SetupResult,
    SrsSource,
    backend_for,
)
from .circuit import (
    CircuitSettings,
    TensorSignature,
    output_from_fixed,
    parse_settings,
    public_inputs,
    settings_hash,
)
from .errors import (
    CircuitUnsupported,
    InvalidCircuitSettings,
    ProofRejected,
    ProofSystemUnavailable,
    ProvingFailed,
    ZkError,
)
from .verifier import verify

__all__ = [
    "SETUP_STEPS",
    "CircuitSettings",
    "CircuitUnsupported",
    "InvalidCircuitSettings",
    "Proof",
    "ProofRejected",
    "ProofSystem",
    "ProofSystemUnavailable",
    "ProverFiles",
    "ProvingFailed",
    "SetupOptions",
    "SetupResult",
    "SrsSource",
    "TensorSignature",
    "ZkError",
    "backend_for",
    "output_from_fixed",
    "parse_settings",
    "public_inputs",
    "settings_hash",
    "verify",
]
