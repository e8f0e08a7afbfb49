"""The narrow interface the sequencer needs from an inference service, and its stand-in.

``InferenceBackend`` is declared here, by its consumer (op-node style); ``bridge.CeleryBridge``
implements it and the composition root (``neurostack node``) plugs it in. The sequencer
never imports ``bridge/``. A node started without a hub gets :class:`NoInference`, a
disabled backend whose every job fails at once with a message saying what to do, so the
rest of PIPE has no ``None`` checks.

Results come from outside (sprinters, and anyone who can write the hub's Redis), so the
sequencer tells the backend which signers it may accept: :func:`registry_check` is the
chain's rule, the one its state transition applies to the block being built.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.jobs import InferenceJob, JobResult, SignerCheck
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.types import Address

from ..chain.inference import live_registry
from .view import ChainView

NO_BACKEND_MESSAGE = (
    "this node has no inference backend; start it with a hub (neurostack up), "
    "or pass --redis-url to `neurostack node`"
)


class InferenceBackend(Protocol):
    """Runs inference jobs somewhere else (a hub's sprinters)."""

    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]:
        """Start ``job`` (idempotent per request id) and return the future of its result.

        The future resolves with a ``JobResult`` holding a verified receipt whose signer
        ``admissible`` accepts, or with an error result (unknown model, invalid input,
        deadline passed); it does not raise. A result that fails verification or whose
        signer ``admissible`` refuses is never used: the backend asks another sprinter.
        """
        ...


def registry_check(chain: ChainView) -> SignerCheck:
    """The chain's admissibility rule for result signers: the sprinter registry of the head
    state (the parent of the block being built, as the state transition reads it) at the
    chain's current time (TEE attestations age)."""

    def admissible(signer: Address, mode: InferenceMode) -> str | None:
        state = chain.state_at(chain.head().header.block_number)
        return signer_problem(signer, mode, registry=live_registry(state), now=chain.chain_time())

    return admissible


class NoInference:
    """The disabled backend: every job fails immediately with :data:`NO_BACKEND_MESSAGE`."""

    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]:
        future: Future[JobResult] = Future()
        future.set_result(JobResult(job.request_id, None, NO_BACKEND_MESSAGE))
        return future

    def close(self) -> None:
        """Nothing to release (same surface as ``bridge.CeleryBridge``)."""
