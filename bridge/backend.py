"""The rollup → hub path: the sequencer's ``InferenceBackend`` over the shared job client.

``CeleryBridge`` is what ``neurostack node --redis-url`` plugs into PIPE (the
``InferenceBackend`` protocol declared in ``sequencer/pipe/backend.py``): ``submit(job,
admissible=...)`` returns a future of the job's verified ``JobResult``. The protocol
itself (fan-out, listening, polling, speculative duplicate, deadline, verification,
another copy after an invalid result) is :class:`neurostack.jobs.JobClient`, the same
code the hub API runs; this class adds what a chain needs on top: its chain id's
namespace, its redundancy, and its registration on the hub (one chain per chain id).
"""

from __future__ import annotations

from concurrent.futures import Future

import redis

from neurostack.jobs import ChainRegistration, JobClient, TaskSender
from neurostack.protocol.jobs import InferenceJob, JobResult, SignerCheck


class CeleryBridge:
    """Sends one chain's inference jobs to a hub's sprinters; first valid result wins."""

    def __init__(
        self,
        redis_url: str,
        *,
        chain_id: int,
        genesis_hash: bytes | None = None,
        redundancy: int = 1,
        speculative_after: float = 5.0,
        celery: TaskSender | None = None,
    ) -> None:
        """``genesis_hash`` registers the chain on the hub (raises ``ChainIdTaken`` when
        another chain holds ``chain_id``); ``None`` skips it (tests, tools)."""
        self._registration: ChainRegistration | None = None
        if genesis_hash is not None:
            self._redis = redis.Redis.from_url(redis_url)
            self._registration = ChainRegistration(self._redis, chain_id, genesis_hash).start()
        self._client = JobClient(
            redis_url,
            chain_id=chain_id,
            redundancy=redundancy,
            speculative_after=speculative_after,
            celery=celery,
        )

    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]:
        """Queue ``job`` (once per request id); the future of its first valid result."""
        return self._client.submit(job, admissible=admissible)

    def outstanding(self) -> int:
        """How many jobs are in flight."""
        return self._client.outstanding()

    def close(self) -> None:
        """Stop watching (unresolved futures are cancelled) and release the chain id."""
        self._client.close()
        if self._registration is not None:
            self._registration.stop()
            self._redis.close()
