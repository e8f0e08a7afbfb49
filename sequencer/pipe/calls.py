"""Inference for ``eth_call`` and ``eth_estimateGas``: ask the backend and wait.

A read-only call of a contract that calls a model runs in ``SIMULATE`` mode with a
:class:`WaitingRecorder`: the first request the witness (PIPE's receipt cache) cannot
answer becomes a job; the recorder waits for its receipt (at most ``timeout`` seconds)
and hands it to the precompile, which verifies it like any block receipt. The call then
continues with the real output. Nothing is persisted: only the receipt cache learns the
receipt, so a transaction sent after the call finds it ready at once.

A timeout raises :class:`~.errors.InferenceTimedOut`, a failed job
:class:`~.errors.InferenceFailed`; the RPC turns both into JSON-RPC error -32000.

Calls that start a model job are bounded by a :class:`CallLimiter` (docs/security.md,
"Inference pricing and PIPE limits"): at most ``max_inference_calls`` wait at once, at most
``max_inference_calls_per_caller`` of them from one caller (the client's IP address,
``sequencer.types.RPC_CALLER``), and ``inference_calls_per_minute`` per caller start a job.
A refused call fails at once with :class:`~.errors.InferenceCallsLimited` (-32005), so
waiting calls can never hold every RPC worker thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

from neurostack.protocol.jobs import InferenceJob, SignerCheck
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt

from ..chain.inference import InferenceRequest
from ..types import RPC_CALLER
from .backend import InferenceBackend
from .errors import InferenceCallsLimited, InferenceFailed, InferenceTimedOut

IN_PROCESS = "in-process"  # the caller of a call made without the RPC


class CallLimiter:
    """Concurrency caps and a per-caller rate for calls that wait for a model job."""

    def __init__(
        self,
        *,
        total: int,
        per_caller: int,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.per_caller = per_caller
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._active = 0
        self._by_caller: dict[str, int] = {}
        self._started: dict[str, deque[float]] = {}

    @contextmanager
    def slot(self, caller: str | None) -> Iterator[None]:
        """Hold one slot for ``caller`` while a job is waited for; refuse at once if none."""
        who = caller or IN_PROCESS
        now = self._clock()
        with self._lock:
            if self._active >= self.total:
                raise InferenceCallsLimited(
                    f"limit exceeded: {self._active} calls are already waiting for model "
                    f"results on this node (limit {self.total}, [inference] "
                    "max_inference_calls); retry later"
                )
            if self._by_caller.get(who, 0) >= self.per_caller:
                raise InferenceCallsLimited(
                    f"limit exceeded: {who} has {self._by_caller[who]} calls waiting for model "
                    f"results (limit {self.per_caller}, [inference] "
                    "max_inference_calls_per_caller); wait for them"
                )
            started = self._started.setdefault(who, deque())
            while started and started[0] <= now - 60.0:
                started.popleft()
            if len(started) >= self.per_minute:
                wait = started[0] + 60.0 - now
                raise InferenceCallsLimited(
                    f"limit exceeded: {who} started {len(started)} calls that ran a model in "
                    f"the last 60 s (limit {self.per_minute}, [inference] "
                    f"inference_calls_per_minute); retry in {max(wait, 0.1):.1f} s"
                )
            started.append(now)
            self._active += 1
            self._by_caller[who] = self._by_caller.get(who, 0) + 1
            if len(self._started) > 10_000:  # bounded memory: forget callers with no recent call
                for key in [k for k, v in self._started.items() if not v or v[-1] <= now - 60.0]:
                    del self._started[key]
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                left = self._by_caller[who] - 1
                if left:
                    self._by_caller[who] = left
                else:
                    del self._by_caller[who]


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
        limiter: CallLimiter | None = None,
    ) -> None:
        self.limiter = limiter
        self._known: dict[bytes, InferenceReceipt] = {}
        self.backend = backend
        self.zk_timeout = timeout if zk_timeout is None else zk_timeout
        self.admissible = admissible
        self.timeout = timeout
        self.receipt_ttl = receipt_ttl
        self.on_receipt = on_receipt
        self.clock = clock
        self.chain_clock = chain_clock

    def on_unknown(self, request: InferenceRequest) -> InferenceReceipt:
        # eth_estimateGas runs the call many times over one environment: one job, one slot
        known = self._known.get(bytes(request.request_id))
        if known is not None:
            return known
        if self.limiter is None:
            receipt = self._run(request)
        else:
            with self.limiter.slot(RPC_CALLER.get()):
                receipt = self._run(request)
        self._known[bytes(request.request_id)] = receipt
        return receipt

    def _run(self, request: InferenceRequest) -> InferenceReceipt:
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
