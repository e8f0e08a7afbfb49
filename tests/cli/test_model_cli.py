"""``neurostack model upload|list|show`` and ``neurostack infer`` as a user runs them.

The first tests point the commands at the in-process fake hub (fast, every error path);
the ``slow`` ones run them against the real stack (embedded Redis, uvicorn hub, workers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from eth_account import Account
from typer.testing import CliRunner

import hub_client
from neurostack.cli import model as model_cli
from neurostack.cli.main import app
from neurostack.hub.samples import sample_model_path
from neurostack.protocol.tensors import model_output_from_json, model_output_to_arrays

from ..hub_client.fakehub import MODEL_CID, FakeHub, tamper_output

OWNER_KEY = "0x" + "55" * 32
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env=env)
    # A user never sees a traceback: either success, or one "error:" line and exit 1.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    hub = FakeHub()

    def client(url: str, **kwargs: Any) -> hub_client.HubClient:
        return hub_client.HubClient(url, transport=httpx.MockTransport(hub.handle), **kwargs)

    monkeypatch.setattr(model_cli, "HubClient", client)
    yield hub


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(OWNER_KEY + "\n")
    return path


def write_input(tmp_path: Path, obj: Any) -> Path:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(obj))
    return path


def test_infer_prints_output_and_verification(fake_hub: FakeHub, tmp_path: Path) -> None:
    inp = write_input(tmp_path, {"x": [[1.0, 2.0, 3.0, 4.5]]})
    result = invoke("infer", "--model", MODEL_CID, "--input", str(inp))
    assert result.exit_code == 0, result.output
    assert "y [1, 1] = [[10.5]]" in result.output
    assert "receipt verified" in result.output


def test_infer_json_is_machine_readable(fake_hub: FakeHub, tmp_path: Path) -> None:
    inp = write_input(tmp_path, {"x": [[1.0, 2.0, 3.0, 4.0]]})
    result = invoke("infer", "--model", MODEL_CID, "--input", str(inp), "--json", "--mode", "tee")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["verified"] is True
    assert body["receipt"]["mode"] == 2
    assert hub_client.verify_receipt(body["receipt"]) is not None


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda p: ["--model", MODEL_CID, "--input", str(p / "missing.json")], "cannot read"),
        (lambda p: ["--model", "nonsense", "--input", str(write_input(p, {"x": [[1]]}))], "CID"),
        (lambda p: ["--model", MODEL_CID, "--input", str(write_input(p, [1, 2]))], "input"),
    ],
    ids=["missing-file", "bad-cid", "not-an-input"],
)
def test_invalid_infer_arguments_give_one_line(
    fake_hub: FakeHub, tmp_path: Path, make_args: Any, message: str
) -> None:
    result = invoke("infer", *make_args(tmp_path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_receipt_fails_the_command(fake_hub: FakeHub, tmp_path: Path) -> None:
    fake_hub.tamper = tamper_output
    inp = write_input(tmp_path, {"x": [[1.0, 2.0, 3.0, 4.0]]})
    result = invoke("infer", "--model", MODEL_CID, "--input", str(inp))
    assert result.exit_code == 1
    assert "error:" in result.output and "do not use" in result.output


def test_upload_with_key_file_and_env(fake_hub: FakeHub, key_file: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model bytes")
    result = invoke("model", "upload", str(model), "--name", "mine", "--key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert fake_hub.uploads[-1]["owner"] == Account.from_key(OWNER_KEY).address
    result = invoke(
        "model", "upload", str(model), "--name", "again", env={"NEUROSTACK_PRIVATE_KEY": OWNER_KEY}
    )
    assert result.exit_code == 0, result.output
    assert fake_hub.uploads[-1]["name"] == "again"


def test_invalid_upload_without_key(fake_hub: FakeHub, tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model bytes")
    result = invoke(
        "model", "upload", str(model), "--name", "m", env={"NEUROSTACK_PRIVATE_KEY": ""}
    )
    assert result.exit_code == 1
    assert "--key-file" in result.output and "NEUROSTACK_PRIVATE_KEY" in result.output


def test_invalid_unreachable_hub(tmp_path: Path) -> None:
    result = invoke("model", "list", "--hub", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the hub" in result.output and "Traceback" not in result.output


# --- against the real stack -----------------------------------------------------------------


def onnxruntime_outputs(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


@pytest.mark.slow
def test_cli_round_trip_on_the_real_stack(hub_stack: Any, key_file: Path, tmp_path: Path) -> None:
    hub = ["--hub", hub_stack.url]
    # Own bytes (same weights, another doc string): the shared stack may already hold the
    # sample under another owner, and the first uploader of a CID stays its owner.
    model = onnx.load(sample_model_path("mlp_regressor"))
    model.doc_string = f"uploaded by {__name__}"
    path = tmp_path / "mlp.onnx"
    onnx.save(model, path)
    result = invoke(
        "model", "upload", str(path), "--name", "mlp", "--key-file", str(key_file), *hub
    )
    assert result.exit_code == 0, result.output
    cid = next(line.split()[1] for line in result.output.splitlines() if line.startswith("cid"))

    listed = invoke("model", "list", *hub)
    assert listed.exit_code == 0 and cid in listed.output
    shown = invoke("model", "show", cid, *hub)
    assert shown.exit_code == 0
    assert (
        "x: float32 [N, 4]" in shown.output and Account.from_key(OWNER_KEY).address in shown.output
    )

    x = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    inp = write_input(tmp_path, {"x": x.tolist()})
    result = invoke("infer", "--model", cid, "--input", str(inp), "--json", *hub)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["verified"] is True
    got = model_output_to_arrays(model_output_from_json(body["output"]))["y"]
    expected = onnxruntime_outputs(path, {"x": x})["y"]
    np.testing.assert_array_equal(got.astype(np.float32), expected)  # 18-decimal transport


@pytest.mark.slow
def test_invalid_cli_errors_on_the_real_stack(hub_stack: Any, tmp_path: Path) -> None:
    hub = ["--hub", hub_stack.url]
    unknown = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    result = invoke("model", "show", unknown, *hub)
    assert result.exit_code == 1 and "404" in result.output
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not onnx")
    result = invoke(
        "model",
        "upload",
        str(bad),
        "--name",
        "bad",
        *hub,
        env={"NEUROSTACK_PRIVATE_KEY": OWNER_KEY},
    )
    assert result.exit_code == 1 and "error:" in result.output
