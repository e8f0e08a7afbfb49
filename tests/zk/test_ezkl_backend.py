"""ezkl end to end: setup, prove and verify the sample MLP; every forgery is rejected by
``neurostack.zk.verify`` with a reason that names it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neurostack.hub.samples import sample_model_path
from neurostack.protocol.tensors import (
    ModelOutput,
    Number,
    NumberTensor,
    decode_model_output,
    encode_model_input,
    encode_model_output,
    model_input_from_mapping,
    model_output_to_arrays,
)
from neurostack.zk import (
    SETUP_STEPS,
    CircuitUnsupported,
    Proof,
    ProofRejected,
    SetupOptions,
    SrsSource,
    backend_for,
    verify,
)
from neurostack.zk.fixedpoint import fixed_to_number
from tests.hub.helpers import run_onnx

from .conftest import Circuit

pytestmark = pytest.mark.slow

X = np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)


def _input(x: np.ndarray) -> bytes:
    return encode_model_input(model_input_from_mapping({"x": x}))


def _prove(circuit: Circuit, x: np.ndarray = X) -> tuple[bytes, Proof, bytes]:
    input_abi = _input(x)
    proof = backend_for("ezkl").prove(circuit.files, circuit.settings, input_abi)
    return input_abi, proof, encode_model_output(proof.output)


@pytest.fixture(scope="module")
def proved(mlp_circuit: Circuit) -> tuple[bytes, Proof, bytes]:
    return _prove(mlp_circuit)


def _verify(
    circuit: Circuit, proof: bytes, input_abi: bytes, output_abi: bytes, **changes: Any
) -> None:
    """``verify`` with the circuit's keys, any of them replaced by ``changes``."""
    args = {
        "verifying_key": circuit.verifying_key,
        "settings": circuit.settings_bytes,
        "srs": circuit.srs,
        **changes,
    }
    verify(proof, args.pop("verifying_key"), args.pop("settings"), input_abi, output_abi, **args)


def test_setup_reports_every_step_and_pins_the_circuit(mlp_circuit: Circuit) -> None:
    assert [name for name, _ in mlp_circuit.steps] == list(SETUP_STEPS)
    s = mlp_circuit.settings
    assert [(t.name, t.dtype, t.shape, t.scale) for t in s.inputs] == [("x", "float32", (1, 4), 13)]
    assert [(t.name, t.shape, t.scale) for t in s.outputs] == [("y", (1, 1), 13)]
    assert s.backend_settings["run_args"]["param_visibility"] == "Fixed"
    assert s.proof_bytes < 16 * 1024


def test_honest_proof_verifies_and_matches_onnxruntime(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, output_abi = proved
    _verify(mlp_circuit, proof.proof, input_abi, output_abi)
    circuit_y = model_output_to_arrays(decode_model_output(output_abi))["y"]
    ort_y = run_onnx(sample_model_path("mlp_regressor"), {"x": X})["y"]
    assert circuit_y.shape == (1, 1)
    assert abs(circuit_y - ort_y).max() < 1e-3
    assert proof.output.numbers[0].values[0].decimals == 13


def test_proofs_of_other_inputs_verify_with_the_same_length(mlp_circuit: Circuit) -> None:
    rng = np.random.default_rng(7)
    for _ in range(2):
        x = rng.normal(scale=3.0, size=(1, 4)).astype(np.float32)
        input_abi, proof, output_abi = _prove(mlp_circuit, x)
        assert len(proof.proof) == mlp_circuit.settings.proof_bytes
        _verify(mlp_circuit, proof.proof, input_abi, output_abi)


@pytest.mark.parametrize("position", [0, 100, 1500, -1])
def test_invalid_tampered_proof_bytes(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes], position: int
) -> None:
    input_abi, proof, output_abi = proved
    tampered = bytearray(proof.proof)
    tampered[position] ^= 0x01
    with pytest.raises(ProofRejected, match="does not verify"):
        _verify(mlp_circuit, bytes(tampered), input_abi, output_abi)


def test_invalid_proof_with_extra_or_missing_bytes(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, output_abi = proved
    # Halo2's verifier ignores trailing bytes: the settings pin the length instead
    for forged in (proof.proof + b"\x00", proof.proof[:-32], b""):
        with pytest.raises(ProofRejected, match="bytes; this circuit's proofs are"):
            _verify(mlp_circuit, forged, input_abi, output_abi)


def test_invalid_proof_for_a_different_input(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    _, proof, output_abi = proved
    for other in (np.array([[0.5, -1.0, 2.0, 0.5]], np.float32), X + np.float32(2.0**-12)):
        with pytest.raises(ProofRejected, match="does not verify"):
            _verify(mlp_circuit, proof.proof, _input(other), output_abi)


def test_same_quantised_input_is_the_same_statement(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    # 2^-15 is below half a unit at scale 13: the circuit sees the same integers
    _, proof, output_abi = proved
    _verify(mlp_circuit, proof.proof, _input(X + np.float32(2.0**-15)), output_abi)


def test_invalid_output_changed_after_proving(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, _ = proved
    y = proof.output.numbers[0].values[0]
    one_unit_more = fixed_to_number(y.value // 5**13 + 1, 13)
    forged = ModelOutput(numbers=(NumberTensor("y", (one_unit_more,), (1, 1)),))
    with pytest.raises(ProofRejected, match="does not verify"):
        _verify(mlp_circuit, proof.proof, input_abi, encode_model_output(forged))


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        # the same real value with 18 decimals: not the canonical circuit encoding
        (
            lambda y: ModelOutput(
                numbers=(NumberTensor("y", (Number(y.value * 10**5, 18),), (1, 1)),)
            ),
            "not a circuit value at scale 13",
        ),
        (
            lambda y: ModelOutput(numbers=(NumberTensor("z", (y,), (1, 1)),)),
            r"output tensors are \['z'\]",
        ),
        (lambda y: ModelOutput(numbers=(NumberTensor("y", (y,), (1,)),)), "has shape"),
        (
            lambda y: ModelOutput(
                numbers=(NumberTensor("y", (y,), (1, 1)),), is_simulation_result=True
            ),
            "simulation",
        ),
    ],
)
def test_invalid_output_not_in_the_circuit_form(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes], output: object, reason: str
) -> None:
    input_abi, proof, _ = proved
    forged = output(proof.output.numbers[0].values[0])  # type: ignore[operator]
    with pytest.raises(ProofRejected, match=reason):
        _verify(mlp_circuit, proof.proof, input_abi, encode_model_output(forged))


def test_invalid_proof_under_another_models_verifying_key(
    mlp_circuit: Circuit, sibling_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, output_abi = proved
    assert sibling_circuit.verifying_key != mlp_circuit.verifying_key  # the weights are bound
    with pytest.raises(ProofRejected, match="does not verify"):
        _verify(sibling_circuit, proof.proof, input_abi, output_abi)


def test_invalid_settings_swapped(
    mlp_circuit: Circuit, sibling_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, output_abi = proved
    with pytest.raises(ProofRejected, match="verifying key is not the one"):
        _verify(mlp_circuit, proof.proof, input_abi, output_abi,
                settings=sibling_circuit.settings_bytes)  # fmt: skip
    with pytest.raises(ProofRejected, match="settings hash mismatch"):
        _verify(mlp_circuit, proof.proof, input_abi, output_abi, settings_hash=b"\x11" * 32)


def test_invalid_srs_or_settings_bytes(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    input_abi, proof, output_abi = proved
    with pytest.raises(ProofRejected, match="SRS is not the one"):
        # flip a bit: setting the last byte to 0 was a no-op whenever it already was 0
        _verify(mlp_circuit, proof.proof, input_abi, output_abi,
                srs=mlp_circuit.srs[:-1] + bytes([mlp_circuit.srs[-1] ^ 1]))  # fmt: skip
    for garbage in (b"", b"{}", b"[1]", mlp_circuit.settings_bytes[:-1]):
        with pytest.raises(ProofRejected, match="circuit settings"):
            _verify(mlp_circuit, proof.proof, input_abi, output_abi, settings=garbage)


def test_invalid_input_that_does_not_fit_the_circuit(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes]
) -> None:
    _, proof, output_abi = proved
    for bad, reason in (
        ({"x": np.zeros((2, 4), np.float32)}, "does not fit|takes"),
        ({"w": X}, "unknown input"),
    ):
        with pytest.raises(ProofRejected, match=reason):
            _verify(
                mlp_circuit,
                proof.proof,
                encode_model_input(model_input_from_mapping(bad)),
                output_abi,
            )
    with pytest.raises(ProofRejected, match="does not fit"):
        _verify(mlp_circuit, proof.proof, b"\x00" * 7, output_abi)


def test_invalid_model_with_string_outputs(tmp_path: Path, zk_srs_dir: Path) -> None:
    with pytest.raises(CircuitUnsupported, match="holds strings"):
        backend_for("ezkl").setup(
            sample_model_path("text_classifier"),
            tmp_path,
            srs=SrsSource(zk_srs_dir),
            options=SetupOptions(),
        )


def test_invalid_ceremony_srs_missing(tmp_path: Path) -> None:
    with pytest.raises(CircuitUnsupported, match="kzg10.srs"):
        backend_for("ezkl").setup(
            sample_model_path("mlp_regressor"),
            tmp_path / "work",
            srs=SrsSource(tmp_path / "ceremony", generate=False),
            options=SetupOptions(),
        )


def test_settings_are_the_circuit_document(mlp_circuit: Circuit) -> None:
    from neurostack.zk import parse_settings

    again = parse_settings(mlp_circuit.settings.to_bytes())
    assert again == replace(mlp_circuit.settings)
    assert mlp_circuit.settings.to_bytes() == mlp_circuit.settings_bytes


def test_invalid_machine_that_cannot_verify_says_so(
    mlp_circuit: Circuit, proved: tuple[bytes, Proof, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a bad proof: a machine without the backend (or with another version) must not
    guess, and says what to install."""
    from neurostack.zk import ProofSystemUnavailable, ezkl_backend

    input_abi, proof, output_abi = proved
    for changes, words in (
        ({"backend_version": "0.0.1"}, "for ezkl 0.0.1, but ezkl 23"),
        ({"backend": "plonky9"}, "no proof-system backend 'plonky9'"),
    ):
        other = replace(mlp_circuit.settings, **changes).to_bytes()  # type: ignore[arg-type]
        with pytest.raises(ProofSystemUnavailable, match=words):
            _verify(mlp_circuit, proof.proof, input_abi, output_abi, settings=other)

    def missing() -> None:
        raise ProofSystemUnavailable(
            "ZK proofs need ezkl, which is not installed here: pip install 'neurostack[zk]'"
        )

    monkeypatch.setattr(ezkl_backend, "load_ezkl", missing)
    with pytest.raises(ProofSystemUnavailable, match=r"neurostack\[zk\]"):
        _verify(mlp_circuit, proof.proof, input_abi, output_abi)
