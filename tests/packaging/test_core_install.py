"""The core install (`pip install neurostack`, no extras) is the SDK: protocol + hub_client.

It verifies receipts without any server library, and its `neurostack` command says which
extra a command needs instead of printing an ImportError.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .wheels import make_venv, pip_install

pytestmark = pytest.mark.slow

# Run inside the core-only venv: a sprinter signs a receipt, the SDK verifies it, and a
# forged output or an unexpected signer is refused.
SDK_SCRIPT = r"""
import dataclasses, importlib.util, json
from eth_account import Account
from hub_client import ReceiptInvalid, verify_receipt
from neurostack.protocol import (
    InferenceMode, encode_model_input, encode_model_output, make_receipt, model_cid,
    model_hash, model_input_from_json, outputs_to_model_output,
)
import numpy as np

sprinter = Account.create()
model = b"model bytes"
receipt = make_receipt(
    chain_id=7, model_cid=model_cid(model), model_hash=model_hash(model),
    mode=InferenceMode.VANILLA,
    input_abi=encode_model_input(model_input_from_json({"x": [[1.0, 2.0]]})),
    output_abi=encode_model_output(outputs_to_model_output({"y": np.array([[3.0]])})),
    expiry=2_000_000_000, private_key=bytes(sprinter.key),
)
signer = verify_receipt(receipt, chain_id=7, expected_signers=[sprinter.address], now=1_900_000_000)
refused = []
for forged, signers in (
    (dataclasses.replace(receipt, output=receipt.output[:-1] + b"\x01"), [sprinter.address]),
    (receipt, [Account.create().address]),
):
    try:
        verify_receipt(forged, chain_id=7, expected_signers=signers, now=1_900_000_000)
    except ReceiptInvalid as exc:
        refused.append(str(exc))
heavy = ["eth", "celery", "fastapi", "onnxruntime", "uvicorn", "redis", "typer", "web3"]
print(json.dumps({
    "signer_ok": bytes(signer) == bytes.fromhex(sprinter.address[2:]),
    "refused": refused,
    "importable": [m for m in heavy if importlib.util.find_spec(m) is not None],
}))
"""


@pytest.fixture(scope="module")
def core(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    bin_dir = make_venv(tmp_path_factory.mktemp("core") / "venv")
    pip_install(bin_dir, str(wheel))
    return bin_dir


def test_core_install_verifies_receipts_without_the_server_libraries(core: Path) -> None:
    proc = subprocess.run(
        [core / "python", "-c", SDK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["signer_ok"]
    assert len(result["refused"]) == 2
    assert result["importable"] == []  # no py-evm, Celery, FastAPI, onnxruntime, ...


@pytest.mark.parametrize(
    "args",
    [["up"], ["new", "mychain", "--no-input"], ["hub", "worker"], ["--help"]],
)
def test_invalid_command_without_its_extra_names_the_extra(core: Path, args: list[str]) -> None:
    for command in ([core / "neurostack"], [core / "python", "-m", "neurostack"]):
        proc = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=60, cwd=core, check=False
        )
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert "pip install 'neurostack[node]'" in proc.stderr
        assert "'neurostack[all]'" in proc.stderr
