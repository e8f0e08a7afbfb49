"""``/ready`` on a hub whose workers have not started: what the broker sees of it.

Anyone may poll ``/ready``; a check pings every worker through the broker and waits a
second for answers. The broker must see one ping at a time however many requests come,
and a "not ready" must be checked again soon, so a starting hub is seen ready without a
cache period's delay. (Ready answers, with workers: test_stack_integration.py.)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from neurostack.hub.app import create_app
from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.settings import HubSettings


def pings_sent(r: redis.Redis) -> int:
    """Broadcasts the broker has carried: a worker ping is one PUBLISH (kombu's fanout)."""
    stats = r.info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def test_concurrent_ready_requests_share_one_ping(
    tmp_path: Path, redis_server: EmbeddedRedis, redis_db: redis.Redis
) -> None:
    settings = HubSettings(store_dir=tmp_path, redis_url=redis_server.url)
    with TestClient(create_app(settings)) as client:
        before = pings_sent(redis_db)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.get("/ready"), range(8)))
        assert [a.status_code for a in answers] == [503] * 8
        assert all("no sprinter worker" in a.json()["detail"] for a in answers)
        assert pings_sent(redis_db) - before == 1


def test_not_ready_is_checked_again_after_its_short_cache(
    tmp_path: Path, redis_server: EmbeddedRedis, redis_db: redis.Redis
) -> None:
    # The ready cache stays long; a "not ready" older than not_ready_cache_seconds
    # (here 0) is checked again by the next request.
    settings = HubSettings(
        store_dir=tmp_path, redis_url=redis_server.url, ready_cache_seconds=60,
        not_ready_cache_seconds=0,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        before = pings_sent(redis_db)
        assert client.get("/ready").status_code == 503
        assert client.get("/ready").status_code == 503
        assert pings_sent(redis_db) - before == 2
