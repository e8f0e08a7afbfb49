"""Run the Python example a docs page marks with ``# docs/<page> example`` (CONVENTIONS.md
rule 13: every documented snippet is run by a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_docs_example(page: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the example of ``docs/<page>`` as a script from the repository root."""
    text = (REPO / "docs" / page).read_text()
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL)
        if f"docs/{page} example" in block
    ]
    proc = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=timeout,
        cwd=REPO, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc
