"""The job client: the sprinter job protocol, implemented once for every requester.

``JobClient.submit(job, admissible=...)`` returns a ``Future[JobResult]``. Per job:

- Submit unless a result exists: one script reads the request's stored candidates and
  marks the job submitted (or finds a live submission of the same request by another
  requester and joins it); a stored candidate that verifies answers at once, nothing is
  queued.
- Fan out: ``redundancy`` copies are sent to the Celery queue (task ``INFER_TASK_NAME``),
  each with its own task id ``<requestId>-<n>`` and a ``shard`` header.
- Listen: one watcher thread per client subscribes to the chain's completion channel;
  each message is a whole ``JobResult``, verified on arrival, so no read follows it.
- Poll: every ``RESCAN_INTERVAL`` the watcher re-reads the candidates of every outstanding
  job in one round trip (a message lost while Redis restarts only delays a job).
- Verify: a candidate resolves the future only if :func:`check_job_result` passes it
  (signature, hashes, request id, chain id, a decodable output or a signed failure, and
  the signer admissible by the caller's ``admissible`` check). An invalid candidate never
  blocks a valid one: it is remembered and skipped, and another copy is sent (at most
  ``MAX_EXTRA_COPIES`` such copies, each naming the sprinters to avoid).
- Speculative duplicate: no answer ``speculative_after`` seconds after submission sends
  one more copy, which an idle worker takes if the first one died or stalls.
- Deadline: the job's own ``deadline`` (a job field: a ZK job may wait minutes); when it
  passes, the future resolves with an :class:`Expired` result naming what happened.

Submitting a request that is outstanding returns the same future: a request is one job,
whoever asks and however often. Sprinters complete and count a request once (they keep
one result per signer), so a duplicate delivery is never paid twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import redis
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from neurostack.protocol import job_keys as keys
from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.jobs import (
    INFER_QUEUE,
    INFER_TASK_NAME,
    MAX_AVOID,
    InferenceJob,
    JobResult,
    SignerCheck,
    job_result_signer,
    read_job_result,
    shard_key,
)
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import input_hash
from neurostack.protocol.types import Address

from .errors import BrokerUnavailable
from .sender import make_sender
from .store import Candidates, ResultStore

log = logging.getLogger(__name__)

RESCAN_INTERVAL = 0.25  # seconds between re-reads of outstanding jobs
TICK = 0.05  # seconds the watcher waits for a message before checking timers
MAX_EXTRA_COPIES = 4  # copies sent because results were rejected, per job
DEFAULT_MAX_RESULT_BYTES = 8 * 1024 * 1024  # a longer stored or published result is ignored


class TaskSender(Protocol):
    """What the client needs of Celery: ``Celery.send_task``."""

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Expired(JobResult):
    """The result of a job nobody answered validly before its deadline."""


@dataclass
class _Job:
    job: InferenceJob
    admissible: SignerCheck
    future: Future[JobResult]
    rid: str
    speculate_at: float
    copies: int = 0
    speculated: bool = False
    rejected: dict[str, str] = field(default_factory=dict)  # SHA-1 of the raw message -> why
    avoid: list[Address] = field(default_factory=list)
    extra: int = 0  # copies sent because of rejected results
    queued: bool = False  # submit() has read the store and sent what it needed to


class JobClient:
    """Sends one chain's inference jobs and resolves their futures with verified results."""

    def __init__(
        self,
        redis_url: str,
        *,
        chain_id: int,
        redundancy: int = 1,
        speculative_after: float = 5.0,
        celery: TaskSender | None = None,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        on_send: Callable[[str], None] = lambda kind: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if redundancy < 1:
            raise ValueError("redundancy must be at least 1")
        self.chain_id = chain_id
        self.redundancy = redundancy
        self.speculative_after = speculative_after
        self.max_result_bytes = max_result_bytes
        self._celery = celery or make_sender(redis_url)
        self._redis = redis.Redis.from_url(redis_url)
        self._store = ResultStore(self._redis, chain_id, max_result_bytes)
        self._on_send = on_send
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="neurostack-jobs", daemon=True)
        self._thread.start()

    # -- submitting ------------------------------------------------------------------

    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]:
        """Queue ``job`` (once per request id) and return the future of its verified result.

        ``admissible`` decides whether a result's signer may answer (e.g. the chain's
        registry as of the block being built). Raises :class:`BrokerUnavailable` when
        nothing could be queued; otherwise the future resolves, never raises.
        """
        if job.chain_id != self.chain_id:
            raise ValueError(f"this job client serves chain {self.chain_id}, not {job.chain_id}")
        rid = keys.request_hex(job.request_id)
        now = self._clock()
        with self._lock:
            existing = self._jobs.get(rid)
            if existing is not None:
                return existing.future
            entry = _Job(job, admissible, Future(), rid, now + self.speculative_after)
            self._jobs[rid] = entry
        try:
            stored = self._store.submit(job, now)
            if not (self._consider(entry, stored) or stored.joined):
                for _ in range(self.redundancy):  # else answered, or another requester's
                    self._send(entry, "first")  # copies are on the way
            with self._lock:  # from now on the watcher's re-reads judge this job too
                entry.queued = True
        except (RedisError, OSError, OperationalError) as exc:
            with self._lock:
                self._jobs.pop(rid, None)
            raise BrokerUnavailable(
                f"the job could not be queued: the hub's broker (Redis) is unreachable ({exc}); "
                "retry shortly"
            ) from exc
        return entry.future

    def outstanding(self) -> int:
        """How many jobs are in flight."""
        with self._lock:
            return len(self._jobs)

    def close(self) -> None:
        """Stop watching; unresolved futures are cancelled."""
        self._stopping.set()
        self._thread.join(timeout=5)
        with self._lock:
            pending, self._jobs = list(self._jobs.values()), {}
        for entry in pending:
            entry.future.cancel()
        self._redis.close()

    @property
    def store(self) -> ResultStore:
        """The Redis reads this client makes (for status queries)."""
        return self._store

    # -- verifying -------------------------------------------------------------------

    def _consider(self, entry: _Job, candidates: Iterable[bytes]) -> bool:
        """Resolve ``entry`` with the first candidate that verifies; remember the others.
        True once resolved. Runs without the lock: ``admissible`` may read a chain."""
        fresh_rejections = 0
        for raw in candidates:
            digest = hashlib.sha1(raw).hexdigest()  # the value's identity, as Redis computes it
            with self._lock:  # claimed before judging: the watcher and submit() may race
                if digest in entry.rejected:
                    continue
                entry.rejected[digest] = "being verified"
            job = entry.job
            result, signer, problem = judge(
                raw,
                chain_id=job.chain_id,
                request_id=job.request_id,
                mode=job.mode,
                admissible=entry.admissible,
            )
            if result is not None:
                self._resolve(entry, result)
                return True
            with self._lock:
                entry.rejected[digest] = problem
                if signer is not None and signer not in entry.avoid:
                    entry.avoid.append(signer)
            fresh_rejections += 1
            log.warning("job %s: ignored a result: %s", entry.rid, problem)
        if fresh_rejections:
            self._replace_rejected(entry)
        return entry.future.done()

    def _replace_rejected(self, entry: _Job) -> None:
        """Ask another sprinter: one more copy per round of rejections, within bounds."""
        with self._lock:
            if self._jobs.get(entry.rid) is not entry:
                return
            if entry.extra >= MAX_EXTRA_COPIES or self._clock() >= entry.job.deadline:
                return
            entry.extra += 1
        if entry.copies == 0:
            return  # not sent yet: submit() sends the first copies with the avoid list
        try:
            self._send(entry, "retry")
        except (RedisError, OSError, OperationalError) as exc:
            log.warning("could not send another copy of %s: %s", entry.rid, exc)

    def _resolve(self, entry: _Job, result: JobResult) -> None:
        with self._lock:
            if self._jobs.get(entry.rid) is not entry:
                return
            del self._jobs[entry.rid]
        entry.future.set_result(result)

    # -- sending ---------------------------------------------------------------------

    def _send(self, entry: _Job, kind: str) -> None:
        with self._lock:
            entry.copies += 1
            task_id = f"{entry.rid}-{entry.copies}"
            avoid = tuple(entry.avoid[-MAX_AVOID:])
            job = replace(entry.job, avoid=avoid) if avoid else entry.job
        self._celery.send_task(
            INFER_TASK_NAME,
            args=[job.to_message()],
            queue=INFER_QUEUE,
            task_id=task_id,
            headers={"shard": shard_key(job.model_cid, input_hash(job.input_abi))},
            # Celery would otherwise build a safe repr of the whole input for its logs.
            argsrepr=f"[job {task_id}]",
            kwargsrepr="{}",
            # Results come back through the result contract, not Celery's result backend.
            ignore_result=True,
        )
        self._on_send(kind)

    # -- the watcher thread ----------------------------------------------------------

    def _watch(self) -> None:
        pubsub = None
        last_scan = 0.0
        while not self._stopping.is_set():
            try:
                if pubsub is None:
                    pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(keys.done_channel(self.chain_id))
                    last_scan = 0.0  # re-read everything we may have missed
                message = pubsub.get_message(timeout=TICK)
                if message is not None:
                    self._on_message(message["data"])
                now = self._clock()
                if now - last_scan >= RESCAN_INTERVAL:
                    last_scan = now
                    self._scan(now)
            except (RedisError, OSError) as exc:
                log.warning("job client lost Redis (%s); reconnecting", exc)
                if pubsub is not None:
                    pubsub.close()
                pubsub = None
                self._stopping.wait(0.5)
                self._check_timers(self._clock())  # deadlines pass while Redis is away
            except Exception:  # a bad message or a failing check must not stop the watcher
                log.exception("job client watcher failed; continuing")
        if pubsub is not None:
            pubsub.close()

    def _on_message(self, data: Any) -> None:
        if not isinstance(data, bytes) or len(data) > self.max_result_bytes:
            return
        rid = _request_of(data)
        with self._lock:
            entry = self._jobs.get(rid) if rid is not None else None
        if entry is not None:
            self._consider(entry, [data])

    def _scan(self, now: float) -> None:
        with self._lock:  # not a job submit() is still judging: both would claim its stored
            entries = [e for e in self._jobs.values() if e.queued]  # results, and submit()
            reads = [(e.rid, list(e.rejected)) for e in entries]  # would queue a needless job
        if entries:
            for entry, stored in zip(entries, self._store.collect(reads), strict=True):
                self._consider(entry, stored)
        self._check_timers(now)

    def _check_timers(self, now: float) -> None:
        with self._lock:
            entries = list(self._jobs.values())
        for entry in entries:
            if now >= entry.job.deadline:
                self._resolve(entry, expired(entry))
            elif now >= entry.speculate_at and not entry.speculated:
                entry.speculated = True
                log.info("job %s slow after %.1fs: speculative duplicate", entry.rid, now)
                try:
                    self._send(entry, "speculative")
                except (RedisError, OSError, OperationalError) as exc:
                    log.warning("could not send a speculative duplicate of %s: %s", entry.rid, exc)


def judge(
    raw: bytes, *, chain_id: int, request_id: bytes, mode: InferenceMode, admissible: SignerCheck
) -> tuple[JobResult | None, Address | None, str]:
    """Verify one candidate message for a request: ``(result, signer, "")`` when it may be
    used, else ``(None, signer or None, why)``; ``signer`` is given only when the signature
    itself held (so that sprinter can be asked to stay away)."""
    try:
        result = read_job_result(raw)
        signer = job_result_signer(result, chain_id=chain_id, request_id=request_id)
    except ProtocolError as exc:
        return None, None, str(exc)[:300]
    problem = admissible(signer, mode)
    if problem is not None:
        return None, signer, f"inadmissible signer: {problem}"
    return result, signer, ""


def expired(entry: _Job) -> Expired:
    """The result of a job whose deadline passed, saying what was tried."""
    reason = f"no sprinter answered within the deadline ({entry.copies} copies sent"
    if entry.rejected:
        shown = "; ".join(list(entry.rejected.values())[:3])
        reason += f"; {len(entry.rejected)} results rejected: {shown}"
    return Expired(entry.job.request_id, None, reason + ")")


def _request_of(data: bytes) -> str | None:
    """The request id a completion message names, found without parsing it: messages of
    other requests are never parsed, this one once, when judged."""
    match = _REQUEST_ID.search(data, 0, 256)
    return match.group(1).decode().lower() if match else None


_REQUEST_ID = re.compile(rb'"requestId":\s*"(0x[0-9a-fA-F]{64})"')


__all__ = ["Candidates", "Expired", "JobClient", "TaskSender", "judge"]
