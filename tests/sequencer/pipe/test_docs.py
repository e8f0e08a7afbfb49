"""The Python example in docs/pipe.md runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_docs_example_runs() -> None:
    text = (REPO / "docs" / "pipe.md").read_text()
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL)
        if "docs/pipe.md example" in block
    ]
    proc = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=60, cwd=REPO,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "inference failed: request 0x" in proc.stdout
    assert "this node has no inference backend" in proc.stdout
