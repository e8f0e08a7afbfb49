"""The README's main path as a user walks it: `neurostack new`, `neurostack up` (Redis, hub,
2 sprinters, node wired to the bridge), then `neurostack demo` in another terminal. The
demo runs examples/01_hello_inference/run.py, so this is also that script's run as a
separate process."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from neurostack.hub.broker import free_port
from sequencer.config import load_chain_config
from tests.cli.test_up import Up
from tests.devnet.procs import wait_gone
from tests.hub.helpers import run_onnx

NEUROSTACK = str(Path(sys.executable).with_name("neurostack"))
HELLO = (
    Path(__file__).resolve().parents[2] / "examples/01_hello_inference/models/hello_regressor.onnx"
)


def hello_output(features: list[int], decimals: int = 3) -> np.float32:
    """Example 01's model run here with onnxruntime (float32, as the chain feeds it)."""
    x = np.array([[f / 10**decimals for f in features]], dtype=np.float32)
    return np.float32(run_onnx(HELLO, {"x": x})["y"][0, 0])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [NEUROSTACK, "new", "demochain", "--no-input", "--output-dir", str(folder),
         "--rpc-port", str(free_port()), "--hub-port", str(free_port()), "--block-time", "0.5"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "demochain"


@pytest.fixture(scope="module")
def devnet(project: Path) -> Iterator[Up]:
    up = Up(project, "--workers", "2")
    try:
        up.wait_for("Press Ctrl-C to stop.")
        yield up
    finally:
        up.close()


def demo(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEUROSTACK, "demo", *args], cwd=project, capture_output=True, text=True, timeout=180,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )  # fmt: skip


@pytest.mark.slow
def test_demo_calls_a_model_from_a_contract_and_verifies_the_proof(
    project: Path, devnet: Up
) -> None:
    assert "2 sprinter workers" in devnet.output and "neurostack demo" in devnet.output
    config = load_chain_config(project / "chain.toml")

    result = demo(project)

    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    # PIPE's statuses as the demo saw them (how many it sees depends on timing).
    assert re.search(r"status: ((parked|dispatched|ready) -> )*included$", text, re.MULTILINE)
    # The output is example 01's model's, exactly as onnxruntime computes it here.
    y = float(re.search(r"^output\s+y = (\S+)", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert np.float32(y) == hello_output([500, -1250, 2000, 125])
    assert "equal" in text
    # The light client proved everything: header, transaction, receipt, Merkle branch, and
    # the signer's admission from the registry's storage.
    sprinter = re.search(r"sprinter\s+(0x[0-9a-fA-F]{40})", text).group(1)  # type: ignore[union-attr]
    assert sprinter in config.inference.sprinters
    assert re.search(r"request id\s+0x[0-9a-f]{64}", text)
    assert "verified with hub_client's light client" in text
    for check in ("header", "transaction", "receipt", "merkle", "registry", "admission"):
        assert re.search(rf"^\s+passed\s+{check}\b", text, re.MULTILINE), check
    assert "failed" not in text

    # Running it again works on the same chain (model already uploaded, new contract).
    again = demo(project, "--features", "1,2,3,4")
    assert again.returncode == 0, again.stdout + again.stderr
    y2 = float(re.search(r"^output\s+y = (\S+)", again.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert np.float32(y2) == hello_output([1, 2, 3, 4], 0)

    assert devnet.stop() == 0
    assert wait_gone(devnet.children, 10) == set()


def test_invalid_demo_without_a_devnet_says_to_start_one(tmp_path: Path) -> None:
    result = demo(tmp_path, "--rpc", f"http://127.0.0.1:{free_port()}")

    assert result.returncode == 1
    assert "error:" in result.stderr and "neurostack up" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_invalid_features_are_refused_with_advice(tmp_path: Path) -> None:
    result = demo(tmp_path, "--features", "1,2")

    assert result.returncode == 1
    assert "takes 4 numbers" in result.stderr
