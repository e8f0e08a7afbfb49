"""The narrow interface the sequencer needs from an inference service, and its stand-in.

``InferenceBackend`` is declared here, by its consumer (op-node style); ``bridge.CeleryBridge``
implements it and the composition root (``neurostack node``) plugs it in. The sequencer
never imports ``bridge/``. A node started without a hub gets :class:`NoInference`, a
disabled backend whose every job fails at once with a message saying what to do, so the
rest of PIPE has no ``None`` checks.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from neurostack.protocol.jobs import InferenceJob, JobResult

NO_BACKEND_MESSAGE = (
    "this node has no inference backend; start it with a hub (neurostack up), "
    "or pass --redis-url to `neurostack node`"
)


class InferenceBackend(Protocol):
    """Runs inference jobs somewhere else (a hub's sprinters)."""

    def submit(self, job: InferenceJob) -> Future[JobResult]:
        """Start ``job`` (idempotent per request id) and return the future of its result.

        The future resolves with a ``JobResult`` holding a signed receipt, or with an error
        result (unknown model, invalid input, deadline passed); it does not raise.
        """
        ...


class NoInference:
    """The disabled backend: every job fails immediately with :data:`NO_BACKEND_MESSAGE`."""

    def submit(self, job: InferenceJob) -> Future[JobResult]:
        future: Future[JobResult] = Future()
        future.set_result(JobResult(job.request_id, None, NO_BACKEND_MESSAGE))
        return future

    def close(self) -> None:
        """Nothing to release (same surface as ``bridge.CeleryBridge``)."""
