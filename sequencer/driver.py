"""The driver: the block-time loop, and the production of one block.

Block inputs flow one way (DESIGN.md section 9): the pool's executable transactions in
block order → the :class:`BlockInputSource` (PIPE keeps the ready ones and attaches their
witness entries; :class:`AllReady` is the stand-in without inference) → the engine builds
the block, optionally runs the state transition on it (``verify_built_blocks``) and
commits it with its witness → the pool forgets what was mined → listeners hear of it.
Nothing downstream calls back upstream: the input source only sees the candidates it is
given, the engine only the inputs.

The loop is a thread that asks for a block every ``block_time`` seconds; a block is made
only when there is something to mine (or ``empty_blocks``). Missed ticks are not caught up:
after a stall the next block comes one block time later. A block's transactions execute
without the chain lock, so admissions, reads and calls go on meanwhile; only the commit
pauses them.

Blocks on time: the loop's blocks are produced within a time budget (``BUILD_BUDGET`` of
the block time, :class:`BuildBudget`): the builder stops trying transactions once what it
has executed, plus what sealing, verifying and committing them will take (learned from
the blocks before), reaches the budget. What did not fit stays in the pool, first in line
for the next block. So under any load a block is committed about the same time after its
tick, and blocks follow each other one block time apart. ``evm_mine`` has no budget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Protocol

from eth.abc import BlockAPI, SignedTransactionAPI
from eth_typing import Address

from neurostack.protocol.types import Hash32

from .chain import BlockInputs, ReadyTransaction
from .engine import CommittedBlock, Engine
from .errors import InvalidBlockTimestamp
from .reader import ChainReader
from .txpool import TxPool

log = logging.getLogger(__name__)

BUILD_BUDGET = 0.75
"""Share of the block time from a block's tick to its commit when transactions are left
waiting. Admission waits while the producer builds (``TxPool.paused``): the rest of the
block time, at least a quarter of it, is the admission's."""
EXECUTION_SHARE = 0.7
"""Share of that budget the builder aims to be done in (execution and its estimated
sealing, verification and commit); the rest absorbs a wrong estimate."""
LEARNED_BLOCKS = 4
"""How many recent blocks' finishing ratios the estimate takes the highest of."""
LEARN_FROM = 0.05
"""Blocks that executed for less than this share of the budget teach nothing: their
finishing is mostly fixed costs (a block of 4 transfers measured a ratio of 5), and the
budget only matters for blocks that fill it."""
FINISH_RATIO = 0.6
"""The first block's guess of sealing + committing over execution time (measured on the
2-core VM: 0.3-0.45 for transfers); verifying the block, when on, adds about 1.0."""


class BuildBudget:
    """The time budget of the loop's blocks (module docstring, "Blocks on time").

    The builder stops trying transactions once the time spent executing, plus the time
    sealing, verifying and committing will take, reaches ``EXECUTION_SHARE`` of the
    budget. How long finishing takes is learned as a ratio to the execution time of the
    blocks before (the highest of the last ``LEARNED_BLOCKS``), so it follows the
    machine's load. A block cut short by the budget is committed at the end of the
    budget, not earlier: under a full load every block is then committed the same time
    after its tick, one block time apart, and so is the block after the last cut one (it
    found transactions waiting too). A block always gets its first transaction, so the
    chain moves on however slow the machine.
    """

    def __init__(
        self,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        finish_ratio: float = 2.0,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.finish_ratio = finish_ratio
        """Sealing + verifying + committing time over execution time: the highest of the
        last ``LEARNED_BLOCKS`` blocks' (before the first: the caller's guess)."""
        self._ratios: deque[float] = deque(maxlen=LEARNED_BLOCKS)
        self.cut = False
        """Whether the current block was ended by the budget (transactions left waiting)."""
        self._previous_cut = False
        self._executing_since: float | None = None
        self._last_check = 0.0

    def stopper(self, start: float) -> Callable[[int], bool]:
        """The builder's ``stop`` for a block whose production began at ``start``."""
        deadline = start + EXECUTION_SHARE * self.seconds
        ratio, clock = self.finish_ratio, self.clock
        self._previous_cut, self.cut, self._executing_since = self.cut, False, None

        def stop(included: int) -> bool:
            now = self._last_check = clock()
            if self._executing_since is None:
                self._executing_since = now
            if included and now + (now - self._executing_since) * ratio >= deadline:
                self.cut = True
            return self.cut

        return stop

    def learn(self, committed_at: float) -> None:
        """The block whose execution ended at the builder's last ``stop`` call was
        committed at ``committed_at`` (less the time it was held for its commit time)."""
        if self._executing_since is None:
            return
        executing = self._last_check - self._executing_since
        if executing > LEARN_FROM * self.seconds:  # a few transactions: fixed costs dominate
            # up at once, down once the blocks that took longer are LEARNED_BLOCKS old: a
            # block that overran its budget is late for good, one that finished early
            # only waited for its commit time (and left transactions for the next block)
            self._ratios.append((committed_at - self._last_check) / executing)
            self.finish_ratio = max(self._ratios)

    def commit_at(self, start: float) -> float | None:
        """When to commit the block that began at ``start``: the end of the budget if it
        or the block before was cut short (transactions were waiting at its tick), else at
        once (None)."""
        return start + self.seconds if self.cut or self._previous_cut else None


class BlockInputSource(Protocol):
    """Turns the pool's candidates (in block order) into the builder's inputs."""

    def block_inputs(self, candidates: Sequence[SignedTransactionAPI]) -> BlockInputs:
        """The transactions to try, in order, with their witness entries. Must not change
        anything (the pending state asks too)."""
        ...


class AllReady:
    """The input source of a node without inference: every candidate, no witness."""

    def block_inputs(self, candidates: Sequence[SignedTransactionAPI]) -> BlockInputs:
        return BlockInputs(tuple(ReadyTransaction(tx) for tx in candidates))


class ChainClock:
    """The chain's clock: wall time plus the offset ``evm_increaseTime`` added."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self.offset = 0

    def now(self) -> int:
        return int(self._wall()) + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += int(seconds)
        return self.offset


class Driver:
    """Produces blocks: on its own every ``block_time`` seconds, or when asked (``produce``)."""

    def __init__(
        self,
        engine: Engine,
        reader: ChainReader,
        txpool: TxPool,
        clock: ChainClock,
        *,
        coinbase: Address,
        block_time: float,
        empty_blocks: bool,
        verify_built_blocks: bool,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.txpool = txpool
        self.clock = clock
        self.coinbase = coinbase
        self.block_time = block_time
        self.empty_blocks = empty_blocks
        self.verify_built_blocks = verify_built_blocks
        self.inputs: BlockInputSource = AllReady()
        self.budget = BuildBudget(
            BUILD_BUDGET * block_time,
            finish_ratio=FINISH_RATIO + (1.0 if verify_built_blocks else 0.0),
        )
        self._produce_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one block --

    def next_inputs(self) -> BlockInputs:
        """What the next block would be built from (also the pending state's inputs)."""
        return self.inputs.block_inputs(self.txpool.block_order(self.reader.next_base_fee()))

    def produce(
        self, *, force: bool, timestamp: int | None = None, budget: BuildBudget | None = None
    ) -> BlockAPI | None:
        """Build and commit one block; None when there was nothing to mine (or closed).
        With a ``budget`` the block takes what can be executed and committed in time."""
        engine, lock = self.engine, self.engine.lock
        start = time.monotonic()
        # the loop's blocks: admission waits while the producer works (TxPool.paused)
        paused = self.txpool.paused if budget is not None else nullcontext
        with self._produce_lock, paused():  # one block at a time (loop, evm_mine, evm_revert)
            with lock:
                if engine.closed:
                    return None
                parent = engine.head_header()
                if timestamp is not None and timestamp <= parent.timestamp:
                    raise InvalidBlockTimestamp(
                        f"timestamp {timestamp} is not after the head's {parent.timestamp}"
                    )
                empty_ok = force or self.empty_blocks
                if not empty_ok and not self.txpool.executable():
                    return None
                ts = (
                    timestamp
                    if timestamp is not None
                    else max(self.clock.now(), parent.timestamp + 1)
                )
                # a snapshot of the pool: what arrives from now on waits for the next block
                candidates = self.txpool.block_order(self.reader.next_base_fee())
            inputs = self.inputs.block_inputs(candidates)
            with engine.block_transaction() as txn:
                built = engine.build(
                    parent, inputs, timestamp=ts, coinbase=self.coinbase,
                    stop=budget.stopper(start) if budget is not None else None,
                )  # fmt: skip
                block = built.executed.block
                if not block.transactions and not empty_ok:
                    return None  # the block transaction is rolled back
                executed = (
                    engine.verify_built(built) if self.verify_built_blocks else built.executed
                )
                committed = CommittedBlock(
                    executed,
                    deferred=tuple(Hash32(tx.hash) for tx, _ in built.deferred),
                    rejected=tuple((Hash32(tx.hash), reason) for tx, reason in built.rejected),
                )
                hold_until = budget.commit_at(start) if budget is not None else None
                held = 0.0
                if hold_until is not None:  # on time, not early: admission goes on meanwhile
                    with self.txpool.resumed():
                        held = time.monotonic()
                        self._stop.wait(max(0.0, hold_until - held))
                        held = time.monotonic() - held
                with lock:
                    if not engine.commit(txn, committed):
                        return None
                    # only once the block is committed: a failed commit leaves the pool
                    self.txpool.block_committed(
                        block, self.reader.state_at(block.number), committed.rejected
                    )
                committed_at = time.monotonic()
            if budget is not None:
                budget.learn(committed_at - held)
            self.txpool.compact_journal()
        engine.notify()
        return block

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No block is produced meanwhile (``evm_revert`` rewinds the chain under it)."""
        with self._produce_lock:
            yield

    # -- the loop --

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.block_time <= 0 or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="block-producer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        next_at = time.monotonic() + self.block_time
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            try:
                self.produce(force=False, budget=self.budget)
            except Exception:  # keep producing: one bad block attempt must not stop the chain
                log.exception("block production failed; retrying next block time")
            next_at += self.block_time
            now = time.monotonic()
            if next_at < now:
                next_at = now + self.block_time
