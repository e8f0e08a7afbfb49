"""The engine: build, validate, commit. The only writer of the chain database.

Whoever makes a block — the sequencer's driver from PIPE's inputs, a follower from a
block source — hands it to the engine, which executes it with py-evm and commits it, with
its inference witness, in one store transaction:

- :meth:`Engine.builder` opens a block on the parent (``sequencer.chain.BlockBuilder``),
  which takes transactions in rounds until it is sealed; :meth:`Engine.build` is one round;
- :meth:`Engine.validate` runs *the* state-transition function
  (``sequencer.chain.state_transition``) on a block and its witness;
- :meth:`Engine.commit` persists the executed block and its records
  (``sequencer.records``) and commits the store transaction under the chain lock, so no
  reader ever sees a head without its witness;
- :meth:`Engine.import_block` is validate + commit, for a follower.

Building and validating run inside :meth:`Engine.block_transaction` (they write state
trie nodes; :meth:`Engine.begin_block` opens one that outlives a ``with`` block, for a
block built over a whole block time); a transaction left without ``commit`` is rolled
back. Committed blocks reach
listeners (:class:`CommittedBlock`) after the lock is released, in block order, on the
thread that committed them. The engine never calls the pool, PIPE or the RPC.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from eth.abc import BlockAPI, BlockHeaderAPI
from eth.db.schema import SchemaV1
from eth_typing import Address, BlockNumber, Hash32

from neurostack.protocol import types as protocol
from neurostack.protocol.receipts import InferenceReceipt

from .chain import (
    BlockBuilder,
    BlockInputs,
    BuiltBlock,
    ChainSpec,
    ExecutedBlock,
    InvalidBlock,
    NeuroChain,
    NeuroVM,
    build_block,
    chain_class,
    create_genesis,
    genesis_hash,
    state_transition,
)
from .chain.history import rewind_canonical_head
from .errors import ConfigError
from .records import InferenceRecords
from .store import SqliteStore

log = logging.getLogger(__name__)

CHAIN_ID_KEY = b"neurostack:chain_id"


@dataclass(frozen=True)
class CommittedBlock:
    """What listeners hear after a commit: the block, and what its builder left out."""

    executed: ExecutedBlock
    deferred: tuple[protocol.Hash32, ...] = ()
    """Transactions the builder left out for a model call without a valid receipt."""
    rejected: tuple[tuple[protocol.Hash32, str], ...] = ()
    """Transactions the builder found invalid, with py-evm's reason."""


CommitListener = Callable[[CommittedBlock], None]


class BlockTransaction:
    """One block's store transaction (this thread's write overlay); rolled back unless
    committed through :meth:`Engine.commit`."""

    def __init__(self, store: SqliteStore) -> None:
        self._context: AbstractContextManager[None] = store.transaction()
        self._context.__enter__()
        self.open = True

    def commit(self) -> None:
        self.open = False
        self._context.__exit__(None, None, None)

    def rollback(self) -> None:
        if self.open:
            self.open = False
            rollback = _Rollback()
            self._context.__exit__(_Rollback, rollback, None)


class _Rollback(Exception):
    """Thrown into the store transaction to discard it."""


class Engine:
    """Builds, validates and commits blocks of one chain (see the module docstring)."""

    def __init__(
        self,
        store: SqliteStore,
        spec: ChainSpec,
        *,
        lock: threading.RLock,
        vm_class: type[NeuroVM] = NeuroVM,
    ) -> None:
        self.store = store
        self.spec = spec
        self.lock = lock
        self.records = InferenceRecords(store)
        self.chain = self._open_chain(vm_class)
        self.closed = False
        self._head: BlockHeaderAPI | None = None
        self._listeners: list[CommitListener] = []
        self._notify_lock = threading.Lock()
        self._notifications: list[CommittedBlock] = []

    def _open_chain(self, vm_class: type[NeuroVM]) -> NeuroChain:
        """Create the genesis in an empty store, or check the store holds this spec's chain.

        The chain id is not part of any header, so it is kept under its own key.
        """
        if SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(0)) not in self.store:
            with self.store.transaction():
                chain = create_genesis(self.spec, self.store, vm_class)
                self.store[CHAIN_ID_KEY] = str(self.spec.chain_id).encode()
            return chain
        chain = chain_class(self.spec, vm_class)(self.store)
        stored_id = int(self.store.get(CHAIN_ID_KEY, b"0"))
        genesis = chain.get_canonical_block_header_by_number(BlockNumber(0)).hash
        if stored_id != self.spec.chain_id or genesis != genesis_hash(self.spec, vm_class):
            raise ConfigError(
                f"{self.store.path}: the data dir holds another chain (chain id or genesis "
                "differs from chain.toml); start over with `neurostack up --reset` or pick "
                "another data_dir"
            )
        return chain

    # -- the head --

    def head_header(self) -> BlockHeaderAPI:
        """The canonical head. The engine is the only writer: the head changes only where it
        commits or rewinds, so it is cached instead of read from SQLite each time."""
        with self.lock:
            head = self._head
            if head is None:
                head = self._head = self.chain.get_canonical_head()
            return head

    # -- build, validate, commit --

    @contextmanager
    def block_transaction(self) -> Iterator[BlockTransaction]:
        """The store transaction one block is built, validated and committed in."""
        txn = self.begin_block()
        try:
            yield txn
        finally:
            txn.rollback()

    def begin_block(self) -> BlockTransaction:
        """A block's store transaction, on this thread, until it is committed or
        ``rollback()`` is called on the same thread."""
        return BlockTransaction(self.store)

    def builder(self, parent: BlockHeaderAPI, *, timestamp: int, coinbase: Address) -> BlockBuilder:
        """Open the child of ``parent`` for transactions (inside a block transaction)."""
        return BlockBuilder(self.chain, parent, timestamp=timestamp, coinbase=coinbase)

    def build(
        self,
        parent: BlockHeaderAPI,
        inputs: BlockInputs,
        *,
        timestamp: int,
        coinbase: Address,
        stop: Callable[[int], bool] | None = None,
    ) -> BuiltBlock:
        """Build the child of ``parent`` (inside a :meth:`block_transaction`); ``stop``
        (transactions so far → end the block now) is the producer's time budget."""
        return build_block(
            self.chain, parent, inputs, timestamp=timestamp, coinbase=coinbase, stop=stop
        )

    def validate(self, block: BlockAPI, witness: Sequence[InferenceReceipt]) -> ExecutedBlock:
        """The state-transition function on ``block`` as the head's child (inside a
        :meth:`block_transaction`); raises ``InvalidBlock``."""
        return state_transition(self.chain, block, witness)

    def verify_built(self, built: BuiltBlock) -> ExecutedBlock:
        """Run the state transition on a block this node built, with the witness it used."""
        block = built.executed.block
        try:
            return self.validate(block, built.executed.witness)
        except InvalidBlock as exc:
            log.error("the builder made a block the state transition rejects: %s", exc)
            raise

    def commit(self, txn: BlockTransaction, committed: CommittedBlock) -> bool:
        """Persist the block and its records and commit ``txn``, under the chain lock.
        False (nothing written) when the engine is closed."""
        with self.lock:
            if self.closed:
                return False
            executed = committed.executed
            # py-evm's Chain.persist_block, less reading back every new canonical block
            # from the database (it decoded all the block's transactions again)
            self.chain.validate_block(executed.block)
            self.chain.chaindb.persist_block(executed.block)
            self.records.save(executed)
            txn.commit()  # under the lock: no reader sees half a head
            self._head = None
            self._notifications.append(committed)
            return True

    def import_block(self, block: BlockAPI, witness: Sequence[InferenceReceipt]) -> ExecutedBlock:
        """Validate ``block`` with ``witness`` and commit it (a follower's step)."""
        with self.block_transaction() as txn:
            executed = self.validate(block, witness)
            self.commit(txn, CommittedBlock(executed))
        self.notify()
        return executed

    def rewind(self, target_hash: Hash32) -> int:
        """Make block ``target_hash`` the head again (dev ``evm_revert``)."""
        with self.lock, self.store.transaction():
            rewound = rewind_canonical_head(self.chain, target_hash)
            self._head = None
            return rewound

    # -- listeners --

    def add_listener(self, fn: CommitListener) -> None:
        self._listeners.append(fn)

    def notify(self) -> None:
        """Hand committed blocks to the listeners (call with the chain lock released)."""
        with self._notify_lock:
            with self.lock:
                pending, self._notifications = self._notifications, []
            for committed in pending:
                for fn in list(self._listeners):
                    try:
                        fn(committed)
                    except Exception:
                        log.exception("block listener failed")

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                self.store.close()
