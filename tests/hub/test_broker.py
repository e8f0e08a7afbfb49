"""The embedded redis-server: real TCP, persistence across restarts, clean stop."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from neurostack.hub.broker import EmbeddedRedis, resolve_redis_url


def test_restart_at_the_same_url_keeps_the_data(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path).start()
    try:
        client = redis.Redis.from_url(server.url)
        client.rpush("queue", "job-1", "job-2")
        server.stop()
        assert not server.running
        server.start()
        assert client.lrange("queue", 0, -1) == [b"job-1", b"job-2"]
    finally:
        server.stop()


def test_context_manager_stops_the_server(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        url = server.url
        assert redis.Redis.from_url(url).ping()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()


def test_resolve_prefers_an_explicit_url(tmp_path: Path) -> None:
    assert resolve_redis_url("redis://example:6379/0", tmp_path) == ("redis://example:6379/0", None)
    url, embedded = resolve_redis_url(None, tmp_path)
    try:
        assert embedded is not None and url == embedded.url
        assert redis.Redis.from_url(url).ping()
    finally:
        assert embedded is not None
        embedded.stop()
