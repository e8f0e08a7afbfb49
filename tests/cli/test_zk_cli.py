"""``neurostack model upload --zk``, ``model show`` and ``infer --mode zk`` against the real
hub stack: the setup's steps and times are shown, the proof is verified locally."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import onnx
import pytest
from typer.testing import CliRunner

from neurostack.cli.main import app
from neurostack.hub.samples import sample_model_path
from neurostack.zk import SETUP_STEPS

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_upload_zk_shows_each_step_then_infer_verifies_the_proof(
    hub_stack: Any, tmp_path: Path
) -> None:
    model = onnx.load(str(sample_model_path("mlp_regressor")))
    model.doc_string = "CLI ZK copy"
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    env = {"NEUROSTACK_HUB_URL": hub_stack.url, "NEUROSTACK_PRIVATE_KEY": hub_stack.owner.key.hex()}

    up = runner.invoke(app, ["model", "upload", str(path), "--name", "mlp", "--zk"], env=env)
    assert up.exit_code == 0, up.output
    assert "ZK setup on the hub" in up.output
    for step in SETUP_STEPS:
        assert step in up.output
    assert "zk           ready" in up.output
    assert "development SRS" in up.output and "vk hash      0x" in up.output
    found = re.search(r"cid\s+(bafk\w+)", up.output)
    assert found is not None, up.output
    cid = found.group(1)

    shown = runner.invoke(app, ["model", "show", cid], env=env)
    assert "zk scales    inputs [13], outputs [13]" in shown.output

    (tmp_path / "in.json").write_text(json.dumps({"x": [[0.5, -1.0, 2.0, 0.25]]}))
    args = ["infer", "--model", cid, "--input", str(tmp_path / "in.json"), "--mode", "zk"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "y [1, 1] = [[-2.3731689453125]]" in result.output  # -19441 / 2^13
    assert "ZK proof verified" in result.output


def test_invalid_zk_upload_of_a_string_model_exits_with_the_reason(hub_stack: Any) -> None:
    env = {"NEUROSTACK_HUB_URL": hub_stack.url, "NEUROSTACK_PRIVATE_KEY": hub_stack.owner.key.hex()}
    path = str(sample_model_path("text_classifier"))
    result = runner.invoke(app, ["model", "upload", path, "--name", "c", "--zk"], env=env)
    assert result.exit_code == 1
    assert "error: the ZK setup failed" in result.output and "holds strings" in result.output


def test_invalid_register_zk_of_a_model_without_a_circuit(hub_stack: Any, tmp_path: Path) -> None:
    env = {"NEUROSTACK_HUB_URL": hub_stack.url, "NEUROSTACK_PRIVATE_KEY": hub_stack.owner.key.hex()}
    plain = runner.invoke(
        app, ["model", "upload", str(sample_model_path("mlp_regressor")), "--name", "m"], env=env
    )
    cid = re.search(r"cid\s+(bafk\w+)", plain.output)
    assert cid is not None, plain.output
    no_circuit = runner.invoke(app, ["model", "register-zk", cid.group(1)], env=env)
    assert no_circuit.exit_code == 1
    assert "has no ready ZK circuit on the hub" in no_circuit.output
    assert "neurostack model upload FILE --zk" in no_circuit.output
