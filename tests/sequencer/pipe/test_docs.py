"""docs/pipe.md's program (docs_src/pipe/wiring.py) runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_docs_example_runs() -> None:
    proc = subprocess.run(
        [sys.executable, REPO / "docs_src" / "pipe" / "wiring.py"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "inference failed: request 0x" in proc.stdout
    assert "this node has no inference backend" in proc.stdout
