"""The Python snippets of docs/hub_client.md run, in order, against the real stack.

A snippet that needs more than a hub (a rollup node) opens with
``# docs/hub_client.md <what> (tests/<file> runs it)`` and runs in that test instead."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hub_client.md"
RUN_ELSEWHERE = re.compile(r"# (docs/hub_client\.md [^(\n]+)\((tests/\S+) runs it\)")


@pytest.mark.slow
def test_documented_snippets_run(hub_stack: Any) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    for block in blocks:
        if elsewhere := RUN_ELSEWHERE.match(block):
            marker, runner = elsewhere.groups()
            assert marker.strip() in (ROOT / runner).read_text(), f"{runner} does not run it"
    blocks = [block for block in blocks if not RUN_ELSEWHERE.match(block)]
    assert len(blocks) >= 2
    namespace: dict[str, Any] = {
        "__name__": "docs_snippet",
        "HUB_URL": hub_stack.url,
        "OWNER_KEY": hub_stack.owner.key,
    }
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("[[") and lines[1].split()[0] in hub_stack.workers
    assert len(ast.literal_eval(lines[-1])) == 4  # the async snippet prints four outputs
