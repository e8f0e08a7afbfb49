"""Sending inference jobs from the hub API to the sprinters and waiting for results.

Jobs travel through Celery (task ``INFER_TASK_NAME`` on queue ``INFER_QUEUE``); results
come back through Redis: a sprinter stores the winning ``JobResult`` under
``neurostack:result:<requestId>``, publishes it on the hub's ``RESULT_CHANNEL`` and the
id on the shared ``neurostack:done``. One pub/sub listener per API process resolves the
waiting requests straight from the result message; an id on the done channel that no
result message answered (a job finished by some other sprinter) is read from its key
once for all its waiters. Each waiter also re-reads the key every ``POLL_INTERVAL`` so a
message lost during a Redis restart only delays it.

Round trips are what a request costs on a small machine (each loopback write wakes
another process), so the fast path :meth:`Dispatcher.run` makes two: one script that
answers from a stored result or marks the job submitted, and the Celery publish; the
answer then arrives by itself. Waiters are registered before the job is sent, so they
cannot miss its message and need no first read.

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
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from neurostack.protocol import job_keys as keys
from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.jobs import INFER_QUEUE, INFER_TASK_NAME, InferenceJob, JobResult

from .channels import RESULT_CHANNEL
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


# Atomically: a stored result answers at once ({1, result}); a live submission of the same
# request is joined ({2}); otherwise the job is marked submitted, an old failure of the
# same request forgotten ({0}) and the caller sends it.
_SUBMIT = """
local result = redis.call('GET', KEYS[1])
if result then return {1, result} end
local marker = redis.call('GET', KEYS[2])
if marker then
  local ok, decoded = pcall(cjson.decode, marker)
  if ok and type(decoded) == 'table' and tonumber(decoded['deadline'] or 0) > tonumber(ARGV[1]) then
    return {2}
  end
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('DEL', KEYS[3])
return {0}
"""
_STORED, _JOINED = 1, 2

Waiter = asyncio.Future[JobStatus]


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
        self._submit_script = redis_client.register_script(_SUBMIT)
        self._waiters: dict[str, set[Waiter]] = {}
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
                await pubsub.subscribe(RESULT_CHANNEL, keys.DONE_CHANNEL)
                for rid in list(self._waiters):  # published while we were away: re-read
                    self._deliver(rid)
                async for message in pubsub.listen():
                    self._on_message(message["channel"], message["data"])
            except (RedisError, OSError) as exc:
                if self._stopping:
                    return
                log.warning("result listener lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), timeout=1)

    def _on_message(self, channel: bytes | str, data: bytes | str) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode()
        if channel == RESULT_CHANNEL:
            # The outcome itself: resolve the waiters without reading Redis.
            try:
                outcome = _result(data)
            except (ValueError, ProtocolError) as exc:
                log.warning("ignored a malformed result message: %s", exc)
                return
            rid = keys.request_hex(outcome.request_id)
            if rid in self._waiters:
                self._resolve(rid, _outcome_status(outcome))
            return
        rid = data.decode() if isinstance(data, bytes) else data
        # A sprinter of this hub sent the result message first (same connection, so it was
        # handled already); a waiter still unresolved heard of its job from elsewhere.
        if any(not w.done() for w in self._waiters.get(rid, ())):
            self._deliver(rid)

    def _resolve(self, rid: str, status: JobStatus) -> None:
        for waiter in self._waiters.get(rid, ()):
            if not waiter.done():
                waiter.set_result(status)

    def _deliver(self, rid: str) -> None:
        """Read ``rid``'s status once (in a task, so the listener goes on) for all its waiters."""
        self._spawn(self._read_and_deliver(rid))

    async def _read_and_deliver(self, rid: str) -> None:
        status = await self._finished(rid)
        if status is not None:
            self._resolve(rid, status)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _expect(self, rid: str) -> Waiter:
        waiter: Waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(rid, set()).add(waiter)
        return waiter

    def _forget(self, rid: str, waiter: Waiter) -> None:
        waiters = self._waiters.get(rid)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[rid]

    # -- submitting -----------------------------------------------------------------

    async def run(self, job: InferenceJob) -> JobStatus | None:
        """Submit ``job`` and wait for its outcome until its deadline (``None``: none came).
        A stored result of the same request answers without queuing anything."""
        rid = keys.request_hex(job.request_id)
        waiter = self._expect(rid)
        try:
            stored = await self.submit(job)
            if stored is not None:
                return stored
            return await self.wait(rid, job.deadline, expected=waiter)
        finally:
            self._forget(rid, waiter)

    async def submit(self, job: InferenceJob) -> JobStatus | None:
        """Queue ``job`` unless it already has a result (returned as a ``done`` status) or
        a live submission (then ``None``, as for a job queued now)."""
        rid = keys.request_hex(job.request_id)
        now = time.time()
        ttl = max(1, int(job.deadline - now) + JOB_MARKER_GRACE)
        marker = json.dumps({"deadline": job.deadline, "submitted": now})
        reply = await self._submit_script(
            keys=[keys.result_key(rid), keys.job_key(rid), keys.error_key(rid)],
            args=[repr(now), marker, ttl],
        )
        if reply[0] == _STORED:
            return JobStatus("done", _result(reply[1]))
        if reply[0] == _JOINED:
            return None  # the same request is already queued and watched
        # The watcher's waiter exists before the job is sent, so no answer can slip past it.
        watcher = self._expect(rid)
        try:
            await self._send(job, rid, "first")
        except BaseException:
            self._forget(rid, watcher)
            raise
        self._spawn(self._watch(job, rid, watcher))
        return None

    async def _send(self, job: InferenceJob, rid: str, kind: str) -> None:
        task_id = rid if kind == "first" else f"{rid}-{kind}"
        try:
            await run_in_threadpool(
                self.celery.send_task,
                INFER_TASK_NAME,
                args=[job.to_message()],
                queue=INFER_QUEUE,
                task_id=task_id,
                # Celery would otherwise build a safe repr of the whole input for its logs
                # on every send (a sixth of send_task's time for a small job).
                argsrepr=f"[job {task_id}]",
                kwargsrepr="{}",
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

    async def _watch(self, job: InferenceJob, rid: str, watcher: Waiter) -> None:
        speculate_at = min(time.time() + self.speculative_after, job.deadline)
        try:
            status = await self.wait(rid, speculate_at, expected=watcher)
        finally:
            self._forget(rid, watcher)
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
            return _outcome_status(_result(error))
        if marker is not None:
            if json.loads(marker)["deadline"] < time.time():
                return JobStatus("failed", None, "no sprinter answered before the job's deadline")
            return JobStatus("pending")
        return None

    async def wait(
        self, rid: str, until: float, *, expected: Waiter | None = None
    ) -> JobStatus | None:
        """Wait until the request is done or failed, or ``until`` (unix time) passes.

        ``expected`` is a waiter registered before the job was sent: it cannot have missed
        the completion message, so the first read of the keys is skipped.
        """
        waiter = expected if expected is not None else self._expect(rid)
        try:
            if expected is None:
                status = await self._finished(rid)
                if status is not None:
                    return status
            while not waiter.done():
                remaining = until - time.time()
                if remaining <= 0:
                    return None
                await asyncio.wait((waiter,), timeout=min(remaining, POLL_INTERVAL))
                if waiter.done():
                    break
                status = await self._finished(rid)  # a message lost in a Redis restart
                if status is not None:
                    return status
            return waiter.result()
        finally:
            if expected is None:
                self._forget(rid, waiter)

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


def _outcome_status(outcome: JobResult) -> JobStatus:
    if outcome.receipt is not None:
        return JobStatus("done", outcome)
    return JobStatus("failed", outcome, outcome.error)


def _result(raw: bytes | str) -> JobResult:
    message: dict[str, Any] = json.loads(raw)
    return JobResult.from_message(message)
