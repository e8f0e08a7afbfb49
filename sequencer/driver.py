"""The driver: the block-time loop, and the production of one block.

Block inputs flow one way (DESIGN.md section 9): the pool's executable transactions in
block order → the :class:`BlockInputSource` (PIPE keeps the ready ones and attaches their
witness entries; :class:`AllReady` is the stand-in without inference) → the engine's
builder executes them, the block is sealed, optionally checked by the state transition
(``verify_built_blocks``) and committed with its witness → the pool forgets what was
mined → listeners hear of it. Nothing downstream calls back upstream: the input source
only sees the candidates it is given, the builder only the inputs; the pool only signals
that a transaction arrived.

Building continuously (as geth's pre-merge miner did): the loop keeps the next block open
from the moment the one before is committed and executes transactions into it as they
arrive (on the pool's signal, and every ``POLL`` seconds for transactions PIPE makes
ready), without the chain lock, so admissions, reads and calls go on meanwhile. At its
tick, every ``block_time`` seconds, only sealing and committing remain. A block is made
only when there is something to mine (or ``empty_blocks``). Missed ticks are not caught
up: after a stall the next block comes one block time later. ``evm_mine`` builds a block
from the whole pool at once; a block left open across ``evm_mine``, ``evm_revert`` or
``evm_increaseTime`` is built again on the new head or clock.

Blocks on time: the open block stops taking transactions once what sealing, verifying and
committing them will take (learned from the blocks before, :class:`BuildBudget`) would
end after its tick, less a margin (``BLOCK_MARGIN`` of the block time) for a wrong
estimate. What did not fit stays in the pool, first in line for the next block. A sealed
block is committed at its tick, not earlier, so under any load blocks follow each other
one block time apart. While a block is sealed and committed, admission waits
(``TxPool.paused``: admissions would take most of the interpreter from it) and so does
the garbage collector (a full collection of a large heap takes 0.1-0.2 s).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth_typing import Address

from neurostack.protocol.types import Hash32

from .chain import BlockBuilder, BlockInputs, BuiltBlock, ReadyTransaction
from .engine import BlockTransaction, CommittedBlock, Engine
from .errors import InvalidBlockTimestamp
from .reader import ChainReader
from .txpool import TxPool

log = logging.getLogger(__name__)

BLOCK_MARGIN = 0.1
"""Share of the block time between the estimated end of a block's commit and its tick:
what absorbs a wrong estimate (the issue's "within 10% of the block time")."""
POLL = 0.05
"""Seconds an open block waits for the pool's signal before it looks again anyway
(transactions PIPE made ready send no signal)."""
LEARNED_BLOCKS = 4
"""How many recent blocks' finishing ratios the estimate takes the highest of."""
LEARN_FROM = 0.1
"""Blocks that executed for less than this share of the block time teach nothing: their
finishing is mostly fixed costs (a block of 4 transfers measured a ratio of 5, one of 166
transfers 0.75 where full blocks measure 0.3-0.45), and the budget only matters for
blocks that fill it."""
FINISH_RATIO = 0.6
"""The first block's guess of sealing + committing over execution time (measured on the
2-core VM: 0.3-0.45 for transfers); verifying the block, when on, adds about 1.0."""


class BuildBudget:
    """When the loop's open block must stop taking transactions (module docstring,
    "Blocks on time").

    Finishing a block (sealing, verifying, committing) is estimated as a ratio to the CPU
    time its transactions took to execute: the highest ratio of the last
    ``LEARNED_BLOCKS`` blocks, so the estimate follows the machine's load. Execution is
    counted in the producer thread's CPU time, which admissions running beside it do not
    inflate; finishing in wall time, during which admission waits.
    """

    def __init__(self, block_time: float, *, finish_ratio: float = FINISH_RATIO) -> None:
        self.block_time = block_time
        self.finish_ratio = finish_ratio
        """Sealing + verifying + committing time over execution time: the highest of the
        last ``LEARNED_BLOCKS`` blocks' (before the first: the caller's guess)."""
        self._ratios: deque[float] = deque(maxlen=LEARNED_BLOCKS)

    def seal_at(self, tick: float, executing: float) -> float:
        """When to start sealing a block due at ``tick`` whose transactions took
        ``executing`` seconds of CPU (both in ``time.monotonic`` terms)."""
        return tick - BLOCK_MARGIN * self.block_time - self.finish_ratio * executing

    def learn(self, executing: float, finishing: float) -> None:
        """A block that executed for ``executing`` CPU seconds took ``finishing`` seconds
        from the start of its sealing to its commit (less the time held for its tick)."""
        if executing > LEARN_FROM * self.block_time:  # a few transactions: fixed costs
            # up at once, down once the blocks that took longer are LEARNED_BLOCKS old
            self._ratios.append(finishing / executing)
            self.finish_ratio = max(self._ratios)


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

    def now(self, ahead: float = 0.0) -> int:
        """The chain time now, or ``ahead`` seconds from now."""
        return int(self._wall() + ahead) + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += int(seconds)
        return self.offset


@dataclass
class _OpenBlock:
    """The loop's next block, taking transactions until its tick (on the loop's thread)."""

    txn: BlockTransaction
    builder: BlockBuilder
    clock_offset: int
    """The chain clock's offset its timestamp was taken with."""
    executing: float = 0.0
    """CPU seconds its transactions took to execute."""
    cut: bool = False
    """The budget ended a round: transactions are left waiting for the next block."""

    def stale(self, head: BlockHeaderAPI, clock: ChainClock) -> bool:
        """The head or the clock moved under it (``evm_mine``, ``evm_revert``,
        ``evm_increaseTime``): it must be built again."""
        return self.builder.parent.hash != head.hash or self.clock_offset != clock.offset


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic garbage collection meanwhile (it runs at the next allocation after)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
            block_time, finish_ratio=FINISH_RATIO + (1.0 if verify_built_blocks else 0.0)
        )
        self._produce_lock = threading.Lock()
        self._stop = threading.Event()
        self._arrived = threading.Event()  # the pool took a transaction
        txpool.add_pending_listener(lambda _tx_hash: self._arrived.set())
        self._thread: threading.Thread | None = None
        self._building: _OpenBlock | None = None  # the loop's, for open_transactions

    # -- one block now (evm_mine) --

    def next_inputs(self) -> BlockInputs:
        """What the next block would be built from (also the pending state's inputs)."""
        return self.inputs.block_inputs(self.txpool.block_order(self.reader.next_base_fee()))

    def produce(self, *, force: bool, timestamp: int | None = None) -> BlockAPI | None:
        """Build and commit one block from the whole pool now; None when there was
        nothing to mine (or closed)."""
        engine = self.engine
        with self._produce_lock:  # one block at a time (loop, evm_mine, evm_revert)
            with engine.lock:
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
                ts = timestamp if timestamp is not None else self._timestamp(parent)
                # a snapshot of the pool: what arrives from now on waits for the next block
                candidates = self.txpool.block_order(self.reader.next_base_fee())
            inputs = self.inputs.block_inputs(candidates)
            with engine.block_transaction() as txn:
                built = engine.build(parent, inputs, timestamp=ts, coinbase=self.coinbase)
                if not built.executed.block.transactions and not empty_ok:
                    return None  # the block transaction is rolled back
                block, _ = self._commit(txn, built)
        engine.notify()
        return block

    def _timestamp(self, parent: BlockHeaderAPI, ahead: float = 0.0) -> int:
        return max(self.clock.now(ahead), parent.timestamp + 1)

    def _commit(
        self, txn: BlockTransaction, built: BuiltBlock, hold_until: float | None = None
    ) -> tuple[BlockAPI | None, float]:
        """Verify (when on) and commit a built block, at ``hold_until`` if that is later;
        then the pool forgets what it mined. The block (None when the engine is closed)
        and the seconds it was held."""
        engine = self.engine
        executed = engine.verify_built(built) if self.verify_built_blocks else built.executed
        committed = CommittedBlock(
            executed,
            deferred=tuple(Hash32(tx.hash) for tx, _ in built.deferred),
            rejected=tuple((Hash32(tx.hash), reason) for tx, reason in built.rejected),
        )
        held = max(0.0, hold_until - time.monotonic()) if hold_until is not None else 0.0
        if held:  # on time, not early: admission goes on meanwhile
            with self.txpool.resumed():
                self._stop.wait(held)
        block = executed.block
        with engine.lock:
            if not engine.commit(txn, committed):
                return None, held
            # only once the block is committed: a failed commit leaves the pool
            self.txpool.block_committed(
                block, self.reader.state_at(block.number), committed.rejected
            )
        self.txpool.compact_journal()
        return block, held

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No block is produced meanwhile (``evm_revert`` rewinds the chain under it)."""
        with self._produce_lock:
            yield

    # -- the loop --

    @property
    def open_transactions(self) -> int:
        """How many transactions the loop has executed into the block it seals next."""
        block = self._building
        return block.builder.transactions if block is not None else 0

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
        self._arrived.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        tick = time.monotonic() + self.block_time
        block: _OpenBlock | None = None
        while not self._stop.is_set():
            block = self._fill(block, tick)
            if self._stop.is_set():
                break
            try:
                self._finish(block, tick)
            except Exception:  # keep producing: one bad block attempt must not stop the chain
                log.exception("block production failed; retrying next block time")
            block = self._building = None  # committed or discarded
            tick += self.block_time
            now = time.monotonic()
            if tick < now:
                tick = now + self.block_time
        if block is not None:
            block.txn.rollback()  # its transactions stay pooled (and journaled)

    def _fill(self, block: _OpenBlock | None, tick: float) -> _OpenBlock | None:
        """Execute transactions into the open block as they arrive, until it is time to
        seal it for ``tick``."""
        while not self._stop.is_set():
            wait = self.budget.seal_at(tick, block.executing if block else 0.0)
            wait -= time.monotonic()
            if wait <= 0:
                break
            if block is not None and (block.cut or block.builder.full):
                self._stop.wait(wait)  # nothing more fits in this block
                break
            self._arrived.wait(min(wait, POLL))
            self._arrived.clear()
            try:
                block = self._building = self._extend(block, tick)
            except Exception:
                log.exception("building the next block failed; starting it again")
                if block is not None:
                    block.txn.rollback()
                block = self._building = None
        return block

    def _extend(self, block: _OpenBlock | None, tick: float) -> _OpenBlock | None:
        """One round: the pool's transactions that follow on from the open block (opened
        now if there are any), executed until the budget says stop."""
        engine = self.engine
        with self._produce_lock, engine.lock:
            if engine.closed:
                return block
            head = engine.head_header()
            if block is not None and block.stale(head, self.clock):
                block.txn.rollback()
                block = None
            if block is None:
                candidates = self.txpool.block_order(self.reader.next_base_fee())
                if not candidates:
                    return None
                block = self._open(head, tick)
            else:
                base_fee = block.builder.header.base_fee_per_gas or 0
                candidates = self.txpool.block_order(base_fee, nonce=block.builder.nonce)
                if not candidates:
                    return block
        inputs = self.inputs.block_inputs(candidates)
        with self._produce_lock:
            started, began = time.thread_time(), time.monotonic()

            def stop(included: int) -> bool:
                now = time.monotonic()
                # the thread's CPU time is at most the wall time since the round began: until
                # that bound says stop, the exact figure (a system call) is not needed
                if not included or now < self.budget.seal_at(tick, block.executing + now - began):
                    return False
                executing = block.executing + time.thread_time() - started
                return now >= self.budget.seal_at(tick, executing)

            block.cut = block.builder.add(inputs, stop)
            block.executing += time.thread_time() - started
        return block

    def _open(self, head: BlockHeaderAPI, tick: float) -> _OpenBlock:
        txn = self.engine.begin_block()
        try:
            builder = self.engine.builder(
                head, timestamp=self._timestamp(head, tick - time.monotonic()),
                coinbase=self.coinbase,
            )  # fmt: skip
        except BaseException:
            txn.rollback()
            raise
        return _OpenBlock(txn, builder, self.clock.offset)

    def _finish(self, block: _OpenBlock | None, tick: float) -> None:
        """Seal the open block (an empty one with ``empty_blocks``) and commit it at
        ``tick``; or drop it when it holds nothing."""
        engine = self.engine
        committed = False
        try:
            with self._produce_lock:
                with engine.lock:
                    if engine.closed:
                        return
                    head = engine.head_header()
                if block is not None and block.stale(head, self.clock):
                    block.txn.rollback()  # its transactions go into the next block
                    block = None
                if block is None or not block.builder.transactions:
                    if not self.empty_blocks:
                        return
                    block = block or self._open(head, tick)
                with self.txpool.paused(), _collector_paused():
                    started = time.monotonic()
                    built = block.builder.seal()
                    made, held = self._commit(block.txn, built, hold_until=tick)
                    finishing = time.monotonic() - started - held
                committed = made is not None
                self.budget.learn(block.executing, finishing)
        finally:
            if block is not None:
                block.txn.rollback()  # nothing, once committed
        if committed:
            self.engine.notify()
