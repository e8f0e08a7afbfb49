"""The node facade: chain + store + mempool + block producer behind one thread-safe object.

The RPC server, the CLI and the inference layer use only this class. Every public method
takes one internal ``RLock``; block and pending listeners are called after the lock is
released, in block order, from the thread that produced the block.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ChainAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.db.schema import SchemaV1
from eth.exceptions import BlockNotFound as EVMBlockNotFound
from eth.exceptions import HeaderNotFound, TransactionNotFound
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import ValidationError

from .chain import execution, fees
from .chain.builder import BuiltBlock, build_block
from .chain.genesis import chain_class, create_genesis, genesis_hash
from .chain.history import rewind_canonical_head
from .config import ChainConfig, sequencer_address
from .errors import (
    BlockNotFound,
    ConfigError,
    DevMethodsDisabled,
    InvalidBlockTimestamp,
    TransactionDeferred,
    TransactionRejected,
)
from .mempool import JOURNAL_FILE, Journal, Mempool, decode_transaction
from .producer import BlockHooks, BlockProducer, PlainBlocks
from .store import STORE_FILE, SqliteStore
from .types import CallParams, FeeHistory, TxLookup

log = logging.getLogger(__name__)

BlockListener = Callable[[BlockAPI, list[ReceiptAPI]], None]
PendingListener = Callable[[Hash32], None]
T = TypeVar("T")
AdmissionCheck = Callable[[SignedTransactionAPI, Address, StateAPI], None]
"""Called under the node lock before a transaction enters the pool (with its sender and the
head state); raises ``TransactionRejected`` to refuse it (PIPE's per-sender parking limit)."""


class Node:
    """One rollup node: chain + store + mempool + block producer. Thread-safe (one internal RLock)."""

    def __init__(self, config: ChainConfig, *, dev_methods: bool | None = None) -> None:
        self.config = config
        self.chain_id = config.chain.chain_id
        self.dev_methods = config.rpc.dev_methods if dev_methods is None else dev_methods
        self.hooks: BlockHooks = PlainBlocks()
        self._lock = threading.RLock()
        self._produce_lock = threading.Lock()
        self._notify_lock = threading.Lock()
        self._notifications: list[tuple[BlockAPI, list[ReceiptAPI]]] = []
        self._block_listeners: list[BlockListener] = []
        self._pending_listeners: list[PendingListener] = []
        self._admission_checks: list[AdmissionCheck] = []
        self._time_offset = 0
        self._snapshots: dict[int, Hash32] = {}
        self._snapshot_ids = itertools.count(1)
        self._pending_cache: tuple[tuple[bytes, int], StateAPI] | None = None
        self._pool_version = 0
        self._head_state_cache: tuple[bytes, StateAPI] | None = None
        self._head_block: BlockAPI | None = None
        self._head_cache: BlockHeaderAPI | None = None
        self._tip_cache: tuple[bytes, int] | None = None

        data_dir = Path(config.data_dir)
        self._store = SqliteStore(data_dir / STORE_FILE)
        try:
            self._chain = self._open_chain()
        except BaseException:
            self._store.close()  # release the data dir: the caller may fix the config and retry
            raise
        self._decode = self._chain.get_vm_class_for_block_number(1).get_transaction_builder().decode
        self.coinbase = sequencer_address(config)  # fees go to the sequencer key
        self.mempool = Mempool(Journal(data_dir / JOURNAL_FILE))
        self._replay_journal()
        self._producer = BlockProducer(self._produce_scheduled, config.chain.block_time)
        self._closed = False

    # -- set-up --

    def _open_chain(self) -> Any:
        """Create the genesis in an empty store, or check the store holds this config's chain.

        The chain id is not part of any header, so it is kept under its own key.
        """
        cls = chain_class(self.chain_id)
        chain_id_key = b"neurostack:chain_id"
        if SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(0)) not in self._store:
            with self._store.transaction():
                chain = create_genesis(self.config, self._store)
                self._store[chain_id_key] = str(self.chain_id).encode()
            return chain
        chain = cls(self._store)
        stored_id = int(self._store.get(chain_id_key, b"0"))
        if stored_id != self.chain_id or chain.get_canonical_block_header_by_number(
            BlockNumber(0)
        ).hash != genesis_hash(self.config):
            raise ConfigError(
                f"{self._store.path}: the data dir holds another chain (chain id or genesis "
                "differs from chain.toml); start over with `neurostack up --reset` or pick "
                "another data_dir"
            )
        return chain

    def _replay_journal(self) -> None:
        journal = self.mempool.journal
        assert journal is not None
        kept = dropped = 0
        for raw in journal.read():
            try:
                self._admit(raw, journal=False)
                kept += 1
            except TransactionRejected:
                dropped += 1  # mined before the crash, or invalid by now
        self.mempool.compact_journal()
        if kept or dropped:
            log.info("mempool journal replayed: %d pending, %d dropped", kept, dropped)

    # -- lifecycle --

    def start(self) -> None:
        self._producer.start()

    def stop(self) -> None:
        """Stop the block-time loop, let a block being built (evm_mine) finish, close the store."""
        self._producer.stop()
        with self._produce_lock, self._lock:
            if not self._closed:
                self._closed = True
                if self.mempool.journal is not None:
                    self.mempool.journal.close()
                self._store.close()

    def add_block_listener(self, fn: BlockListener) -> None:
        self._block_listeners.append(fn)

    def add_pending_listener(self, fn: PendingListener) -> None:
        self._pending_listeners.append(fn)

    def add_admission_check(self, fn: AdmissionCheck) -> None:
        self._admission_checks.append(fn)

    def set_block_hooks(self, hooks: BlockHooks) -> None:
        with self._lock:
            self.hooks = hooks

    @property
    def store(self) -> SqliteStore:
        """The chain database. Block hooks may write to it in ``block_persisted``: those
        writes commit atomically with the block (PIPE stores each block's witness there)."""
        return self._store

    # -- reads --

    def head(self) -> BlockAPI:
        with self._lock:
            header = self._head_header()
            if self._head_block is None or self._head_block.hash != header.hash:
                self._head_block = self._chain.get_block_by_header(header)
            return self._head_block

    def _head_header(self) -> BlockHeaderAPI:
        # The node is the store's only writer: the head changes only where the cache is
        # cleared (block commit, revert), so every read need not go to SQLite.
        head = self._head_cache
        if head is None:
            head = self._head_cache = self._chain.get_canonical_head()
        return head

    def block_by_number(self, number: int) -> BlockAPI | None:
        with self._lock:
            try:
                return self._chain.get_canonical_block_by_number(number)
            except (HeaderNotFound, EVMBlockNotFound):
                return None

    def block_by_hash(self, block_hash: bytes) -> BlockAPI | None:
        with self._lock:
            try:
                return self._chain.get_block_by_hash(block_hash)
            except (HeaderNotFound, EVMBlockNotFound):
                return None

    def resolve_tag(self, tag: str | int) -> int:
        """Block tag to number. Single sequencer: safe and finalized are the head."""
        head = self._head_header().block_number
        if isinstance(tag, int):
            if tag < 0 or tag > head:
                raise BlockNotFound(f"block {tag} not found; the head is {head}")
            return tag
        if tag in ("latest", "safe", "finalized", "pending"):
            return head
        if tag == "earliest":
            return 0
        raise BlockNotFound(
            f"unknown block tag {tag!r}; use latest, pending, safe, finalized, earliest"
        )

    def receipts(self, block: BlockAPI) -> list[ReceiptAPI]:
        with self._lock:
            return list(block.get_receipts(self._chain.chaindb))

    def transaction(self, tx_hash: bytes) -> TxLookup | None:
        with self._lock:
            pooled = self.mempool.get(tx_hash)
            if pooled is not None:
                return TxLookup(pooled.tx)
            try:
                number, index = self._chain.get_canonical_transaction_index(tx_hash)
            except TransactionNotFound:
                return None
            block = self._chain.get_canonical_block_by_number(number)
            return TxLookup(block.transactions[index], number, block.hash, index)

    def pending_transactions(self) -> list[SignedTransactionAPI]:
        with self._lock:
            return [p.tx for p in self.mempool.executable(self._head_state().get_nonce)]

    def state_at(self, block_number: int) -> StateAPI:
        with self._lock:
            header = self._chain.get_canonical_block_header_by_number(block_number)
            return self._chain.get_vm(header).state

    def _head_state(self) -> StateAPI:
        """The head's state, cached per head: the pool only reads it."""
        head = self._head_header()
        if self._head_state_cache is None or self._head_state_cache[0] != head.hash:
            self._head_state_cache = (head.hash, self._chain.get_vm(head).state)
        return self._head_state_cache[1]

    def pending_state(self) -> StateAPI:
        """The head state with the executable pending transactions applied (geth's "pending")."""
        with self._lock:
            head = self._head_header()
            key = (head.hash, self._pool_version)
            if self._pending_cache is not None and self._pending_cache[0] == key:
                return self._pending_cache[1]
            parent_state = self._chain.get_vm(head).state
            header = self._chain.get_vm_class_for_block_number(
                head.block_number + 1
            ).create_header_from_parent(
                head, timestamp=max(self._now(), head.timestamp + 1), coinbase=self.coinbase
            )
            vm = self._chain.get_vm(header)
            vm.environment = self.hooks.block_environment(header)  # type: ignore[attr-defined]
            queue = self.mempool.ready_queue(parent_state.get_nonce, header.base_fee_per_gas)
            for tx in queue:
                vm.state.lock_changes()  # a new transaction: fresh EIP-2929 access sets
                snapshot = vm.state.snapshot()
                try:
                    vm.state.apply_transaction(tx)
                    queue.done(tx, True)
                except (ValidationError, TransactionDeferred):  # best effort: skip it
                    vm.state.revert(snapshot)
                    queue.done(tx, False)
            self._pending_cache = (key, vm.state)
            return vm.state

    def pool_content(self) -> tuple[list[SignedTransactionAPI], list[SignedTransactionAPI]]:
        """The pool as ``txpool_content`` shows it: (executable, waiting behind a nonce gap)."""
        with self._lock:
            executable = self.mempool.executable(self._head_state().get_nonce)
            ready = {p.hash for p in executable}
            queued = [p.tx for p in self.mempool.all() if p.hash not in ready]
            return [p.tx for p in executable], queued

    def pending_nonce(self, address: bytes) -> int:
        with self._lock:
            sender = Address(address)
            return self.mempool.pending_nonce(sender, self._head_state().get_nonce(sender))

    # -- execution --

    def _call_header(self, block_number: int | None) -> BlockHeaderAPI:
        number = self.resolve_tag("latest" if block_number is None else block_number)
        return self._chain.get_canonical_block_header_by_number(number)

    # A call runs outside the node lock: it reads the immutable state of a persisted block,
    # and a call of a model may wait for a sprinter (PIPE), which must not stall blocks.

    def call(
        self, tx: CallParams, block_number: int | None = None, *, environment: Any = None
    ) -> bytes:
        """``environment`` replaces ``hooks.call_environment`` (PIPE's detection runs)."""
        with self._lock:
            header = self._call_header(block_number)
            env = self.hooks.call_environment(header) if environment is None else environment
        return execution.call(self._chain, header, tx, env)

    def estimate_gas(
        self, tx: CallParams, block_number: int | None = None, *, environment: Any = None
    ) -> int:
        with self._lock:
            header = self._call_header(block_number)
            env = self.hooks.call_environment(header) if environment is None else environment
            state = self._chain.get_vm(header).state
        return execution.estimate_gas(self._chain, header, tx, env, state.get_balance)

    def execute(
        self, run: Callable[[ChainAPI, BlockHeaderAPI, Any], T], block_number: int | None = None
    ) -> T:
        """Run a read-only execution ``run(chain, header, environment)`` on the state after a
        block (``None``: the head): ``eth_createAccessList``, ``eth_simulateV1``. Like ``call``
        it runs outside the node lock, with ``hooks.call_environment`` as the environment;
        ``run`` must not write to the chain's database."""
        with self._lock:
            header = self._call_header(block_number)
            env = self.hooks.call_environment(header)
        return run(self._chain, header, env)

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate, journal (fsync) and pool ``raw``; its hash once it is durable."""
        (result,) = self.send_raw_transactions([raw])
        if isinstance(result, TransactionRejected):
            raise result
        return result

    def send_raw_transactions(self, raws: Sequence[bytes]) -> list[bytes | TransactionRejected]:
        """``send_raw_transaction`` for many (a JSON-RPC batch): one hash or rejection per
        input, in order, and one fsync for all of them before any hash is returned."""
        results: list[bytes | TransactionRejected] = []
        ticket = 0
        for raw in raws:
            try:
                tx_hash, ticket = self._admit(bytes(raw), journal=True)
                results.append(tx_hash)
            except TransactionRejected as exc:
                results.append(exc)
        if ticket and self.mempool.journal is not None:
            # durable before the hashes go out; the fsync runs outside the lock and is
            # shared by every submitter waiting at the same time (group commit)
            self.mempool.journal.sync(ticket)
        for result in results:
            if isinstance(result, TransactionRejected):
                continue
            for fn in list(self._pending_listeners):
                try:
                    fn(Hash32(result))
                except Exception:
                    log.exception("pending listener failed")
        return results

    def _admit(self, raw: bytes, *, journal: bool) -> tuple[Hash32, int]:
        """Check and pool one transaction; its hash and its journal ticket (0: none)."""
        tx, sender = decode_transaction(
            raw, self._decode, self.chain_id, self.config.chain.gas_limit
        )
        with self._lock:
            head = self._head_header()
            for check in self._admission_checks:
                check(tx, sender, self._head_state())
            # A replayed transaction was accepted before the crash: a base fee that rose since
            # must not drop it (it waits in the pool until the base fee allows it).
            base_fee = fees.next_base_fee(head) if journal else 0
            self.mempool.add(tx, raw, sender, self._head_state(), base_fee, journal=journal)
            self._pool_version += 1
            ticket = self.mempool.journal.written if journal and self.mempool.journal else 0
        return tx.hash, ticket

    def drop_transaction(self, tx_hash: bytes) -> bool:
        """Remove a pooled transaction (and its journal record): its sender's nonce slot is
        free again. PIPE drops inference transactions that cannot be served. False if absent."""
        with self._lock:
            if tx_hash not in self.mempool:
                return False
            self.mempool.remove(tx_hash)
            self._pool_version += 1
            if not self._closed:
                self.mempool.compact_journal()
            return True

    def gas_price(self) -> int:
        with self._lock:
            return fees.next_base_fee(self._head_header()) + self.max_priority_fee()

    def max_priority_fee(self) -> int:
        with self._lock:
            head = self._head_header()
            # wallets ask before every transaction: compute once per head
            if self._tip_cache is None or self._tip_cache[0] != head.hash:
                recent = [
                    self._chain.get_canonical_block_by_number(n)
                    for n in range(
                        head.block_number, max(head.block_number - fees.TIP_SAMPLE_BLOCKS, 0), -1
                    )
                ]
                self._tip_cache = (head.hash, fees.suggest_tip(recent))
            return self._tip_cache[1]

    def fee_history(self, block_count: int, newest: int, percentiles: list[float]) -> FeeHistory:
        with self._lock:
            newest = self.resolve_tag(newest)
            return fees.fee_history(
                newest,
                block_count,
                percentiles,
                self._chain.get_canonical_block_by_number,
                lambda b: list(b.get_receipts(self._chain.chaindb)),
            )

    # -- block production --

    def _now(self) -> int:
        return int(time.time()) + self._time_offset

    def chain_time(self) -> int:
        """The chain's clock: what the next block's timestamp is based on (wall clock plus
        ``evm_increaseTime``). Receipt expiries are judged against block timestamps, so
        they are set from this clock, not the wall clock."""
        return self._now()

    def _produce_scheduled(self) -> BlockAPI | None:
        return self._produce(force=False)

    def _produce(self, *, force: bool, timestamp: int | None = None) -> BlockAPI | None:
        """Build and commit one block. The transactions execute without the node lock, so
        admissions, reads and calls go on meanwhile; only the commit pauses them."""
        with self._produce_lock:  # one block at a time (block-time loop, evm_mine, evm_revert)
            with self._lock:
                if self._closed:
                    return None
                parent = self._head_header()
                if timestamp is not None and timestamp <= parent.timestamp:
                    raise InvalidBlockTimestamp(
                        f"timestamp {timestamp} is not after the head's {parent.timestamp}"
                    )
                empty_ok = force or self.config.chain.empty_blocks
                head_state = self._head_state()
                if not empty_ok and not self.mempool.executable(head_state.get_nonce):
                    return None
                ts = timestamp if timestamp is not None else max(self._now(), parent.timestamp + 1)
                hooks = self.hooks
                # a snapshot of the pool: what arrives from now on waits for the next block
                queue = self.select_ready_transactions(head_state, fees.next_base_fee(parent))
            try:
                with ExitStack() as block_tx:
                    block_tx.enter_context(self._store.transaction())  # this thread's overlay
                    built, env = self._build(parent, queue, hooks, ts)
                    if not built.block.transactions and not empty_ok:
                        return None  # leaving the ExitStack rolls the block back
                    with self._lock:
                        if self._closed:
                            return None
                        self._chain.persist_block(built.block)
                        hooks.block_persisted(built.block, built.receipts, env)
                        block_tx.close()  # commit, under the lock: no reader sees half a head
                        self._head_cache = None
                        # only once the block is committed: a failed commit leaves the pool
                        self._update_pool(built)
                        self._notifications.append((built.block, built.receipts))
            finally:
                with self._lock:
                    self._head_cache = None
        self._notify()
        return built.block

    def _build(
        self, parent: BlockHeaderAPI, queue: Any, hooks: BlockHooks, timestamp: int
    ) -> tuple[BuiltBlock, Any]:
        """Execute the block's transactions (inside the caller's store transaction)."""
        unsealed = self._chain.get_vm_class_for_block_number(
            BlockNumber(parent.block_number + 1)
        ).create_header_from_parent(
            parent,
            timestamp=timestamp,
            coinbase=self.coinbase,
            gas_limit=self.config.chain.gas_limit,
        )
        env = hooks.block_environment(unsealed)
        built = build_block(
            self._chain,
            parent,
            queue,
            timestamp=timestamp,
            coinbase=self.coinbase,
            gas_limit=self.config.chain.gas_limit,
            environment=env,
            extra_data=hooks.extra_data,
        )
        return built, env

    def _update_pool(self, built: BuiltBlock) -> None:
        for tx, reason in built.rejected:
            log.info("dropping %s: %s", tx.hash.hex(), reason)
            self.mempool.remove(tx.hash)
        new_state = self._chain.get_vm(built.block.header).state
        self.mempool.remove_mined(
            new_state.get_nonce, (tx.sender for tx in built.block.transactions)
        )
        self._pool_version += 1

    def select_ready_transactions(self, head_state: StateAPI, base_fee: int) -> Any:
        """THE place the builder takes transactions from: the pool's executable ones,
        best tip first, filtered by ``hooks.is_ready`` (PIPE parks inference txs there)."""
        return self.mempool.ready_queue(head_state.get_nonce, base_fee, self.hooks.is_ready)

    def _notify(self) -> None:
        with self._notify_lock:
            with self._lock:
                pending, self._notifications = self._notifications, []
                if pending and not self._closed:
                    self.mempool.compact_journal()
            for block, receipts in pending:
                for fn in list(self._block_listeners):
                    try:
                        fn(block, receipts)
                    except Exception:
                        log.exception("block listener failed")

    # -- dev methods --

    def _require_dev(self, method: str) -> None:
        if not self.dev_methods:
            raise DevMethodsDisabled(method)

    def mine(self, timestamp: int | None = None) -> BlockAPI:
        """Mine all pending transactions (or an empty block) now."""
        self._require_dev("evm_mine")
        block = self._produce(force=True, timestamp=timestamp)
        assert block is not None
        return block

    def snapshot(self) -> int:
        self._require_dev("evm_snapshot")
        with self._lock:
            snapshot_id = next(self._snapshot_ids)
            self._snapshots[snapshot_id] = self._head_header().hash
            return snapshot_id

    def revert(self, snapshot_id: int) -> bool:
        """Rewind the canonical chain to the snapshot's head; that snapshot and later ones are used up."""
        self._require_dev("evm_revert")
        with self._produce_lock, self._lock:
            target_hash = self._snapshots.get(snapshot_id)
            if target_hash is None:
                return False
            for sid in [s for s in self._snapshots if s >= snapshot_id]:
                del self._snapshots[sid]
            with self._store.transaction():
                rewind_canonical_head(self._chain, target_hash)
            self._head_cache = None
            self._pool_version += 1
            return True

    def increase_time(self, seconds: int) -> int:
        """Move the block clock forward; returns the total offset in seconds (ganache's answer)."""
        self._require_dev("evm_increaseTime")
        with self._lock:
            self._time_offset += int(seconds)
            return self._time_offset
