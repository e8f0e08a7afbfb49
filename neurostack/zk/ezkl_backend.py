"""The ezkl (Halo2/KZG on BN254) backend of :mod:`neurostack.zk`.

ezkl's Python module (pinned in the ``zk`` extra) is imported lazily, so nothing else in
Neuro Stack needs it. Its functions take file paths only (23.0.5: the bytes-based
``verify(proof, vk, settings, srs)``, ``prove`` and ``gen_witness`` of ezkl's
``bindings/universal.rs`` are exported to wasm and iOS, not to Python), so every file
lives in a private directory of this process: artefacts by their sha256 (written once,
atomically; safe across threads), per-call files under unique names, removed after use.

Choices (docs/inference.md "ZK mode"): inputs and outputs public, parameters ``fixed``
(the weights are fixed columns of the circuit, so the verifying key commits to them and a
proof under a model's key is a proof about exactly those weights); range checks by
decomposition in 4 limbs of 9 bits instead of ezkl's default 2 × 14 bits, which keeps a
small model at 2^10 rows without ~17 range-check columns (0.5 s instead of 9 s to prove
the sample MLP here); batch size 1.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..protocol.tensors import encode_model_input, encode_model_output, model_input_from_mapping
from .backend import Proof, ProverFiles, SetupOptions, SetupResult, SrsSource, StepCallback
from .circuit import (
    CircuitSettings,
    TensorSignature,
    file_sha256,
    input_fixed,
    output_from_fixed,
    public_inputs,
)
from .errors import CircuitUnsupported, ProofRejected, ProofSystemUnavailable, ProvingFailed
from .fixedpoint import felt_from_hex, felt_to_hex

DECOMP_BASE = 512
DECOMP_LEGS = 4
T = TypeVar("T")


def load_ezkl() -> ModuleType:
    """The ``ezkl`` module, or :class:`ProofSystemUnavailable` saying how to install it."""
    try:
        import ezkl
    except ImportError:
        raise ProofSystemUnavailable(
            "ZK proofs need ezkl, which is not installed here: pip install 'neurostack[zk]'"
        ) from None
    return ezkl


def _ezkl_message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    for prefix in ("Failed to run verify: ", "Failed to run prove: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0][:300]


def _onnx_signature(model: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, numpy dtype) of the model's inputs and outputs; numbers only."""
    import onnx  # only setup reads ONNX; verifiers need not pay for the import
    from onnx import helper

    proto = onnx.load(str(model), load_external_data=False)
    initializers = {i.name for i in proto.graph.initializer}

    def describe(values: Any, skip: set[str]) -> list[tuple[str, str]]:
        out = []
        for v in values:
            if v.name in skip:
                continue
            elem = v.type.tensor_type.elem_type
            if elem == onnx.TensorProto.STRING:
                raise CircuitUnsupported(
                    f"tensor {v.name!r} holds strings; a ZK circuit takes and returns numbers "
                    "only (export the model without string labels)"
                )
            out.append((v.name, str(helper.tensor_dtype_to_np_dtype(elem))))
        return out

    return describe(proto.graph.input, initializers), describe(proto.graph.output, set())


class EzklBackend:
    """:class:`~neurostack.zk.backend.ProofSystem` over ezkl's Python module."""

    name = "ezkl"
    _shared: ClassVar[EzklBackend | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> EzklBackend:
        """One backend per process (its artefact directory is shared by every caller)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    @property
    def version(self) -> str:
        return str(load_ezkl().__version__)

    # -- private files ----------------------------------------------------------------

    def _private_dir(self) -> Path:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="neurostack-zk-"))
                atexit.register(shutil.rmtree, self._dir, True)
            return self._dir

    def _artifact(self, content: bytes, suffix: str) -> Path:
        """``content`` as a file named by its sha256 (written once, atomically)."""
        path = self._private_dir() / (hashlib.sha256(content).hexdigest() + suffix)
        if not path.exists():
            tmp = path.with_name(f".{uuid.uuid4().hex}.part")
            tmp.write_bytes(content)
            os.replace(tmp, path)
        return path

    @contextmanager
    def _scratch(self) -> Iterator[Path]:
        """A directory for one call's files, removed afterwards."""
        path = Path(tempfile.mkdtemp(dir=self._private_dir(), prefix="call-"))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    # -- verify -----------------------------------------------------------------------

    def verify_instances(
        self,
        proof: bytes,
        settings: CircuitSettings,
        verifying_key: bytes,
        srs: bytes,
        instances: list[int],
    ) -> None:
        ezkl = load_ezkl()
        if settings.backend_version != ezkl.__version__:
            raise ProofSystemUnavailable(
                f"these circuit settings are for ezkl {settings.backend_version}, but ezkl "
                f"{ezkl.__version__} is installed; install the version the circuit was made with"
            )
        settings_path = self._artifact(
            json.dumps(dict(settings.backend_settings)).encode(), ".settings.json"
        )
        vk_path = self._artifact(verifying_key, ".vk")
        srs_path = self._artifact(srs, ".srs")
        snark = {
            "protocol": None,
            "instances": [[felt_to_hex(x) for x in instances]],
            "proof": list(proof),
            "transcript_type": "EVM",
        }
        with self._scratch() as scratch:
            proof_path = scratch / "proof.json"
            proof_path.write_text(json.dumps(snark))
            try:
                ok = ezkl.verify(str(proof_path), str(settings_path), str(vk_path), str(srs_path))
            except Exception as exc:  # noqa: BLE001 - pyo3 raises RuntimeError/ValueError/...
                raise ProofRejected(
                    "the proof does not verify for this input and output under this verifying "
                    f"key ({_ezkl_message(exc)})"
                ) from None
        if ok is not True:
            raise ProofRejected("the proof does not verify (ezkl.verify returned false)")

    # -- prove ------------------------------------------------------------------------

    def _prove_raw(
        self, files: ProverFiles, settings: CircuitSettings, input_abi: bytes
    ) -> tuple[bytes, list[list[int]], float, float]:
        ezkl = load_ezkl()
        fixed = input_fixed(settings, input_abi)
        # ezkl quantises its JSON floats again; x / 2^s is exact in f64 (|x| < 2^53), so
        # it gets back exactly the integers of the protocol's rule, whatever its rounding.
        data = {
            "input_data": [
                [x / 2.0**sig.scale for x in xs]
                for xs, sig in zip(fixed, settings.inputs, strict=True)
            ]
        }
        with self._scratch() as scratch:
            (scratch / "input.json").write_text(json.dumps(data))
            started = time.perf_counter()
            try:
                witness = ezkl.gen_witness(
                    str(scratch / "input.json"), str(files.circuit), str(scratch / "witness.json")
                )
            except Exception as exc:  # noqa: BLE001
                raise ProvingFailed(f"the circuit cannot take this input: {_ezkl_message(exc)}")
            witness_seconds = time.perf_counter() - started
            got = [[felt_from_hex(h) for h in xs] for xs in witness["inputs"]]
            if got != fixed:
                raise ProvingFailed(
                    "ezkl quantised the input differently from the protocol's rule; "
                    "this ezkl version is not supported"
                )
            outputs = [[felt_from_hex(h) for h in xs] for xs in witness["outputs"]]
            started = time.perf_counter()
            try:
                ezkl.prove(
                    str(scratch / "witness.json"),
                    str(files.circuit),
                    str(files.proving_key),
                    str(scratch / "proof.json"),
                    str(files.srs),
                )
                snark = json.loads((scratch / "proof.json").read_text())
            except Exception as exc:  # noqa: BLE001
                raise ProvingFailed(f"ezkl could not prove this input: {_ezkl_message(exc)}")
            prove_seconds = time.perf_counter() - started
        return bytes(snark["proof"]), outputs, witness_seconds, prove_seconds

    def prove(self, files: ProverFiles, settings: CircuitSettings, input_abi: bytes) -> Proof:
        raw, outputs, witness_s, prove_s = self._prove_raw(files, settings, input_abi)
        if len(raw) != settings.proof_bytes:
            raise ProvingFailed(
                f"ezkl made a {len(raw)}-byte proof; this circuit's proofs are "
                f"{settings.proof_bytes} bytes"
            )
        return Proof(raw, output_from_fixed(settings, outputs), witness_s, prove_s)

    # -- setup ------------------------------------------------------------------------

    def setup(
        self,
        model: Path,
        workdir: Path,
        *,
        srs: SrsSource,
        options: SetupOptions,
        on_step: StepCallback | None = None,
    ) -> SetupResult:
        ezkl = load_ezkl()
        workdir.mkdir(parents=True, exist_ok=True)
        steps: list[tuple[str, float]] = []

        def step(name: str, action: Callable[[], T]) -> T:
            if on_step:
                on_step(name, None)
            started = time.perf_counter()
            result = action()
            seconds = time.perf_counter() - started
            steps.append((name, seconds))
            if on_step:
                on_step(name, seconds)
            return result

        inputs, outputs = _onnx_signature(model)
        paths = {
            name: workdir / file
            for name, file in (
                ("settings", "settings.json"),
                ("data", "calibration.json"),
                ("circuit", "model.compiled"),
                ("vk", "vk.key"),
                ("pk", "pk.key"),
            )
        }
        step("settings", lambda: self._gen_settings(ezkl, model, paths["settings"], options))
        step("calibrate", lambda: self._calibrate(ezkl, model, paths, options))
        step(
            "compile",
            lambda: _call(ezkl.compile_circuit, model, paths["circuit"], paths["settings"]),
        )
        backend_settings = json.loads(paths["settings"].read_text())
        logrows = int(backend_settings["run_args"]["logrows"])
        srs_path = step("srs", lambda: self._srs(ezkl, srs, logrows))
        step(
            "keys",
            lambda: _call(ezkl.setup, paths["circuit"], paths["vk"], paths["pk"], srs_path),
        )
        shapes = [tuple(int(d) for d in s) for s in backend_settings["model_instance_shapes"]]
        draft = CircuitSettings(
            backend=self.name,
            backend_version=ezkl.__version__,
            inputs=tuple(
                TensorSignature(name, dtype, shapes[i], int(scale))
                for i, ((name, dtype), scale) in enumerate(
                    zip(inputs, backend_settings["model_input_scales"], strict=True)
                )
            ),
            outputs=tuple(
                TensorSignature(name, dtype, shapes[len(inputs) + i], int(scale))
                for i, ((name, dtype), scale) in enumerate(
                    zip(outputs, backend_settings["model_output_scales"], strict=True)
                )
            ),
            logrows=logrows,
            proof_bytes=1,
            srs_sha256=file_sha256(srs_path),
            verifying_key_sha256=file_sha256(paths["vk"]),
            backend_settings=backend_settings,
        )
        final = step("test proof", lambda: self._test_proof(draft, paths, srs_path, options))
        return SetupResult(
            settings=final.to_bytes(),
            verifying_key=paths["vk"],
            proving_key=paths["pk"],
            circuit=paths["circuit"],
            srs=srs_path,
            steps=tuple(steps),
        )

    def _gen_settings(
        self, ezkl: ModuleType, model: Path, path: Path, options: SetupOptions
    ) -> None:
        args = ezkl.PyRunArgs()
        args.input_visibility = "public"
        args.output_visibility = "public"
        args.param_visibility = "fixed"
        args.input_scale = options.scale
        args.param_scale = options.scale
        args.decomp_base = DECOMP_BASE
        args.decomp_legs = DECOMP_LEGS
        args.logrows = min(10, options.max_logrows)
        args.variables = [("batch_size", 1)]
        try:
            ezkl.gen_settings(str(model), str(path), py_run_args=args)
        except Exception as exc:  # noqa: BLE001
            raise CircuitUnsupported(
                f"ezkl cannot make a circuit of this model: {_ezkl_message(exc)}"
            ) from None

    def _calibrate(
        self, ezkl: ModuleType, model: Path, paths: dict[str, Path], options: SetupOptions
    ) -> None:
        settings = json.loads(paths["settings"].read_text())
        shapes = settings["model_instance_shapes"]
        n_inputs = len(settings["model_input_scales"])
        data = calibration_data(shapes[:n_inputs], options)
        paths["data"].write_text(json.dumps({"input_data": data}))
        try:
            ezkl.calibrate_settings(
                str(paths["data"]),
                str(model),
                str(paths["settings"]),
                "resources",
                scales=[options.scale],
                max_logrows=options.max_logrows,
            )
        except Exception as exc:  # noqa: BLE001
            raise CircuitUnsupported(
                f"calibration failed (is the model larger than 2^{options.max_logrows} rows?): "
                f"{_ezkl_message(exc)}"
            ) from None

    def _srs(self, ezkl: ModuleType, source: SrsSource, logrows: int) -> Path:
        source.directory.mkdir(parents=True, exist_ok=True)
        if not source.generate:
            path = source.directory / f"kzg{logrows}.srs"
            if not path.is_file():
                raise CircuitUnsupported(
                    f"the circuit needs a 2^{logrows} SRS, but {path} does not exist; put the "
                    f"ceremony file kzg{logrows}.srs there"
                )
            return path
        path = source.directory / f"dev-kzg{logrows}.srs"
        if not path.is_file():
            tmp = path.with_name(f".{uuid.uuid4().hex}.part")
            ezkl.gen_srs(str(tmp), logrows)
            os.replace(tmp, path)
        return path

    def _test_proof(
        self, draft: CircuitSettings, paths: dict[str, Path], srs: Path, options: SetupOptions
    ) -> CircuitSettings:
        """Prove and verify one calibration sample: pins the proof length and checks that
        the public-input layout is the one :func:`public_inputs` computes."""
        data = json.loads(paths["data"].read_text())["input_data"]
        sample = {
            sig.name: np.asarray(flat[: sig.size], dtype=np.dtype(sig.dtype)).reshape(sig.shape)
            for sig, flat in zip(draft.inputs, data, strict=True)
        }
        input_abi = encode_model_input(model_input_from_mapping(sample))
        files = ProverFiles(paths["circuit"], paths["pk"], srs)
        raw, outputs, _, _ = self._prove_raw(files, draft, input_abi)
        final = CircuitSettings(**{**_fields(draft), "proof_bytes": len(raw)})
        output_abi = encode_model_output(output_from_fixed(final, outputs))
        self.verify_instances(
            raw,
            final,
            paths["vk"].read_bytes(),
            srs.read_bytes(),
            public_inputs(final, input_abi, output_abi),
        )
        return final


def calibration_data(shapes: list[list[int]], options: SetupOptions) -> list[list[float]]:
    """Synthetic calibration inputs: ``calibration_samples`` draws per input from a seeded
    standard normal, as float32 values. The hub knows nothing about a model's real input
    distribution; N(0, 1) matches standardised features, the common case."""
    rng = np.random.default_rng(options.calibration_seed)
    data = []
    for shape in shapes:
        size = int(np.prod(shape)) if shape else 1
        sample = rng.normal(size=options.calibration_samples * size).astype(np.float32)
        data.append([float(v) for v in sample])
    return data


def _fields(settings: CircuitSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__slots__}  # type: ignore[attr-defined]


def _call(fn: Callable[..., Any], *paths: Path) -> None:
    try:
        fn(*(str(p) for p in paths))
    except Exception as exc:  # noqa: BLE001
        raise CircuitUnsupported(f"ezkl {fn.__name__} failed: {_ezkl_message(exc)}") from None


__all__ = ["DECOMP_BASE", "DECOMP_LEGS", "EzklBackend", "calibration_data", "load_ezkl"]
