"""Fixtures of the node tests (tests/sequencer, except rpc/ and inference/ which have their own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sequencer.config import ChainConfig
from sequencer.node import Node

from .helpers import make_config


@pytest.fixture
def config(tmp_path: Path) -> ChainConfig:
    return make_config(tmp_path)


@pytest.fixture
def node(config: ChainConfig) -> Iterator[Node]:
    n = Node(config)
    yield n
    n.stop()
