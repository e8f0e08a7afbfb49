"""Circuit settings: the one document that says what a proof of a model proves.

A model's *circuit settings* are canonical JSON (sorted keys, no spaces) whose sha256 is
the model's **settings hash**::

    {"format": "neurostack.zk.circuit.v1",
     "backend": "ezkl", "backendVersion": "23.0.5",
     "inputs":  [{"name": "x", "dtype": "float32", "shape": [1, 4], "scale": 13}],
     "outputs": [{"name": "y", "dtype": "float32", "shape": [1, 1], "scale": 13}],
     "logrows": 10, "proofBytes": 3072,
     "srsSha256": "0x…", "verifyingKeySha256": "0x…",
     "backendSettings": {…ezkl's settings.json…}}

It binds everything a verifier needs besides the proof: which backend and version, the
tensor names, dtypes, fixed shapes and fixed-point scales (how the call's input and the
receipt's output become public inputs, :func:`public_inputs`), the exact proof length
(Halo2's verifier ignores trailing bytes, so the length is pinned here), and the sha256 of
the structured reference string and of the verifying key, so a verifier holding the
settings hash can check every other artefact it is handed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..protocol.errors import ProtocolError
from ..protocol.tensors import (
    ModelOutput,
    NumberTensor,
    decode_model_input,
    decode_model_output,
    model_input_to_feeds,
)
from .errors import InvalidCircuitSettings, ProofRejected
from .fixedpoint import fixed_to_number, number_to_fixed, quantize

FORMAT = "neurostack.zk.circuit.v1"


@dataclass(frozen=True, slots=True)
class TensorSignature:
    """One circuit input or output: ONNX name, numpy dtype name, fixed shape, 2-adic scale."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    """The parsed circuit settings document (see the module docstring)."""

    backend: str
    backend_version: str
    inputs: tuple[TensorSignature, ...]
    outputs: tuple[TensorSignature, ...]
    logrows: int
    proof_bytes: int
    srs_sha256: bytes
    verifying_key_sha256: bytes
    backend_settings: Mapping[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The canonical JSON encoding (what the settings hash is taken of)."""
        doc = {
            "format": FORMAT,
            "backend": self.backend,
            "backendVersion": self.backend_version,
            "inputs": [_signature_json(t) for t in self.inputs],
            "outputs": [_signature_json(t) for t in self.outputs],
            "logrows": self.logrows,
            "proofBytes": self.proof_bytes,
            "srsSha256": "0x" + self.srs_sha256.hex(),
            "verifyingKeySha256": "0x" + self.verifying_key_sha256.hex(),
            "backendSettings": dict(self.backend_settings),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def settings_hash(settings: bytes) -> bytes:
    """The settings hash: sha256 of the settings bytes."""
    return hashlib.sha256(settings).digest()


def file_sha256(path: Path) -> bytes:
    """The sha256 of a file's bytes (artefacts are named and checked by it)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def _signature_json(t: TensorSignature) -> dict[str, Any]:
    return {"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "scale": t.scale}


def _bad(what: str) -> InvalidCircuitSettings:
    return InvalidCircuitSettings(
        f"circuit settings {what}; use the settings the hub published for the model"
    )


def _int(doc: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(f"field {key!r} must be an integer from {lo} to {hi}")
    return value


def _hash(doc: Mapping[str, Any], key: str) -> bytes:
    value = doc.get(key)
    try:
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) and value[:2] == "0x" else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise _bad(f"field {key!r} must be a 0x-prefixed 32-byte hex hash")
    return raw


def _signatures(doc: Mapping[str, Any], key: str) -> tuple[TensorSignature, ...]:
    items = doc.get(key)
    if not isinstance(items, list) or not items:
        raise _bad(f"field {key!r} must be a non-empty list of tensors")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad(f"field {key!r} holds a tensor that is not an object")
        name, dtype, shape = item.get("name"), item.get("dtype"), item.get("shape")
        if not isinstance(name, str) or not isinstance(dtype, str):
            raise _bad(f"a tensor of {key!r} needs a string name and dtype")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**32 for d in shape
        ):
            raise _bad(f"tensor {name!r} of {key!r} needs a shape of positive integers")
        out.append(TensorSignature(name, dtype, tuple(shape), _int(item, "scale", -64, 64)))
    return tuple(out)


def parse_settings(settings: bytes) -> CircuitSettings:
    """Read circuit settings bytes; :class:`InvalidCircuitSettings` says what is wrong."""
    try:
        doc = json.loads(settings)
    except (ValueError, TypeError):
        raise _bad("are not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(f"are not a {FORMAT} document")
    backend, version, inner = (
        doc.get("backend"),
        doc.get("backendVersion"),
        doc.get("backendSettings"),
    )
    if not isinstance(backend, str) or not isinstance(version, str) or not isinstance(inner, dict):
        raise _bad("need string 'backend' and 'backendVersion' and an object 'backendSettings'")
    return CircuitSettings(
        backend=backend,
        backend_version=version,
        inputs=_signatures(doc, "inputs"),
        outputs=_signatures(doc, "outputs"),
        logrows=_int(doc, "logrows", 1, 28),
        proof_bytes=_int(doc, "proofBytes", 1, 2**24),
        srs_sha256=_hash(doc, "srsSha256"),
        verifying_key_sha256=_hash(doc, "verifyingKeySha256"),
        backend_settings=inner,
    )


# --- public inputs -------------------------------------------------------------------------


def input_fixed(settings: CircuitSettings, input_abi: bytes) -> list[list[int]]:
    """The call's input as the circuit's fixed-point integers, one list per input tensor.

    The ABI input is decoded and converted to each input's dtype and fixed shape with the
    protocol's VANILLA rules (so names, shapes and dtypes are checked there), then
    quantised at the tensor's scale (:func:`~neurostack.zk.fixedpoint.quantize`).
    """
    specs = {t.name: (t.dtype, t.shape) for t in settings.inputs}
    try:
        model_input = decode_model_input(input_abi)
        feeds = model_input_to_feeds(model_input, specs)
    except ProtocolError as exc:
        raise ProofRejected(f"the input does not fit the circuit: {exc}") from None
    out = []
    for t in settings.inputs:
        array = feeds[t.name]
        if array.dtype.kind not in "fiub":
            raise ProofRejected(f"input {t.name!r} is not numeric; circuits take numbers only")
        if tuple(array.shape) != t.shape:
            raise ProofRejected(
                f"input {t.name!r} has shape {list(array.shape)}; this circuit takes "
                f"{list(t.shape)}"
            )
        out.append([quantize(v, t.scale) for v in array.ravel().tolist()])
    return out


def output_fixed(settings: CircuitSettings, output_abi: bytes) -> list[list[int]]:
    """The receipt's output as fixed-point integers; it must be exactly the canonical
    encoding of circuit values (:func:`output_from_fixed`), nothing else."""
    try:
        output = decode_model_output(output_abi)
    except ProtocolError as exc:
        raise ProofRejected(f"the output is not a ModelOutput: {exc}") from None
    if output.strings or output.jsons or output.is_simulation_result:
        raise ProofRejected(
            "the output has string or JSON tensors or is marked a simulation; a circuit "
            "outputs number tensors only"
        )
    names = [t.name for t in output.numbers]
    expected = [t.name for t in settings.outputs]
    if names != expected:
        raise ProofRejected(f"the output tensors are {names}; the circuit outputs {expected}")
    out = []
    for tensor, sig in zip(output.numbers, settings.outputs, strict=True):
        if tuple(tensor.shape) != sig.shape:
            raise ProofRejected(
                f"output {sig.name!r} has shape {list(tensor.shape)}; the circuit's is "
                f"{list(sig.shape)}"
            )
        values = []
        for i, n in enumerate(tensor.values):
            x = number_to_fixed(n, sig.scale)
            if x is None:
                raise ProofRejected(
                    f"output {sig.name!r} element {i} ({n.value}e-{n.decimals}) is not a "
                    f"circuit value at scale {sig.scale} (x·5^{sig.scale} with {sig.scale} "
                    "decimals)"
                )
            values.append(x)
        out.append(values)
    return out


def output_from_fixed(settings: CircuitSettings, values: Sequence[Sequence[int]]) -> ModelOutput:
    """The receipt output for circuit output integers (one list per output tensor)."""
    if len(values) != len(settings.outputs):
        raise ValueError(f"{len(values)} output tensors; the circuit has {len(settings.outputs)}")
    tensors = []
    for sig, xs in zip(settings.outputs, values, strict=True):
        if len(xs) != sig.size:
            raise ValueError(f"output {sig.name!r} has {len(xs)} values, not {sig.size}")
        tensors.append(
            NumberTensor(sig.name, tuple(fixed_to_number(x, sig.scale) for x in xs), sig.shape)
        )
    return ModelOutput(numbers=tuple(tensors))


def public_inputs(settings: CircuitSettings, input_abi: bytes, output_abi: bytes) -> list[int]:
    """The proof's public instances, in circuit order: every input element, then every
    output element (parameters are fixed into the circuit, so none are public)."""
    flat = [x for values in input_fixed(settings, input_abi) for x in values]
    return flat + [x for values in output_fixed(settings, output_abi) for x in values]


__all__ = [
    "FORMAT",
    "CircuitSettings",
    "TensorSignature",
    "file_sha256",
    "input_fixed",
    "output_fixed",
    "output_from_fixed",
    "parse_settings",
    "public_inputs",
    "settings_hash",
]
