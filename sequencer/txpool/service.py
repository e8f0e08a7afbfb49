"""Transaction admission as a component: checks, the pool, the journal, and who hears of it.

:class:`TxPool` owns the :class:`~.pool.Mempool` and its :class:`~.journal.Journal`. It
reads the chain through :class:`HeadView` (the head header and state: declared here, by
the consumer) and hands out the block order of its executable transactions; it never
calls the builder or the engine. Admission checks (PIPE's per-sender parking limit) and
pending listeners (RPC subscriptions, PIPE) are plugged in by the node's wiring.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI, StateAPI
from eth_typing import Address, Hash32

from ..chain.fees import next_base_fee
from ..errors import TransactionRejected
from .admission import decode_transaction
from .journal import JOURNAL_FILE, Journal
from .pool import Mempool, PooledTx, PoolLimits

log = logging.getLogger(__name__)

JOURNAL_SLACK = 1024
"""Mined records the journal may hold beyond twice the pool before it is rewritten."""
ADMISSION_PAUSE = 1.0
"""The longest an admission waits for a block being produced (``TxPool.paused``)."""

PendingListener = Callable[[Hash32], None]
AdmissionCheck = Callable[[SignedTransactionAPI, Address, StateAPI], None]
"""Called under the chain lock before a transaction enters the pool (with its sender and
the head state); raises ``TransactionRejected`` to refuse it (PIPE's per-sender limit)."""


class HeadView(Protocol):
    """What admission reads from the chain."""

    def head_header(self) -> BlockHeaderAPI: ...

    def head_state(self) -> StateAPI: ...


class TxPool:
    """Admission, the pool and its journal (thread-safe under the shared chain lock)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        chain: HeadView,
        decode: Callable[[bytes], SignedTransactionAPI],
        chain_id: int,
        gas_limit: int,
        lock: threading.RLock,
        limits: PoolLimits | None = None,
    ) -> None:
        self._chain = chain
        self._decode = decode
        self._chain_id = chain_id
        self._gas_limit = gas_limit
        self._lock = lock
        self.mempool = Mempool(
            Journal(Path(data_dir) / JOURNAL_FILE), limits=limits or PoolLimits()
        )
        self._must_compact = False
        self._admitting = threading.Event()
        self._admitting.set()
        self.version = 0
        """Bumped on every change of the pool (readers cache the pending state by it)."""
        self._checks: list[AdmissionCheck] = []
        self._listeners: list[PendingListener] = []
        self._closed = False

    @property
    def journal(self) -> Journal:
        assert self.mempool.journal is not None  # the service always journals
        return self.mempool.journal

    def add_admission_check(self, fn: AdmissionCheck) -> None:
        self._checks.append(fn)

    def add_pending_listener(self, fn: PendingListener) -> None:
        self._listeners.append(fn)

    def replay_journal(self) -> None:
        """Admit the journal's transactions again (after a restart); drop what is mined."""
        kept = dropped = 0
        for raw in self.journal.read():
            try:
                self._admit(raw, journal=False)
                kept += 1
            except TransactionRejected:
                dropped += 1  # mined before the crash, or invalid by now
        self.mempool.compact_journal()
        if kept or dropped:
            log.info("mempool journal replayed: %d pending, %d dropped", kept, dropped)

    # -- admission --

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Admission waits meanwhile (at most ``ADMISSION_PAUSE`` seconds per transaction):
        the block producer's time budget. Admission is CPU work under the GIL; five RPC
        threads admitting beside the producer would give it a fifth of the CPU and its
        block would miss its time."""
        self._admitting.clear()
        try:
            yield
        finally:
            self._admitting.set()

    @contextmanager
    def resumed(self) -> Iterator[None]:
        """Admission goes on meanwhile, inside :meth:`paused`."""
        self._admitting.set()
        try:
            yield
        finally:
            self._admitting.clear()

    def send(self, raws: Sequence[bytes]) -> list[bytes | TransactionRejected]:
        """Admit each of ``raws``: its hash or its rejection, in order. One fsync makes all
        of them durable before any hash is returned; then the pending listeners hear."""
        results: list[bytes | TransactionRejected] = []
        ticket = 0
        for raw in raws:
            self._admitting.wait(ADMISSION_PAUSE)  # while a block is produced
            try:
                tx_hash, ticket = self._admit(bytes(raw), journal=True)
                results.append(tx_hash)
            except TransactionRejected as exc:
                results.append(exc)
        if ticket:
            # durable before the hashes go out; the fsync runs outside the lock and is
            # shared by every submitter waiting at the same time (group commit)
            self.journal.sync(ticket)
        for result in results:
            if isinstance(result, TransactionRejected):
                continue
            for fn in list(self._listeners):
                try:
                    fn(Hash32(result))
                except Exception:
                    log.exception("pending listener failed")
        return results

    def _admit(self, raw: bytes, *, journal: bool) -> tuple[Hash32, int]:
        """Check and pool one transaction; its hash and its journal ticket (0: none)."""
        tx, sender = decode_transaction(raw, self._decode, self._chain_id, self._gas_limit)
        with self._lock:
            head_state = self._chain.head_state()
            for check in self._checks:
                check(tx, sender, head_state)
            # A replayed transaction was accepted before the crash: a base fee that rose since
            # must not drop it (it waits in the pool until the base fee allows it).
            base_fee = next_base_fee(self._chain.head_header()) if journal else 0
            self.mempool.add(tx, raw, sender, head_state, base_fee, journal=journal)
            self.version += 1
            ticket = self.journal.written if journal else 0
        return Hash32(tx.hash), ticket

    # -- reads (under the chain lock) --

    def get(self, tx_hash: bytes) -> PooledTx | None:
        with self._lock:
            return self.mempool.get(tx_hash)

    def executable(self) -> list[SignedTransactionAPI]:
        with self._lock:
            return [p.tx for p in self.mempool.executable(self._chain.head_state().get_nonce)]

    def content(self) -> tuple[list[SignedTransactionAPI], list[SignedTransactionAPI]]:
        """The pool as ``txpool_content`` shows it: (executable, waiting behind a nonce gap)."""
        with self._lock:
            executable = self.mempool.executable(self._chain.head_state().get_nonce)
            ready = {p.hash for p in executable}
            queued = [p.tx for p in self.mempool.all() if p.hash not in ready]
            return [p.tx for p in executable], queued

    def pending_nonce(self, sender: Address) -> int:
        with self._lock:
            return self.mempool.pending_nonce(sender, self._chain.head_state().get_nonce(sender))

    def block_order(
        self, base_fee: int, nonce: Callable[[Address], int] | None = None
    ) -> list[SignedTransactionAPI]:
        """The executable transactions in the order the next block tries them; with
        ``nonce`` (a block being built: its senders' nonces so far) those that follow on."""
        with self._lock:
            state_nonce = nonce if nonce is not None else self._chain.head_state().get_nonce
            return [p.tx for p in self.mempool.block_order(state_nonce, base_fee)]

    # -- removal --

    def drop(self, tx_hash: bytes) -> bool:
        """Remove a pooled transaction and its journal record (its nonce slot is free)."""
        with self._lock:
            if tx_hash not in self.mempool:
                return False
            self.mempool.remove(tx_hash)
            self.version += 1
            if not self._closed:
                self.mempool.compact_journal()
            return True

    def block_committed(
        self, block: BlockAPI, state: StateAPI, rejected: Iterable[tuple[bytes, str]]
    ) -> None:
        """The head moved to ``block`` (whose post-state is ``state``): forget its
        transactions and the ones the builder found invalid. Under the chain lock."""
        for tx_hash, reason in rejected:
            log.info("dropping %s: %s", bytes(tx_hash).hex(), reason)
            self.mempool.remove(tx_hash)
            self._must_compact = True  # a dropped transaction must not come back on restart
        self.mempool.remove_mined(state.get_nonce, (tx.sender for tx in block.transactions))
        self.version += 1

    def compact_journal(self) -> None:
        """After a block: rewrite the journal with what is pooled, when a transaction was
        dropped or when mined records make up most of it (``JOURNAL_SLACK``). Mined records
        are harmless in the meantime (replay drops them as ``nonce too low``); rewriting
        the whole pool, with two fsyncs, after every block cost the producer 8% of its time
        under a full load."""
        with self._lock:
            if self._closed:
                return
            if self._must_compact or self.journal.records > 2 * len(self.mempool) + JOURNAL_SLACK:
                self.mempool.compact_journal()
                self._must_compact = False

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.journal.close()
