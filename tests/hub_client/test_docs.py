"""The programs of docs/hub_client.md (docs_src/hub_client/*.py) run against a real hub."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOCS_SRC = Path(__file__).resolve().parents[2] / "docs_src" / "hub_client"


def run(name: str, hub_stack: Any, *args: str) -> list[str]:
    env = {
        **os.environ,
        "NEUROSTACK_HUB_URL": hub_stack.url,
        "NEUROSTACK_PRIVATE_KEY": "0x" + bytes(hub_stack.owner.key).hex(),
    }
    proc = subprocess.run(
        [sys.executable, DOCS_SRC / name, *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.slow
def test_documented_programs_run(hub_stack: Any) -> None:
    cid, arrays, signed = run("quickstart.py", hub_stack)
    assert cid.startswith("bafkrei")
    assert arrays.startswith("[[")
    assert signed.split()[0] in hub_stack.workers

    (outputs,) = run("async_infer.py", hub_stack, cid)
    assert len(ast.literal_eval(outputs)) == 4


@pytest.mark.slow
def test_documented_zk_program_runs(hub_stack: Any) -> None:
    """zk_infer.py: the circuit is made, the proof verified locally, the value asserted."""
    assert run("zk_infer.py", hub_stack) == []
