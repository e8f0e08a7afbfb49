"""The rollup → hub path: inference jobs out through Celery, first valid receipt back.

``CeleryBridge`` is the sequencer's inference backend (the ``InferenceBackend``
protocol declared in ``sequencer/``): ``submit(job)`` returns a future that resolves with
the job's ``JobResult``. Jobs go to the hub's Celery queue by task name
(``INFER_TASK_NAME``), so this package never imports the hub. Results come back through
the Redis result contract of :mod:`neurostack.protocol.job_keys`: the first sprinter to
store a result wins, every other copy of the job returns that stored result.

Per job, in one watcher thread:

- Fan-out and race: ``redundancy`` copies are sent at once (distinct Celery task ids,
  one request id); whichever sprinter finishes first wins, the rest are dropped.
- Speculative duplicate: no answer after ``speculative_after`` seconds sends one more copy,
  which an idle worker picks up if the first one died or stalls.
- Verification: a receipt must answer this chain, this request and carry a valid signature
  (``check_receipt``); an invalid one resolves the job as failed. Whether the signer is
  admissible is the state transition's call, not ours.
- Deadline: a job with no answer by its deadline resolves as failed, with that reason.

Submitting the same request id twice returns the same future: a request is one job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import redis
from celery import Celery
from redis.exceptions import RedisError

from neurostack.protocol import job_keys
from neurostack.protocol.errors import InvalidJob, InvalidReceipt
from neurostack.protocol.jobs import (
    INFER_QUEUE,
    INFER_TASK_NAME,
    InferenceJob,
    JobResult,
    shard_key,
)
from neurostack.protocol.receipts import check_receipt
from neurostack.protocol.request import input_hash

from .errors import BrokerUnavailable

log = logging.getLogger(__name__)

RESCAN_INTERVAL = 0.25  # seconds between re-reads of outstanding result keys


@dataclass
class _Outstanding:
    job: InferenceJob
    future: Future[JobResult]
    speculate_at: float
    copies: int
    speculated: bool = False
    rid: str = field(init=False)

    def __post_init__(self) -> None:
        self.rid = job_keys.request_hex(self.job.request_id)


def make_celery(redis_url: str) -> Celery:
    """A sending-only Celery app for the hub's broker (JSON, the hub's queue)."""
    app = Celery("neurostack.bridge", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=INFER_QUEUE,
        broker_connection_retry_on_startup=True,
        broker_pool_limit=8,
    )
    return app


class CeleryBridge:
    """Sends inference jobs to sprinters and resolves futures with their results."""

    def __init__(
        self,
        redis_url: str,
        *,
        redundancy: int = 1,
        speculative_after: float = 5.0,
        celery: Celery | None = None,
    ) -> None:
        if redundancy < 1:
            raise ValueError("redundancy must be at least 1")
        self.redundancy = redundancy
        self.speculative_after = speculative_after
        self._celery = celery or make_celery(redis_url)
        self._redis = redis.Redis.from_url(redis_url)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Outstanding] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neurostack-bridge", daemon=True)
        self._thread.start()

    # -- the InferenceBackend interface ------------------------------------------------

    def submit(self, job: InferenceJob) -> Future[JobResult]:
        """Queue ``job`` (once per request id) and return the future of its result."""
        rid = job_keys.request_hex(job.request_id)
        with self._lock:
            existing = self._jobs.get(rid)
            if existing is not None:
                return existing.future
            entry = _Outstanding(job, Future(), time.time() + self.speculative_after, copies=0)
            self._jobs[rid] = entry
        try:
            stored = self._redis.get(job_keys.result_key(rid))
            if stored is not None:
                self._resolve(entry, _parse(stored))
                return entry.future
            for _ in range(self.redundancy):
                self._send(entry)
        except (RedisError, OSError) as exc:
            with self._lock:
                self._jobs.pop(rid, None)
            raise BrokerUnavailable(f"cannot reach the hub's Redis broker: {exc}") from exc
        return entry.future

    def close(self) -> None:
        """Stop watching; unresolved futures are cancelled."""
        self._stopping.set()
        self._thread.join(timeout=5)
        with self._lock:
            pending, self._jobs = list(self._jobs.values()), {}
        for entry in pending:
            entry.future.cancel()
        self._redis.close()

    def outstanding(self) -> int:
        """How many jobs are in flight."""
        with self._lock:
            return len(self._jobs)

    # -- internals ----------------------------------------------------------------------

    def _send(self, entry: _Outstanding) -> None:
        entry.copies += 1
        job = entry.job
        self._celery.send_task(
            INFER_TASK_NAME,
            args=[job.to_message()],
            queue=INFER_QUEUE,
            task_id=f"{entry.rid}-{entry.copies}",
            headers={"shard": shard_key(job.model_cid, input_hash(job.input_abi))},
        )

    def _run(self) -> None:
        pubsub = None
        last_scan = 0.0
        while not self._stopping.is_set():
            try:
                if pubsub is None:
                    pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(job_keys.DONE_CHANNEL)
                    last_scan = 0.0  # re-read everything we may have missed
                message = pubsub.get_message(timeout=0.05)
                if message is not None:
                    rid = message["data"]
                    self._check(rid.decode() if isinstance(rid, bytes) else str(rid))
                now = time.time()
                if now - last_scan >= RESCAN_INTERVAL:
                    last_scan = now
                    self._scan(now)
            except (RedisError, OSError) as exc:
                log.warning("bridge lost Redis (%s); reconnecting", exc)
                pubsub = None
                self._stopping.wait(0.5)
        if pubsub is not None:
            pubsub.close()

    def _check(self, rid: str) -> None:
        with self._lock:
            entry = self._jobs.get(rid)
        if entry is None:
            return
        stored = self._redis.get(job_keys.result_key(rid))
        if stored is not None:
            self._resolve(entry, _parse(stored))

    def _scan(self, now: float) -> None:
        with self._lock:
            entries = list(self._jobs.values())
        if not entries:
            return
        keys = [k for e in entries for k in (job_keys.result_key(e.rid), job_keys.error_key(e.rid))]
        values = self._redis.mget(keys)
        for i, entry in enumerate(entries):
            result, error = values[2 * i], values[2 * i + 1]
            if result is not None:
                self._resolve(entry, _parse(result))
            elif error is not None:
                self._resolve(entry, _parse(error))
            elif now >= entry.job.deadline:
                self._resolve(
                    entry,
                    JobResult(
                        entry.job.request_id,
                        None,
                        f"no sprinter answered within the deadline ({entry.copies} copies sent)",
                    ),
                )
            elif now >= entry.speculate_at and not entry.speculated:
                entry.speculated = True
                log.info(
                    "job %s slow after %.1fs: sending a speculative duplicate",
                    entry.rid,
                    self.speculative_after,
                )
                self._send(entry)

    def _resolve(self, entry: _Outstanding, result: JobResult | None) -> None:
        with self._lock:
            if self._jobs.pop(entry.rid, None) is None:
                return
        job = entry.job
        if result is None:
            result = JobResult(job.request_id, None, "a sprinter returned a malformed result")
        elif result.receipt is not None:
            try:
                check_receipt(result.receipt, chain_id=job.chain_id, request_id=job.request_id)
            except InvalidReceipt as exc:
                result = JobResult(job.request_id, None, f"invalid receipt: {exc}", result.worker)
        entry.future.set_result(result)


def _parse(raw: bytes | str) -> JobResult | None:
    try:
        message: Any = json.loads(raw)
        return JobResult.from_message(message)
    except (ValueError, InvalidJob):
        return None
