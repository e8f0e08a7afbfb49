"""The Python example in docs/bridge.md runs as written, against a real hub."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from neurostack.hub.samples import sample_model_path

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_docs_example_runs(hub_stack: Any) -> None:
    text = (REPO / "docs" / "bridge.md").read_text()
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL)
        if "docs/bridge.md example" in block
    ]
    workers = [w.address for w in hub_stack.workers.values()]
    env = {
        **os.environ,
        "REDIS_URL": hub_stack.redis_url,
        "MODEL_CID": hub_stack.upload(sample_model_path("mlp_regressor"))["cid"],
        "SPRINTERS": ",".join(workers),
    }
    proc = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=90, cwd=REPO,
        env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (line,) = proc.stdout.splitlines()
    assert line.startswith("signed by 0x") and line.split()[-1] in {w.lower() for w in workers}
