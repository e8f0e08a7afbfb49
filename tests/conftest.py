"""Fixtures shared by the whole test suite, and its one switch: ``verify_built_blocks`` on.

``hub_stack``: one real reference hub for the session (embedded redis-server, the API
under uvicorn, two sprinter worker processes), see ``tests/hub/stack.py``. Tests that use
it must be marked ``slow``. Its attributes: ``url``, ``redis_url``, ``store_dir``,
``workers`` (name -> ``WorkerProcess`` with ``address``/``key_hex``), ``owner`` (an
eth_account for uploads), and helpers ``upload(path)``, ``client()``, ``redis_client()``.
It is shared: do not kill or stop its workers or Redis; fault tests start their own
``HubStack`` (see tests/hub/test_faults.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from neurostack.hub.broker import EmbeddedRedis
from sequencer.node import VERIFY_ENV
from tests.hub.stack import HubStack

# Every node this suite starts, in this process or as a `neurostack` process, runs the
# state-transition function on each block it builds before committing it (docs/chain.md,
# "The builder and the STF"): a block the STF rejects fails the test that made it.
os.environ[VERIFY_ENV] = "1"


@pytest.fixture(scope="session")
def hub_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    """A running hub with two workers, shared by every test of the session."""
    with HubStack(tmp_path_factory.mktemp("hub-stack"), workers=2) as stack:
        yield stack


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A bare embedded redis-server (real, on a free port) for tests needing only Redis.
    Tests sharing it should use keys of their own or flush it first."""
    with EmbeddedRedis(Path(tmp_path_factory.mktemp("redis"))) as server:
        yield server


@pytest.fixture
def redis_db(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client of ``redis_server`` (with its password) whose database was emptied first."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()
