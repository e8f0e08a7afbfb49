"""The Python example in docs/pipe.md runs as written."""

from __future__ import annotations

import pytest

from ..docs_examples import run_docs_example


@pytest.mark.slow
def test_docs_example_runs() -> None:
    out = run_docs_example("pipe.md").stdout
    assert "inference failed: request 0x" in out
    assert "this node has no inference backend" in out
