"""``verify``: the one check of a ZK inference, as the chain's state transition runs it.

Deterministic: no clock, no network, no randomness; the only I/O is the backend's
private files (ezkl reads paths). Every argument is bytes a verifier can hold: the proof
from the receipt, the call's ABI input, the receipt's ABI output, and the model's
verifying key, circuit settings and SRS, which a verifier obtains by hash (the registry
records the settings hash; the settings carry the sha256 of the verifying key and SRS).
"""

from __future__ import annotations

import hashlib

from .backend import backend_for
from .circuit import CircuitSettings, parse_settings, public_inputs
from .errors import InvalidCircuitSettings, ProofRejected


def verify(
    proof: bytes,
    verifying_key: bytes,
    settings: bytes,
    input_abi: bytes,
    output_abi: bytes,
    *,
    srs: bytes,
    settings_hash: bytes | None = None,
) -> None:
    """Raise :class:`~neurostack.zk.errors.ProofRejected` unless ``proof`` proves that the
    circuit of ``settings`` maps ``input_abi`` to ``output_abi``.

    Checks, in order (the first failure is the ``reason``): the settings hash (when given:
    the registry's), the settings document, the verifying key's and the SRS's sha256
    against the settings, the proof length, the input and output as public inputs under
    the fixed-point rule (``neurostack.zk.fixedpoint``), then the proof itself with the
    backend's native verifier. ``ProofSystemUnavailable`` means this machine cannot
    verify at all (backend missing or another version), not that the proof is bad.
    """
    if settings_hash is not None and hashlib.sha256(settings).digest() != bytes(settings_hash):
        raise ProofRejected("the circuit settings are not the model's (settings hash mismatch)")
    parsed = _parse(settings)
    if hashlib.sha256(verifying_key).digest() != parsed.verifying_key_sha256:
        raise ProofRejected(
            "the verifying key is not the one these circuit settings were made with "
            "(another model's key, or settings swapped)"
        )
    if hashlib.sha256(srs).digest() != parsed.srs_sha256:
        raise ProofRejected("the SRS is not the one these circuit settings were made with")
    if len(proof) != parsed.proof_bytes:
        raise ProofRejected(
            f"the proof is {len(proof)} bytes; this circuit's proofs are {parsed.proof_bytes}"
        )
    instances = public_inputs(parsed, input_abi, output_abi)
    backend_for(parsed.backend).verify_instances(proof, parsed, verifying_key, srs, instances)


def _parse(settings: bytes) -> CircuitSettings:
    try:
        return parse_settings(settings)
    except InvalidCircuitSettings as exc:
        raise ProofRejected(str(exc)) from None


__all__ = ["verify"]
