"""docs/rpc.md's program (docs_src/rpc/web3_node.py) runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_docs_example_runs() -> None:
    proc = subprocess.run(
        [sys.executable, REPO / "docs_src" / "rpc" / "web3_node.py"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"http://127\.0\.0\.1:\d+/ block 1", proc.stdout), proc.stdout
