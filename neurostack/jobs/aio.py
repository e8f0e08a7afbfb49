"""The async facade of :class:`~.client.JobClient`, for asyncio servers (the hub API).

The protocol runs once, in the sync core and its watcher thread; this facade only moves
the blocking parts (one Redis script and the Celery publish per submission) off the event
loop and awaits the core's futures. One admissibility rule serves every call.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from neurostack.protocol.jobs import InferenceJob, JobResult, SignerCheck
from neurostack.protocol.modes import InferenceMode

from .client import Expired, JobClient, judge


@dataclass(frozen=True)
class JobStatus:
    """Where a request stands: ``done`` with a verified receipt, ``failed`` with a reason
    (a sprinter's signed failure, or the deadline), or ``pending``."""

    status: Literal["pending", "done", "failed"]
    result: JobResult | None = None
    error: str | None = None


class AsyncJobClient:
    """``await run(job)``, ``await submit(job)``, ``await status(rid)`` over a JobClient."""

    def __init__(self, client: JobClient, admissible: SignerCheck) -> None:
        self.client = client
        self.admissible = admissible

    async def run(self, job: InferenceJob) -> JobStatus | None:
        """Submit ``job`` and wait for its outcome until its deadline (``None``: nobody
        answered validly in time). A stored valid result answers without queuing."""
        future = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.client.submit(job, admissible=self.admissible)
        )
        result = await asyncio.wrap_future(future)
        if isinstance(result, Expired):
            return None
        return outcome(result)

    async def submit(self, job: InferenceJob) -> None:
        """Queue ``job`` (unless it has a valid result or a live submission) and return."""
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.client.submit(job, admissible=self.admissible)
        )

    async def status(self, rid: str) -> JobStatus | None:
        """Where request ``rid`` (0x hex) stands now; ``None`` when this hub never saw it."""
        return await asyncio.get_running_loop().run_in_executor(None, self._status, rid)

    def _status(self, rid: str) -> JobStatus | None:
        store = self.client.store
        marker = store.marker(rid)
        (stored,) = store.collect([(rid, ())])
        # The marker tells the mode the signer must be admissible for; a receipt names its
        # own (and its request id binds it), so VANILLA only stands in for a lost marker.
        known = {int(m) for m in InferenceMode}
        mode = InferenceMode(marker.mode if marker and marker.mode in known else 0)
        for raw in stored:
            result, _signer, _why = judge(
                raw,
                chain_id=self.client.chain_id,
                request_id=bytes.fromhex(rid[2:]),
                mode=mode,
                admissible=self.admissible,
            )
            if result is not None:
                return outcome(result)
        if marker is None:
            return None
        if marker.deadline < time.time():
            return JobStatus("failed", None, "no sprinter answered before the job's deadline")
        return JobStatus("pending")

    async def aclose(self) -> None:
        """Stop the core's watcher (in a thread: it joins)."""
        await asyncio.get_running_loop().run_in_executor(None, self.client.close)


def outcome(result: JobResult) -> JobStatus:
    """The status a verified result gives its request."""
    if result.receipt is not None:
        return JobStatus("done", result)
    return JobStatus("failed", result, result.error)
