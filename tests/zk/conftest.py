"""Real ezkl circuits of the sample MLP and of a sibling with other weights, made once per
test session (about 2 s each here) and shared by the ZK tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from neurostack.hub.samples import sample_model_path
from neurostack.hub.samples.build import build_mlp_regressor
from neurostack.zk import CircuitSettings, ProverFiles, SetupOptions, SrsSource, parse_settings


@dataclass(frozen=True)
class Circuit:
    model: Path
    settings_bytes: bytes
    settings: CircuitSettings
    verifying_key: bytes
    srs: bytes
    files: ProverFiles
    steps: tuple[tuple[str, float], ...]


def other_weights_mlp(path: Path) -> Path:
    """The sample MLP's architecture with its last layer's weights changed."""
    model = build_mlp_regressor()
    for i, init in enumerate(model.graph.initializer):
        if init.name == "W2":
            w = numpy_helper.to_array(init) * np.float32(1.5)
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(w, "W2"))
    onnx.save(model, str(path))
    return path


def make_circuit(model: Path, workdir: Path, srs_dir: Path) -> Circuit:
    from neurostack.zk import backend_for

    result = backend_for("ezkl").setup(
        model, workdir, srs=SrsSource(srs_dir), options=SetupOptions()
    )
    return Circuit(
        model=model,
        settings_bytes=result.settings,
        settings=parse_settings(result.settings),
        verifying_key=result.verifying_key.read_bytes(),
        srs=result.srs.read_bytes(),
        files=ProverFiles(result.circuit, result.proving_key, result.srs),
        steps=result.steps,
    )


@pytest.fixture(scope="session")
def zk_srs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zk-srs")


@pytest.fixture(scope="session")
def mlp_circuit(tmp_path_factory: pytest.TempPathFactory, zk_srs_dir: Path) -> Circuit:
    pytest.importorskip("ezkl")
    return make_circuit(
        sample_model_path("mlp_regressor"), tmp_path_factory.mktemp("zk-mlp"), zk_srs_dir
    )


@pytest.fixture(scope="session")
def sibling_circuit(tmp_path_factory: pytest.TempPathFactory, zk_srs_dir: Path) -> Circuit:
    pytest.importorskip("ezkl")
    work = tmp_path_factory.mktemp("zk-sibling")
    return make_circuit(other_weights_mlp(work / "sibling.onnx"), work / "circuit", zk_srs_dir)
