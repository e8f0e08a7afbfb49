"""The API-side dispatcher against a real Redis, with Celery replaced by a recorder:
one speculative duplicate for a slow job, none for a fast one, waiters woken by the
completion message, identical submissions sent once, a stored result answered without
queuing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aioredis

from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.channels import RESULT_CHANNEL
from neurostack.hub.dispatch import Dispatcher
from neurostack.hub.metrics import HubMetrics
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest, model_cid
from neurostack.protocol.jobs import INFER_TASK_NAME, InferenceJob, JobResult
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import make_receipt
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import (
    encode_model_input,
    encode_model_output,
    model_input_from_json,
    outputs_to_model_output,
)


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


def test_run_answers_a_request_with_a_stored_result_without_queuing_it(url: str) -> None:
    job = _job(4.0)
    rid = keys.request_hex(job.request_id)
    output = encode_model_output(outputs_to_model_output({"y": np.array([[1.5]], np.float32)}))
    receipt = make_receipt(
        chain_id=0,
        model_cid=job.model_cid,
        model_hash=cid_digest(job.model_cid),
        mode=job.mode,
        input_abi=job.input_abi,
        output_abi=output,
        expiry=job.expiry,
        private_key=b"\x01" * 32,
    )
    stored = JobResult(job.request_id, receipt, None, "w9").to_message()
    client = redis.Redis.from_url(url)
    client.set(keys.result_key(rid), json.dumps(stored))
    client.close()
    outcome: dict[str, Any] = {}

    async def body(d: Dispatcher) -> None:
        outcome["status"] = await d.run(job)

    celery = asyncio.run(_with_dispatcher(url, 0.1, body))
    assert celery.sent == []
    status = outcome["status"]
    assert status.status == "done" and status.result.worker == "w9"
    assert status.result.receipt.output == output


def test_run_is_woken_by_the_completion_message_and_sends_one_job(url: str) -> None:
    job = _job(5.0)
    rid = keys.request_hex(job.request_id)
    outcome: dict[str, Any] = {}

    async def body(d: Dispatcher) -> None:
        start = time.monotonic()
        asyncio.get_running_loop().call_later(0.05, _record_failure, url, job)
        outcome["status"] = await d.run(job)
        outcome["waited"] = time.monotonic() - start
        await asyncio.sleep(0.5)  # past speculative_after: the answered job is not duplicated

    celery = asyncio.run(_with_dispatcher(url, 0.3, body))
    assert celery.sent == [(INFER_TASK_NAME, rid)]
    assert outcome["status"].status == "failed" and outcome["status"].error == "x"
    assert outcome["waited"] < 0.4  # woken by the message, not by the 0.5 s re-read


def test_invalid_stale_job_marker_does_not_block_a_resubmission(url: str) -> None:
    job = _job(6.0)
    rid = keys.request_hex(job.request_id)
    client = redis.Redis.from_url(url)
    client.set(keys.job_key(rid), json.dumps({"deadline": time.time() - 1, "submitted": 0}))
    client.close()

    async def body(d: Dispatcher) -> None:
        await d.submit(job)

    celery = asyncio.run(_with_dispatcher(url, 10, body))
    assert celery.sent == [(INFER_TASK_NAME, rid)]


def test_run_is_answered_by_the_result_message_of_a_hub_sprinter(url: str) -> None:
    job = _job(7.0)
    rid = keys.request_hex(job.request_id)
    message = {"version": 1, "requestId": rid, "receipt": None, "error": "bad input", "worker": "w"}
    outcome: dict[str, Any] = {}

    def publish_result_only() -> None:  # no key written: only the message can answer
        client = redis.Redis.from_url(url)
        client.publish(RESULT_CHANNEL, json.dumps(message))
        client.close()

    async def body(d: Dispatcher) -> None:
        start = time.monotonic()
        asyncio.get_running_loop().call_later(0.05, publish_result_only)
        outcome["status"] = await d.run(job)
        outcome["waited"] = time.monotonic() - start

    asyncio.run(_with_dispatcher(url, 10, body))
    assert outcome["status"].status == "failed" and outcome["status"].error == "bad input"
    assert outcome["waited"] < 0.4
