"""Fixtures of the explorer tests: a real node in-process (fast tests), an explorer on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neurostack.explorer import ExplorerServer, ExplorerSettings

from .chain import DevChain


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChain]:
    with DevChain(root=tmp_path_factory.mktemp("chain")) as c:
        yield c


@pytest.fixture(scope="module")
def explorer(chain: DevChain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExplorerServer]:
    settings = ExplorerSettings(chain.url, Path(tmp_path_factory.mktemp("explorer")),
                                poll_interval=0.05)  # fmt: skip
    with ExplorerServer(settings) as server:
        yield server
