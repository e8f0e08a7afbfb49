"""docs/bridge.md's program (docs_src/bridge/submit.py) runs against a real hub: one job
through the bridge, its result verified before use."""

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
    workers = [w.address for w in hub_stack.workers.values()]
    env = {
        **os.environ,
        "REDIS_URL": hub_stack.redis_url,
        "MODEL_CID": hub_stack.upload(sample_model_path("mlp_regressor"))["cid"],
        "SPRINTERS": ",".join(workers),
    }
    proc = subprocess.run(
        [sys.executable, PROGRAM], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (line,) = proc.stdout.splitlines()
    assert line.startswith("signed by 0x") and line.split()[-1] in {w.lower() for w in workers}
