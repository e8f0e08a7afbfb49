"""docs/bridge.md's program (docs_src/bridge/submit.py) runs against a real hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from neurostack.hub.samples import sample_model_path

PROGRAM = Path(__file__).resolve().parents[2] / "docs_src" / "bridge" / "submit.py"


@pytest.mark.slow
def test_documented_program_gets_a_signed_result(hub_stack: Any) -> None:
    cid = hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]
    env = {**os.environ, "REDIS_URL": hub_stack.redis_url, "MODEL_CID": cid}

    proc = subprocess.run(
        [sys.executable, PROGRAM], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    signer = proc.stdout.split()[2]
    assert signer in {
        "0x" + w.address.lower().removeprefix("0x") for w in hub_stack.workers.values()
    }
