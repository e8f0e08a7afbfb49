"""The Python example in docs/chain.md runs as written."""

from __future__ import annotations

import pytest

from .docs_examples import run_docs_example


@pytest.mark.slow
def test_chain_docs_example_runs() -> None:
    out = run_docs_example("chain.md", timeout=120).stdout
    assert "valid: " in out and "1 receipt(s)" in out
    assert '"check": "state_root"' in out and '"blockNumber": 1' in out
    assert "follower head: 1 True" in out
