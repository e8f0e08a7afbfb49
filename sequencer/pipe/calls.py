"""Inference for ``eth_call`` and ``eth_estimateGas``: ask the backend and wait.

A read-only call of a contract that calls a model runs in ``SIMULATE`` mode with a
:class:`WaitingRecorder`: the first request the witness (PIPE's receipt cache) cannot
answer becomes a job; the recorder waits for its receipt (at most ``timeout`` seconds)
and hands it to the precompile, which verifies it like any block receipt. The call then
continues with the real output. Nothing is persisted: only the receipt cache learns the
receipt, so a transaction sent after the call finds it ready at once.

A timeout raises :class:`~.errors.InferenceTimedOut`, a failed job
:class:`~.errors.InferenceFailed`; the RPC turns both into JSON-RPC error -32000.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

from neurostack.protocol.jobs import InferenceJob, SignerCheck
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt

from ..chain.inference import InferenceRequest
from .backend import InferenceBackend
from .errors import InferenceFailed, InferenceTimedOut


def describe(request: InferenceRequest) -> str:
    """How messages name a request."""
    return f"request 0x{bytes(request.request_id).hex()} (model {request.model_cid}, {request.mode.name})"


def make_job(
    request: InferenceRequest, *, receipt_ttl: int, deadline: float, chain_now: int
) -> InferenceJob:
    """The job of one request: the receipt expires ``receipt_ttl`` s after ``chain_now``
    (chain time, which block timestamps follow); ``deadline`` is wall-clock time."""
    return InferenceJob(
        request_id=request.request_id,
        chain_id=request.chain_id,
        model_cid=request.model_cid,
        mode=request.mode,
        input_abi=request.input_abi,
        expiry=int(chain_now) + receipt_ttl,
        deadline=deadline,
    )


class WaitingRecorder:
    """An ``InferenceRecorder`` that runs each unknown request through the backend, blocking."""

    def __init__(
        self,
        backend: InferenceBackend,
        *,
        admissible: SignerCheck,
        timeout: float,
        receipt_ttl: int,
        on_receipt: Callable[[InferenceReceipt], None] = lambda r: None,
        clock: Callable[[], float] = time.time,
        chain_clock: Callable[[], float] = time.time,
        zk_timeout: float | None = None,
    ) -> None:
        self.backend = backend
        self.zk_timeout = timeout if zk_timeout is None else zk_timeout
        self.admissible = admissible
        self.timeout = timeout
        self.receipt_ttl = receipt_ttl
        self.on_receipt = on_receipt
        self.clock = clock
        self.chain_clock = chain_clock

    def on_unknown(self, request: InferenceRequest) -> InferenceReceipt:
        now = self.clock()
        timeout = self.zk_timeout if request.mode is InferenceMode.ZK else self.timeout
        job = make_job(
            request,
            receipt_ttl=self.receipt_ttl,
            deadline=now + timeout,
            chain_now=int(self.chain_clock()),
        )
        future = self.backend.submit(job, admissible=self.admissible)
        try:
            result = future.result(timeout=timeout)
        except FutureTimeout:
            raise InferenceTimedOut(
                f"inference timed out: no sprinter answered {describe(request)} within "
                f"{timeout:g} s; check the hub's workers or retry"
            ) from None
        except Exception as exc:  # noqa: BLE001 - a broken backend is a failed job to the caller
            raise InferenceFailed(f"inference failed: {describe(request)}: {exc}") from None
        if result.receipt is None:
            error = result.error or "no receipt"
            if "deadline" in error:
                raise InferenceTimedOut(f"inference timed out: {describe(request)}: {error}")
            raise InferenceFailed(f"inference failed: {describe(request)}: {error}")
        self.on_receipt(result.receipt)
        return result.receipt
