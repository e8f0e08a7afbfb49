"""The Python example of docs/chain.md (docs_src/chain/verify_block.py) runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROGRAM = REPO / "docs_src" / "chain" / "verify_block.py"


@pytest.mark.slow
def test_chain_docs_example_runs() -> None:
    proc = subprocess.run(
        [sys.executable, PROGRAM], capture_output=True, text=True, timeout=120, cwd=REPO,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "valid: " in out and "1 receipt(s)" in out
    assert '"check": "state_root"' in out and '"blockNumber": 1' in out
    assert "follower head: 1 True" in out
