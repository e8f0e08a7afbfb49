"""Sending inference jobs from the hub API to the sprinters and waiting for results.

Jobs travel through Celery (task ``INFER_TASK_NAME`` on queue ``INFER_QUEUE``); results
come back through Redis: a sprinter stores the winning ``JobResult`` under
``neurostack:result:<requestId>`` and publishes the id on ``neurostack:done``. One
pub/sub listener per API process wakes the waiting requests; each waiter also re-reads
the key every ``POLL_INTERVAL`` so a message lost during a Redis restart only delays it.

Each submitted job is watched until its deadline: if no result came within
``speculative_after`` seconds, one speculative duplicate is sent, which another worker
picks up if the first one died or stalls. Both run the same idempotent task, so the
request is still completed (and counted) once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from neurostack.protocol import job_keys as keys
from neurostack.protocol.jobs import INFER_QUEUE, INFER_TASK_NAME, InferenceJob, JobResult

from .errors import BrokerError
from .metrics import HubMetrics

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
JOB_MARKER_GRACE = 300  # seconds a job marker outlives the deadline, so status stays known


@dataclass(frozen=True)
class JobStatus:
    status: Literal["pending", "done", "failed"]
    result: JobResult | None = None
    error: str | None = None


class Dispatcher:
    """Submits jobs, duplicates slow ones, and waits for their results."""

    def __init__(
        self,
        celery: Celery,
        redis_client: aioredis.Redis,
        speculative_after: float,
        metrics: HubMetrics,
    ) -> None:
        self.celery = celery
        self.redis = redis_client
        self.speculative_after = speculative_after
        self.metrics = metrics
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="neurostack-done-listener")

    async def stop(self) -> None:
        self._stopping = True
        tasks = [*self._tasks, *([self._listener] if self._listener else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            # redis-py may turn a cancellation inside a read into a ConnectionError; the
            # _stopping flag ends the listener loop then, and the timeout bounds the wait.
            await asyncio.wait(tasks, timeout=5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), timeout=5)

    async def _listen(self) -> None:
        while not self._stopping:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.DONE_CHANNEL)
                self._wake_all()  # anything published while we were away: re-read keys
                async for message in pubsub.listen():
                    rid = message["data"]
                    if isinstance(rid, bytes):
                        rid = rid.decode()
                    for event in self._waiters.get(rid, ()):
                        event.set()
            except (RedisError, OSError) as exc:
                if self._stopping:
                    return
                log.warning("result listener lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), timeout=1)

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    # -- submitting -----------------------------------------------------------------

    async def submit(self, job: InferenceJob) -> None:
        """Queue ``job`` unless it already has a result or a live submission."""
        rid = keys.request_hex(job.request_id)
        result, marker = await self.redis.mget(keys.result_key(rid), keys.job_key(rid))
        if result is not None:
            return
        if marker is not None and json.loads(marker)["deadline"] > time.time():
            return  # the same request is already queued and watched
        ttl = max(1, int(job.deadline - time.time()) + JOB_MARKER_GRACE)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(
            keys.job_key(rid),
            json.dumps({"deadline": job.deadline, "submitted": time.time()}),
            ex=ttl,
        )
        pipe.delete(keys.error_key(rid))  # a resubmission starts afresh
        await pipe.execute()
        await self._send(job, rid, "first")
        task = asyncio.create_task(self._watch(job, rid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, job: InferenceJob, rid: str, kind: str) -> None:
        task_id = rid if kind == "first" else f"{rid}-{kind}"
        try:
            await run_in_threadpool(
                self.celery.send_task,
                INFER_TASK_NAME,
                args=[job.to_message()],
                queue=INFER_QUEUE,
                task_id=task_id,
                # Results come back through neurostack:result:<id>; Celery's own result
                # path would subscribe a pub/sub channel per sent task (~10 ms each here).
                ignore_result=True,
            )
        except OperationalError as exc:
            raise BrokerError(
                f"the job could not be queued: the broker (Redis) is unreachable ({exc}); "
                "retry shortly"
            ) from exc
        self.metrics.jobs_sent.labels(kind=kind).inc()

    async def _watch(self, job: InferenceJob, rid: str) -> None:
        speculate_at = min(time.time() + self.speculative_after, job.deadline)
        status = await self.wait(rid, speculate_at)
        if status is None and time.time() < job.deadline:
            log.info(
                "no result for %s after %.1fs: sending a speculative duplicate",
                rid,
                self.speculative_after,
            )
            try:
                await self._send(job, rid, "speculative")
            except Exception as exc:  # noqa: BLE001 - broker down: the first copy may still finish
                log.warning("could not send a speculative duplicate of %s: %s", rid, exc)

    # -- waiting --------------------------------------------------------------------

    async def status(self, rid: str) -> JobStatus | None:
        """Where a request stands now; ``None`` when this hub never saw it."""
        result, error, marker = await self.redis.mget(
            keys.result_key(rid), keys.error_key(rid), keys.job_key(rid)
        )
        if result is not None:
            return JobStatus("done", _result(result))
        if error is not None:
            failed = _result(error)
            return JobStatus("failed", failed, failed.error)
        if marker is not None:
            if json.loads(marker)["deadline"] < time.time():
                return JobStatus("failed", None, "no sprinter answered before the job's deadline")
            return JobStatus("pending")
        return None

    async def wait(self, rid: str, until: float) -> JobStatus | None:
        """Wait until the request is done or failed, or ``until`` (unix time) passes."""
        event = asyncio.Event()
        self._waiters.setdefault(rid, set()).add(event)
        try:
            while True:
                status = await self._finished(rid)
                if status is not None:
                    return status
                remaining = until - time.time()
                if remaining <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, POLL_INTERVAL))
                event.clear()
        finally:
            waiters = self._waiters.get(rid)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[rid]

    async def _finished(self, rid: str) -> JobStatus | None:
        try:
            status = await self.status(rid)
        except (RedisError, OSError):
            return None  # Redis restarting: keep waiting until the deadline
        if status is not None and status.status != "pending":
            if status.status == "failed" and status.result is None:
                return None  # marker deadline passed; the caller's own deadline decides
            return status
        return None


def _result(raw: bytes | str) -> JobResult:
    message: dict[str, Any] = json.loads(raw)
    return JobResult.from_message(message)
