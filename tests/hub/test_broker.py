"""The embedded redis-server: real TCP, a generated password, persistence across
restarts, clean stop."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from neurostack.hub.broker import EmbeddedRedis, redacted, resolve_redis_url


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


def test_invalid_a_client_without_the_password_is_refused(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        assert server.auth is not None and server.auth.password in server.url
        assert redis.Redis.from_url(server.url).ping()
        for wrong in (
            f"redis://127.0.0.1:{server.port}/0",
            f"redis://:guess@127.0.0.1:{server.port}/0",
        ):
            with pytest.raises(redis.AuthenticationError):
                redis.Redis.from_url(wrong).ping()


def test_the_password_is_kept_owner_only_and_reused(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path).auth
    again = EmbeddedRedis(tmp_path).auth
    assert first is not None and again is not None and first.password == again.password
    for path in (tmp_path / "password", first.config_file):
        assert path.stat().st_mode & 0o777 == 0o600
    assert len(first.password) >= 40  # 32 random bytes, url-safe base64


def test_redacted_urls_hide_the_password() -> None:
    assert redacted("redis://:s3cret@10.0.0.5:6379/2") == "redis://:***@10.0.0.5:6379/2"
    assert redacted("redis://user:s3cret@host/0") == "redis://user:***@host/0"
    assert redacted("redis://10.0.0.5:6379/0") == "redis://10.0.0.5:6379/0"
