"""The inference mempool: PIPE's park → detect → fan out → stitch → seal → expire.

One :class:`InferencePool` per node (wired by :func:`attach`). It sits beside the ordinary
mempool and decides which pooled transactions are *ready*, and with which receipts:

- Park: a transaction that may call a model (a contract creation, a call to an account
  with code, or a direct call of ``0x…F4``) is parked when it enters the pool; the
  per-sender limit (``[inference] max_parked_per_sender``) rejects more at admission.
- Detect: a background thread simulates each parked transaction on the head state in
  ``SIMULATE`` mode with a recording recorder, over the pool's receipt cache; simulation
  halts at the first request the cache cannot answer (no placeholder reaches contracts).
- Fan out: each such request becomes one ``InferenceJob`` (keyed by request id, shared by
  every transaction making it) submitted to the :class:`~.backend.InferenceBackend`.
- Stitch: a job's receipt goes into the cache and its transactions are simulated again,
  until a simulation finishes (→ ready, with the receipts it used as its witness entries)
  or more than ``max_calls_per_tx`` requests appear.
- Seal: when the driver asks (``block_inputs``), PIPE turns the pool's candidates into
  ``BlockInputs``: ready transactions with their witness entries; a parked transaction
  stops its sender's later nonces. The block executes in ``SEAL`` mode with those
  receipts. A transaction whose input changed because of an earlier one in the block
  misses the witness and is deferred by the builder; the committed block names it, and
  PIPE parks and simulates it again. Blocks never wait for models.
- Expire: a job that fails (unknown model, invalid input, no sprinter) or a deadline
  (``[inference] deadline`` seconds after arrival; a transaction with a mode-ZK call
  waits ``zk_deadline`` seconds from that call's dispatch instead, since witness and proof
  take longer) drops the transaction from the mempool
  and its journal, freeing the sender's nonce, with a reason in the status.

PIPE reads the node through :mod:`.view` (head, state, calls; the pool it parks in),
hears of committed blocks as a listener (``on_block``), and never calls the engine or the
builder. Its own lock guards only its dictionaries and is never held while calling the
node.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI, StateAPI
from eth_typing import Address as EvmAddress
from eth_utils import ValidationError

from neurostack.protocol.jobs import JobResult
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import Address, Hash32, RequestId

from ..chain import (
    BlockEnvironment,
    BlockInputs,
    ExecutionMode,
    ReadyTransaction,
    block_environment,
)
from ..chain.inference import (
    INFERENCE_PRECOMPILE_ADDRESS,
    InferencePending,
    InferenceRequest,
    InvalidInferenceReceipt,
    RecordingRecorder,
    UnpaidInferenceOutput,
)
from ..config import InferenceSection
from ..errors import TransactionRejected
from .backend import NO_BACKEND_MESSAGE, InferenceBackend, registry_check
from .calls import CallLimiter, WaitingRecorder, describe, make_job
from .status import RequestInfo, RequestState, StatusBook, StatusRecord, TxStatus
from .view import ChainView, CommittedBlockView, PoolView

log = logging.getLogger(__name__)

TICK = 0.05  # seconds between deadline checks when idle
RECEIPT_KEEP = 120.0  # seconds an unreferenced receipt stays cached (eth_call then send)


class _UsedReceipts(Mapping[RequestId, InferenceReceipt]):
    """The receipt cache as a simulation's witness, remembering which receipts it handed out:
    those are the transaction's witness entries when the simulation completes."""

    def __init__(self, receipts: dict[RequestId, InferenceReceipt]) -> None:
        self._receipts = receipts
        self.used: dict[RequestId, InferenceReceipt] = {}

    def __getitem__(self, key: RequestId) -> InferenceReceipt:
        receipt = self._receipts[key]
        self.used.setdefault(key, receipt)
        return receipt

    def __iter__(self) -> Iterator[RequestId]:
        return iter(self._receipts)

    def __len__(self) -> int:
        return len(self._receipts)


@dataclass
class _Tracked:
    tx_hash: Hash32
    sender: Address
    nonce: int
    deadline: float
    status: TxStatus = TxStatus.PARKED
    requests: list[RequestInfo] = field(default_factory=list)
    dispatches: int = 0  # bounded: a request that keeps coming back must not loop forever
    deferrals: int = 0  # times the builder deferred it while ready (bounded: max_deferrals)
    witness: tuple[InferenceReceipt, ...] = ()  # the receipts its completed simulation used


@dataclass
class _Job:
    request: InferenceRequest
    future: Future[JobResult]
    waiters: set[Hash32]


@dataclass
class _Cached:
    receipt: InferenceReceipt
    added: float


def may_call_models(tx: SignedTransactionAPI, state: StateAPI) -> bool:
    """Whether executing ``tx`` can reach the inference precompile."""
    to = bytes(tx.to or b"")
    return (
        not to or to == bytes(INFERENCE_PRECOMPILE_ADDRESS) or bool(state.get_code(EvmAddress(to)))
    )


class InferencePool:
    """PIPE for one node: the source of its block inputs (see the module docstring)."""

    def __init__(
        self,
        chain: ChainView,
        pool: PoolView,
        backend: InferenceBackend,
        *,
        settings: InferenceSection,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain = chain
        self.pool = pool
        self.backend = backend
        self.settings = settings
        self.policy = chain.spec.inference
        self.admissible = registry_check(chain)  # which result signers the backend may use
        self.statuses = StatusBook()
        self._clock = clock
        self._lock = threading.Lock()
        self._receipts: dict[RequestId, _Cached] = {}
        self._tracked: dict[Hash32, _Tracked] = {}
        self._candidates: dict[Hash32, tuple[Address, int]] = {}
        self._unpaid: dict[Address, deque[float]] = {}  # when its jobs went unpaid, per sender
        self._jobs: dict[RequestId, _Job] = {}
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipe", daemon=True)
        self.call_limiter = CallLimiter(
            total=settings.max_inference_calls,
            per_caller=settings.max_inference_calls_per_caller,
            per_minute=settings.inference_calls_per_minute,
        )

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the detection thread (jobs in flight are abandoned; the backend is the caller's)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued detection, result and block event is handled (tests, demos)."""
        end = time.monotonic() + timeout
        while self._events.unfinished_tasks:
            if time.monotonic() > end:
                return False
            time.sleep(0.005)
        return True

    # -- admission (node lock held) ----------------------------------------------------

    def check_admission(self, tx: SignedTransactionAPI, sender: Address, state: StateAPI) -> None:
        """The node's admission check: the per-sender limit on tracked inference transactions
        (parked, dispatched or ready, and those admitted earlier in the same JSON-RPC batch),
        and the throttle on senders whose recent hub jobs went unpaid."""
        if not may_call_models(tx, state):
            return
        limit = self.settings.max_parked_per_sender
        with self._lock:
            unpaid = self._recent_unpaid(sender)
            candidates = [
                h for h, (s, n) in self._candidates.items() if s == sender and n != tx.nonce
            ]  # fmt: skip
        if unpaid >= self.settings.max_unpaid_jobs_per_sender:
            raise TransactionRejected(
                "too many unpaid inference jobs",
                f"0x{bytes(sender).hex()} had {unpaid} model jobs in the last "
                f"{self.settings.unpaid_jobs_window:g} s that its transactions did not pay "
                f"for (failed jobs, or results its transactions did not use; limit "
                f"{self.settings.max_unpaid_jobs_per_sender}); wait and retry later",
            )
        # admitted earlier in this batch (not parked yet) and still pooled: the pool may
        # have refused a candidate after this check ran for it
        pooled = [h for h in candidates if (found := self.pool.transaction(h)) and found.pending]
        with self._lock:
            for stale in set(candidates).difference(pooled):
                self._candidates.pop(stale, None)
            tracked = len(pooled) + sum(
                1 for t in self._tracked.values() if t.sender == sender and t.nonce != tx.nonce
            )
            if tracked >= limit:
                raise TransactionRejected(
                    "too many parked inference transactions",
                    f"0x{bytes(sender).hex()} has {tracked} waiting for model results or "
                    f"inclusion (limit {limit}); wait until some are included or dropped",
                )
            if len(self._candidates) > 4 * self.settings.max_parked_per_sender + 10_000:
                self._candidates.clear()  # refused after this check by the pool: forget them
            self._candidates[Hash32(tx.hash)] = (sender, tx.nonce)

    def _recent_unpaid(self, sender: Address) -> int:
        """Jobs of ``sender`` that went unpaid within the window (lock held)."""
        times = self._unpaid.get(sender)
        if not times:
            return 0
        horizon = self._clock() - self.settings.unpaid_jobs_window
        while times and times[0] < horizon:
            times.popleft()
        if not times:
            del self._unpaid[sender]
        return len(times)

    def _note_unpaid(self, sender: Address, jobs: int, why: str) -> None:
        """``jobs`` hub jobs made for ``sender``'s transaction will never be paid for."""
        if jobs <= 0:
            return
        now = self._clock()
        with self._lock:
            times = self._unpaid.setdefault(sender, deque())
            times.extend([now] * jobs)
            while len(times) > 4 * self.settings.max_unpaid_jobs_per_sender:
                times.popleft()
            if len(self._unpaid) > 100_000:  # bounded memory: forget the oldest senders
                del self._unpaid[next(iter(self._unpaid))]
        log.info("PIPE: %d unpaid model job(s) for 0x%s: %s", jobs, bytes(sender).hex(), why)

    def on_pending(self, tx_hash: Hash32) -> None:
        """The node's pending listener: park a candidate, queue its detection."""
        with self._lock:
            candidate = self._candidates.pop(Hash32(bytes(tx_hash)), None)
        if candidate is not None:
            found = self.pool.transaction(tx_hash)
            if found is not None and found.pending:
                self._park(found.tx, candidate[0])

    def _park(self, tx: SignedTransactionAPI, sender: Address) -> None:
        tracked = _Tracked(
            Hash32(tx.hash), sender, tx.nonce, self._clock() + self.settings.deadline
        )
        with self._lock:
            if tracked.tx_hash in self._tracked:
                return
            self._tracked[tracked.tx_hash] = tracked
        self.statuses.set(tx.hash, StatusRecord(TxStatus.PARKED))
        self._events.put(("detect", tracked.tx_hash))

    def park_pending(self) -> int:
        """Park every pooled candidate not yet tracked (journal replay after a restart)."""
        state = self.chain.state_at(self.chain.head().header.block_number)
        count = 0
        for tx in self.pool.pending_transactions():
            if not self._is_tracked(tx.hash) and may_call_models(tx, state):
                self._park(tx, Address(tx.sender))
                count += 1
        return count

    def _is_tracked(self, tx_hash: bytes) -> bool:
        with self._lock:
            return Hash32(bytes(tx_hash)) in self._tracked

    # -- block inputs (the driver asks, before each block) --------------------------------

    def block_inputs(self, candidates: Sequence[SignedTransactionAPI]) -> BlockInputs:
        """``candidates`` (the pool's block order) as the builder's inputs: untracked
        transactions as they are, ready ones with their witness entries; a parked one is
        left out with its sender's later nonces. Changes nothing."""
        ready: list[ReadyTransaction] = []
        stopped: set[bytes] = set()
        with self._lock:
            for tx in candidates:
                if tx.sender in stopped:
                    continue
                tracked = self._tracked.get(Hash32(tx.hash))
                if tracked is None:
                    ready.append(ReadyTransaction(tx))
                elif tracked.status is TxStatus.READY:
                    ready.append(ReadyTransaction(tx, tracked.witness))
                else:
                    stopped.add(tx.sender)
        return BlockInputs(tuple(ready))

    def _witness(self) -> dict[RequestId, InferenceReceipt]:
        with self._lock:
            return {rid: c.receipt for rid, c in self._receipts.items()}

    def call_environment(self, header: BlockHeaderAPI) -> BlockEnvironment:
        """``eth_call``/``eth_estimateGas``: unknown requests run through the backend, waiting;
        outputs are marked ``is_simulation_result`` (PIPE's own detection, ``_simulate``, is not)."""
        recorder = WaitingRecorder(
            self.backend,
            admissible=self.admissible,
            timeout=self.settings.deadline,
            zk_timeout=self.settings.zk_deadline,
            receipt_ttl=self.settings.receipt_ttl,
            on_receipt=self._remember,
            clock=self._clock,
            chain_clock=self.chain.chain_time,
            limiter=self.call_limiter,
        )
        return block_environment(
            self.chain.spec,
            self.chain.state_at(header.block_number),
            witness=self._witness(),
            mode=ExecutionMode.SIMULATE,
            recorder=recorder,
            simulation_result=True,
        )

    def on_block(self, committed: CommittedBlockView) -> None:
        """A block was committed (a ``CommittedBlock``): mark its transactions included;
        those the builder deferred for a missing or rejected receipt are parked again."""
        block = committed.executed.block
        number = block.header.block_number
        with self._lock:
            included = [self._tracked.pop(Hash32(tx.hash), None) for tx in block.transactions]
        used = {
            bytes(t.tx_hash): {bytes(c.request_id) for c in t.calls}
            for t in committed.executed.inferences
        }
        for tracked in included:
            if tracked is not None:
                unused = [
                    r for r in tracked.requests
                    if r.state is RequestState.RESOLVED
                    and bytes(r.request_id) not in used.get(bytes(tracked.tx_hash), set())
                ]  # fmt: skip
                self._note_unpaid(
                    tracked.sender, len(unused),
                    f"0x{tracked.tx_hash.hex()} was included without the model calls its "
                    "simulation made",
                )  # fmt: skip
        for tx, tracked in zip(block.transactions, included):
            if tracked is not None or self.statuses.get(tx.hash) is not None:
                requests = tuple(
                    RequestInfo(r.request_id, r.model_cid, r.mode, RequestState.RESOLVED)
                    for r in (tracked.requests if tracked else ())
                )
                self.statuses.set(
                    tx.hash, StatusRecord(TxStatus.INCLUDED, requests, block_number=number)
                )
        self._events.put(("block", tuple(committed.deferred)))

    # -- the detection thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                kind, arg = self._events.get(timeout=TICK)
            except queue.Empty:
                kind, arg = "", None
            try:
                if kind == "detect":
                    self._detect(arg)
                elif kind == "result":
                    self._on_result(arg)
                elif kind == "block":
                    self._after_block(arg)
                self._expire()
            except Exception:  # one bad transaction must not stop PIPE
                log.exception("PIPE failed handling %s", kind or "a tick")
            finally:
                if kind:
                    self._events.task_done()

    def _simulate(
        self, tx: SignedTransactionAPI
    ) -> tuple[InferenceRequest | None, tuple[InferenceReceipt, ...]]:
        """Run ``tx`` on the head state over the receipt cache: the request it halts at, or
        None when it ran to the end (success or revert: either way it is ready), and the
        receipts it used."""
        head = self.chain.head().header.block_number
        witness = _UsedReceipts(self._witness())
        env = block_environment(
            self.chain.spec,
            self.chain.state_at(head),
            witness=witness,
            mode=ExecutionMode.SIMULATE,
            recorder=RecordingRecorder(),
        )
        try:
            # the signed transaction as the next block runs it: gas price, base fee,
            # coinbase, gas left, the sender's balance after buying gas, number, timestamp
            self.chain.simulate_next(tx, env)
        except InferencePending as pending:
            return pending.request, ()
        except ValidationError:
            pass  # cannot be applied now (balance, a nonce gap): the builder decides
        return None, tuple(witness.used.values())

    def _detect(self, tx_hash: Hash32) -> None:
        with self._lock:
            tracked = self._tracked.get(tx_hash)
        if tracked is None:
            return
        found = self.pool.transaction(tx_hash)
        if found is None or not found.pending:
            self._forget(tracked, found is not None)
            return
        try:
            request, used = self._simulate(found.tx)
        except InvalidInferenceReceipt as bad:
            with self._lock:
                self._receipts.pop(RequestId(bytes(bad.request_id)), None)
            self._drop(tracked, f"inference receipt rejected: {bad.reason}")
            return
        except UnpaidInferenceOutput as unpaid:
            self._drop(tracked, str(unpaid))
            return
        if request is None:
            tracked.witness = used
            self._set_status(tracked, TxStatus.READY)
            return
        known = [r.request_id for r in tracked.requests]
        if request.request_id not in known:
            if len(known) >= self.policy.max_calls_per_tx:
                self._drop(tracked, f"too many model calls (more than {len(known)})")
                return
            tracked.requests.append(
                RequestInfo(
                    request.request_id, request.model_cid, request.mode.name, RequestState.PENDING
                )
            )
        self._dispatch(tracked, request)

    def _dispatch(self, tracked: _Tracked, request: InferenceRequest) -> None:
        rid = RequestId(bytes(request.request_id))
        tracked.dispatches += 1
        if tracked.dispatches > 2 * self.policy.max_calls_per_tx + 2:
            self._drop(tracked, f"{describe(request)} stays unresolved after its result arrived")
            return
        with self._lock:
            job = self._jobs.get(rid)
            if job is not None:
                job.waiters.add(tracked.tx_hash)
        if request.mode is InferenceMode.ZK:
            # witness + proof take longer than a plain inference: [inference] zk_deadline
            tracked.deadline = max(tracked.deadline, self._clock() + self.settings.zk_deadline)
        if job is None:
            try:
                future = self.backend.submit(
                    make_job(request, receipt_ttl=self.settings.receipt_ttl,
                             deadline=tracked.deadline, chain_now=self.chain.chain_time()),
                    admissible=self.admissible,
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - broker down: the tx cannot be served now
                self._drop(tracked, f"inference backend unavailable: {exc}")
                return
            with self._lock:
                self._jobs[rid] = _Job(request, future, {tracked.tx_hash})
            self._set_status(tracked, TxStatus.DISPATCHED)

            def wake(_done: Future[JobResult], rid: RequestId = rid) -> None:
                self._events.put(("result", rid))

            future.add_done_callback(wake)
        else:
            self._set_status(tracked, TxStatus.DISPATCHED)

    def _on_result(self, rid: RequestId) -> None:
        with self._lock:
            job = self._jobs.pop(rid, None)
        if job is None:
            return
        try:
            result = job.future.result()
        except Exception as exc:  # noqa: BLE001 - a cancelled or broken future is a failed job
            result = JobResult(rid, None, f"the backend gave no result ({exc!r})")
        if result.receipt is not None:
            self._remember(result.receipt)
        for tx_hash in job.waiters:
            with self._lock:
                tracked = self._tracked.get(tx_hash)
            if tracked is None:
                continue
            if result.receipt is not None:
                self._set_request_state(tracked, rid, RequestState.RESOLVED)
                self._events.put(("detect", tx_hash))
            else:
                self._set_request_state(tracked, rid, RequestState.FAILED)
                error = result.error or "no receipt"
                self._drop(
                    tracked, f"inference failed: {describe(job.request)}: {error}",
                    hub_worked="deadline" not in error and error != NO_BACKEND_MESSAGE,
                )  # fmt: skip

    def _after_block(self, deferred: tuple[Hash32, ...]) -> None:
        """Forget transactions that left the pool; park again and simulate the ones the
        builder deferred for a missing or rejected receipt (their input changed)."""
        with self._lock:
            tracked = list(self._tracked.values())
        for t in tracked:
            found = self.pool.transaction(t.tx_hash)
            if found is None or not found.pending:
                self._forget(t, found is not None)
            elif t.tx_hash in deferred and t.status is TxStatus.READY:
                t.deferrals += 1
                if t.deferrals > self.settings.max_deferrals:
                    self._drop(
                        t,
                        f"deferred at sealing {t.deferrals} times: the model calls it makes in "
                        "a block differ from those its simulation made (a contract that "
                        "behaves differently when simulated, or an input that keeps "
                        f"changing; [inference] max_deferrals = {self.settings.max_deferrals})",
                    )
                    continue
                self._set_status(t, TxStatus.PARKED)
                self._events.put(("detect", t.tx_hash))
        if deferred:
            self.park_pending()  # a deferred transaction PIPE did not track yet
        self._prune_receipts()

    def _expire(self) -> None:
        now = self._clock()
        with self._lock:
            late = [t for t in self._tracked.values() if now > t.deadline]
        for t in late:
            zk = any(r.mode == InferenceMode.ZK.name for r in t.requests)
            limit = self.settings.zk_deadline if zk else self.settings.deadline
            if t.status is TxStatus.READY:
                why = f"deadline passed: not included within {limit:g} s"
            else:
                why = f"deadline passed: no inference result within {limit:g} s"
            self._drop(t, why)

    # -- state changes ---------------------------------------------------------------------

    def _remember(self, receipt: InferenceReceipt) -> None:
        with self._lock:
            self._receipts[RequestId(bytes(receipt.request_id))] = _Cached(receipt, self._clock())

    def _prune_receipts(self) -> None:
        now = self._clock()
        chain_now = self.chain.chain_time()
        with self._lock:
            wanted = {r.request_id for t in self._tracked.values() for r in t.requests}
            for rid in [
                rid for rid, c in self._receipts.items()
                if c.receipt.expiry <= chain_now or (rid not in wanted and now - c.added > RECEIPT_KEEP)
            ]:  # fmt: skip
                del self._receipts[rid]

    def _set_status(self, tracked: _Tracked, status: TxStatus) -> None:
        tracked.status = status
        self.statuses.set(tracked.tx_hash, StatusRecord(status, tuple(tracked.requests)))

    def _set_request_state(self, tracked: _Tracked, rid: bytes, state: RequestState) -> None:
        tracked.requests = [
            RequestInfo(r.request_id, r.model_cid, r.mode, state) if r.request_id == rid else r
            for r in tracked.requests
        ]
        self.statuses.update(tracked.tx_hash, requests=tuple(tracked.requests))

    def _forget(self, tracked: _Tracked, mined: bool) -> None:
        with self._lock:
            self._tracked.pop(tracked.tx_hash, None)
        if not mined:
            resolved = sum(1 for r in tracked.requests if r.state is RequestState.RESOLVED)
            self._note_unpaid(tracked.sender, resolved, f"0x{tracked.tx_hash.hex()} replaced")
            self.statuses.set(
                tracked.tx_hash,
                StatusRecord(
                    TxStatus.DROPPED,
                    tuple(tracked.requests),
                    reason="replaced by another transaction with the same nonce, or invalid",
                ),
            )

    def _drop(self, tracked: _Tracked, reason: str, *, hub_worked: bool = True) -> None:
        """Drop ``tracked`` with ``reason``; its jobs that the hub answered (a receipt, or a
        failure when ``hub_worked``) count as unpaid for its sender."""
        # Out of the mempool first: until then block_inputs keeps the builder away from it.
        self.pool.drop_transaction(tracked.tx_hash)
        spent = sum(
            1 for r in tracked.requests
            if r.state is RequestState.RESOLVED or (hub_worked and r.state is RequestState.FAILED)
        )  # fmt: skip
        self._note_unpaid(tracked.sender, spent, f"0x{tracked.tx_hash.hex()} dropped: {reason}")
        with self._lock:
            self._tracked.pop(tracked.tx_hash, None)
        self.statuses.set(
            tracked.tx_hash, StatusRecord(TxStatus.DROPPED, tuple(tracked.requests), reason=reason)
        )
        log.info("PIPE dropped 0x%s: %s", tracked.tx_hash.hex(), reason)


def attach(node: Any, backend: InferenceBackend) -> InferencePool:
    """Wire PIPE into ``node`` (a ``sequencer.node.Node``): admission check, pending
    listener, block inputs, call environments, statuses, committed-block listener, the
    detection thread; pooled transactions from the journal are parked and detected again."""
    pool = InferencePool(node, node, backend, settings=node.config.inference)
    node.add_admission_check(pool.check_admission)
    node.add_pending_listener(pool.on_pending)
    node.add_commit_listener(pool.on_block)
    node.set_block_inputs(pool)
    node.set_call_environments(pool)
    node.set_inference_statuses(pool.statuses)
    pool.start()
    pool.park_pending()
    return pool
