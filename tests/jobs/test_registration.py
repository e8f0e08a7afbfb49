"""One chain per chain id on a hub: the registration a node takes when it starts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from neurostack.hub.broker import EmbeddedRedis
from neurostack.jobs import BrokerUnavailable, ChainIdTaken, ChainRegistration
from neurostack.protocol import job_keys as keys

GENESIS_A = b"\xaa" * 32
GENESIS_B = b"\xbb" * 32


@pytest.fixture
def r(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.delete(keys.chain_key(5), keys.chain_key(6))
    yield client
    client.close()


def test_the_same_chain_may_register_again_and_releases_on_stop(r: redis.Redis) -> None:
    first = ChainRegistration(r, 5, GENESIS_A).start()
    ChainRegistration(r, 5, GENESIS_A).acquire()  # a restart, or a second node of it
    ChainRegistration(r, 6, GENESIS_B).acquire()  # another chain id: no conflict
    first.stop()
    assert r.get(keys.chain_key(5)) is None
    ChainRegistration(r, 5, GENESIS_B).acquire()  # free again


def test_invalid_another_chain_with_the_same_chain_id_is_refused_with_advice(
    r: redis.Redis,
) -> None:
    held = ChainRegistration(r, 5, GENESIS_A).start()
    try:
        with pytest.raises(ChainIdTaken) as refused:
            ChainRegistration(r, 5, GENESIS_B).acquire()
        assert "chain id 5 is already served by this hub" in str(refused.value)
        assert "[chain].chain_id" in str(refused.value)
    finally:
        held.stop()


def test_a_crashed_chain_frees_its_id_when_the_lease_lapses(r: redis.Redis) -> None:
    ChainRegistration(r, 5, GENESIS_A, lease=1).acquire()  # never renewed: a crash
    with pytest.raises(ChainIdTaken):
        ChainRegistration(r, 5, GENESIS_B).acquire()
    time.sleep(1.2)
    ChainRegistration(r, 5, GENESIS_B).acquire()


def test_invalid_chain_id_zero_is_the_hubs_own() -> None:
    with pytest.raises(ValueError, match="off-chain"):
        ChainRegistration(redis.Redis(), 0, GENESIS_A)


def test_invalid_unreachable_hub_says_what_to_check() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(BrokerUnavailable, match="URL and password"):
        ChainRegistration(client, 5, GENESIS_A).acquire()
