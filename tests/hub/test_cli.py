"""``neurostack hub serve|worker`` as a user runs them (the commands live in
neurostack/cli/hub.py, which the hub engineer owns; tests/cli/ belongs to others)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis
from typer.testing import CliRunner

from neurostack.cli.main import app
from neurostack.hub.broker import free_port

from .stack import NEUROSTACK


@pytest.mark.slow
def test_serve_without_redis_url_runs_and_stops_an_embedded_redis(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc = subprocess.Popen(
        [NEUROSTACK, "hub", "serve", "--port", str(port), "--store", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        match = re.search(r"embedded Redis at redis://:\*\*\*@(\S+) \(password in (\S+)\)", first)
        assert match, first  # the password is not printed, only where it is kept
        secret = Path(match.group(2))
        assert secret == tmp_path / "redis" / "password" and secret.stat().st_mode & 0o077 == 0
        redis_url = f"redis://:{secret.read_text().strip()}@{match.group(1)}"
        with pytest.raises(redis.AuthenticationError):  # no password, no Redis
            redis.Redis.from_url(f"redis://{match.group(1)}").ping()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
        assert redis.Redis.from_url(redis_url).ping()
        # no worker yet: not ready, and the reason says how to start one
        ready = httpx.get(f"http://127.0.0.1:{port}/ready")
        assert ready.status_code == 503 and "neurostack hub worker" in ready.json()["detail"]
        proc.send_signal(signal.SIGTERM)  # to `serve` alone: it must stop its Redis itself
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=0.5).ping()


def test_invalid_worker_without_key_says_how_to_give_one() -> None:
    env = {"NEUROSTACK_HUB_WORKER_KEY": "", "NEUROSTACK_HUB_WORKER_KEY_FILE": ""}
    result = CliRunner().invoke(
        app, ["hub", "worker", "--redis-url", "redis://127.0.0.1:1/0"], env=env
    )
    assert result.exit_code == 1
    assert "--key-file" in result.output


def test_invalid_worker_without_broker(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text("0x" + "22" * 32)
    result = CliRunner().invoke(
        app, ["hub", "worker", "--key-file", str(key)], env={"REDIS_URL": ""}
    )
    assert result.exit_code == 1
    assert "--redis-url" in result.output
