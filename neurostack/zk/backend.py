"""The proof-system interface: what Neuro Stack needs from a ZK backend.

A backend makes a model's circuit once (:meth:`ProofSystem.setup`), proves one inference
(:meth:`ProofSystem.prove`) and checks a proof against public instances
(:meth:`ProofSystem.verify_instances`). Everything around those three calls is
backend-independent and lives in this package: the circuit settings document
(``circuit.py``), the fixed-point rule for public inputs (``fixedpoint.py``) and the
checks a verifier runs before the backend sees a proof (``verifier.py``). A second
backend implements this protocol and registers under its name in :func:`backend_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..protocol.tensors import ModelOutput
from .circuit import CircuitSettings
from .errors import ProofSystemUnavailable

StepCallback = Callable[[str, float | None], None]
"""Called with ``(step, None)`` when a setup step starts and ``(step, seconds)`` when it ends."""

SETUP_STEPS = ("settings", "calibrate", "compile", "srs", "keys", "test proof")
"""The setup steps every backend reports, in order."""


@dataclass(frozen=True, slots=True)
class SetupOptions:
    """How to make a circuit. ``scale``: fixed-point bits of inputs and parameters;
    ``max_logrows``: the largest circuit (2^rows) calibration may choose;
    ``calibration_samples``/``calibration_seed``: the synthetic calibration data."""

    scale: int = 13
    max_logrows: int = 17
    calibration_samples: int = 32
    calibration_seed: int = 0


@dataclass(frozen=True, slots=True)
class SrsSource:
    """Where structured reference strings come from: ``directory`` holds one file per
    size; with ``generate`` a missing one is made locally (a *development* SRS whose
    secret is known to this machine: never for production); without it the directory must
    hold ceremony files."""

    directory: Path
    generate: bool = True


@dataclass(frozen=True, slots=True)
class SetupResult:
    """A finished setup: the circuit settings document and the artefact files in the
    setup's work directory, with the seconds each step took."""

    settings: bytes
    verifying_key: Path
    proving_key: Path
    circuit: Path
    srs: Path
    steps: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class ProverFiles:
    """What a prover reads: the compiled circuit, the proving key and the SRS."""

    circuit: Path
    proving_key: Path
    srs: Path


@dataclass(frozen=True, slots=True)
class Proof:
    """One proof and the output it proves (already the receipt's canonical encoding)."""

    proof: bytes
    output: ModelOutput
    witness_seconds: float
    prove_seconds: float


class ProofSystem(Protocol):
    """A ZK proof system for ONNX models (see the module docstring)."""

    name: str

    @property
    def version(self) -> str: ...

    def setup(
        self,
        model: Path,
        workdir: Path,
        *,
        srs: SrsSource,
        options: SetupOptions,
        on_step: StepCallback | None = None,
    ) -> SetupResult:
        """Make the circuit, keys and settings of ``model`` inside ``workdir``."""
        ...

    def prove(self, files: ProverFiles, settings: CircuitSettings, input_abi: bytes) -> Proof:
        """Compute the witness and a proof for one ABI-encoded ``ModelInput``."""
        ...

    def verify_instances(
        self,
        proof: bytes,
        settings: CircuitSettings,
        verifying_key: bytes,
        srs: bytes,
        instances: list[int],
    ) -> None:
        """Raise :class:`~neurostack.zk.errors.ProofRejected` unless ``proof`` verifies
        with these public ``instances`` (signed integers, in circuit order)."""
        ...


def backend_for(name: str) -> ProofSystem:
    """The backend called ``name`` (the ``backend`` field of circuit settings)."""
    if name == "ezkl":
        from .ezkl_backend import EzklBackend

        return EzklBackend.shared()
    raise ProofSystemUnavailable(
        f"no proof-system backend {name!r} in this installation; this version knows 'ezkl'"
    )


__all__ = [
    "SETUP_STEPS",
    "Proof",
    "ProofSystem",
    "ProverFiles",
    "SetupOptions",
    "SetupResult",
    "SrsSource",
    "StepCallback",
    "backend_for",
]
