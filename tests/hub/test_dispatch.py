"""The API-side dispatcher against a real Redis, with Celery replaced by a recorder:
one speculative duplicate for a slow job, none for a fast one, waiters woken by the
completion message, identical submissions sent once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.dispatch import Dispatcher
from neurostack.hub.metrics import HubMetrics
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import model_cid
from neurostack.protocol.jobs import INFER_TASK_NAME, InferenceJob
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import encode_model_input, model_input_from_json


class RecordingCelery:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_task(self, name: str, *, args: list[Any], task_id: str, **_: Any) -> None:
        self.sent.append((name, task_id))


@pytest.fixture
def url(redis_server: EmbeddedRedis) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    yield redis_server.url


def _job(x: float) -> InferenceJob:
    cid = model_cid(b"some model")
    abi = encode_model_input(model_input_from_json({"x": [[x]]}))
    mode = InferenceMode.VANILLA
    return InferenceJob(
        request_id(0, cid, mode, abi), 0, cid, mode, abi, int(time.time()) + 60, time.time() + 5
    )


async def _with_dispatcher(url: str, speculative_after: float, body: Any) -> RecordingCelery:
    celery = RecordingCelery()
    d = Dispatcher(
        celery,
        aioredis.Redis.from_url(url),
        speculative_after,  # type: ignore[arg-type]
        HubMetrics(lambda: 0),
    )
    await d.start()
    try:
        await body(d)
    finally:
        await d.stop()
    return celery


def _record_failure(url: str, job: InferenceJob) -> None:
    """What a sprinter does when a job fails: store the outcome, publish the id (a
    failure needs no signed receipt, which keeps this test free of models)."""
    rid = keys.request_hex(job.request_id)
    client = redis.Redis.from_url(url)
    message = {"version": 1, "requestId": rid, "receipt": None, "error": "x", "worker": "w"}
    client.set(keys.error_key(rid), json.dumps(message))
    client.publish(keys.DONE_CHANNEL, rid)
    client.close()


def test_a_slow_job_gets_exactly_one_speculative_duplicate(url: str) -> None:
    job = _job(1.0)

    async def body(d: Dispatcher) -> None:
        await d.submit(job)
        await asyncio.sleep(0.6)

    celery = asyncio.run(_with_dispatcher(url, 0.2, body))
    rid = keys.request_hex(job.request_id)
    assert celery.sent == [(INFER_TASK_NAME, rid), (INFER_TASK_NAME, f"{rid}-speculative")]


def test_a_job_answered_in_time_is_not_duplicated_and_wakes_its_waiter(url: str) -> None:
    job = _job(2.0)
    rid = keys.request_hex(job.request_id)
    waited: dict[str, float] = {}

    async def body(d: Dispatcher) -> None:
        await d.submit(job)
        start = time.monotonic()
        asyncio.get_running_loop().call_later(0.05, _record_failure, url, job)
        status = await d.wait(rid, time.time() + 5)
        waited["s"] = time.monotonic() - start
        assert status is not None and status.status == "failed"
        await asyncio.sleep(0.5)

    celery = asyncio.run(_with_dispatcher(url, 0.3, body))
    assert celery.sent == [(INFER_TASK_NAME, rid)]
    assert waited["s"] < 0.4  # woken by the message, not by the 0.5 s re-read


def test_identical_submissions_are_sent_once(url: str) -> None:
    job = _job(3.0)

    async def body(d: Dispatcher) -> None:
        await d.submit(job)
        await d.submit(job)

    celery = asyncio.run(_with_dispatcher(url, 10, body))
    assert len(celery.sent) == 1
