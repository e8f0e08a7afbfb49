"""The node: its parts wired in one visible place, behind one thread-safe facade.

:func:`Node.__init__` is the wiring (op-node style), in the order data flows::

    ChainConfig ──chain_spec──▶ ChainSpec
    SqliteStore ─▶ Engine (build, validate, commit; the only writer) ─▶ ChainReader (reads)
    TxPool (admission, mempool, journal) ──block order──▶ BlockInputSource (AllReady, or
    PIPE via ``sequencer.pipe.attach``) ──BlockInputs──▶ Driver (block-time loop) ─▶ Engine
    Engine ──committed blocks──▶ listeners (RPC subscriptions, PIPE statuses)
    DevMethods (only when enabled) ─▶ the RPC

The RPC, the CLI and PIPE use the facade's methods; each forwards to the part that owns
it. Every public method is thread-safe (one shared chain lock, held briefly); block and
pending listeners run after the lock is released, in block order, on the thread that
made the block (or submitted the transaction).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ChainAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth_typing import Address

from .chain import BlockEnvironment, ChainSpec, ExecutionMode, NeuroVM, block_environment
from .chainspec import chain_spec
from .config import ChainConfig, sequencer_address
from .dev import DevMethods
from .driver import BlockInputSource, ChainClock, Driver
from .engine import CommitListener, Engine
from .errors import DevMethodsDisabled, TransactionRejected
from .pipe.status import StatusRecord
from .reader import ChainReader
from .store import STORE_FILE, SqliteStore
from .txpool import AdmissionCheck, PendingListener, PoolLimits, TxPool
from .types import CallParams, FeeHistory, TxLookup

log = logging.getLogger(__name__)
T = TypeVar("T")

BlockListener = Callable[[BlockAPI, list[ReceiptAPI]], None]


class CallEnvironments(Protocol):
    """What a call's model calls see (PIPE runs them through the hub)."""

    def call_environment(self, header: BlockHeaderAPI) -> BlockEnvironment:
        """The environment of an ``eth_call``/``eth_estimateGas`` on the state after ``header``."""
        ...


class StatusSource(Protocol):
    """PIPE's record of an inference transaction (``neuro_getInferenceStatus``)."""

    def get(self, tx_hash: bytes) -> StatusRecord | None: ...


class PlainCalls:
    """Calls on a node without inference: a model call stops as pending (nobody answers)."""

    def __init__(self, spec: ChainSpec, reader: ChainReader) -> None:
        self._spec = spec
        self._reader = reader

    def call_environment(self, header: BlockHeaderAPI) -> BlockEnvironment:
        state = self._reader.state_at(header.block_number)
        return block_environment(
            self._spec, state, mode=ExecutionMode.SIMULATE, simulation_result=True
        )


class SyncStatus(Protocol):
    """Where the node's chain comes from (``neuro_syncStatus``, ``eth_syncing``): its own
    blocks on a sequencer, a block source's verified blocks on a follower."""

    def sync_status(self) -> dict[str, Any]:
        """``neuro_syncStatus``'s answer (JSON)."""
        ...

    def progress(self) -> tuple[int, int, int] | None:
        """``eth_syncing``: (starting block, current block, highest known block) while
        behind, else None."""
        ...


class SequencerSync:
    """The sync status of a sequencer: it makes its own blocks, so it is never behind."""

    def __init__(self, reader: ChainReader) -> None:
        self._reader = reader

    def sync_status(self) -> dict[str, Any]:
        head = self._reader.head()
        return {"role": "sequencer", "head": hex(head.number), "headHash": "0x" + head.hash.hex()}

    def progress(self) -> tuple[int, int, int] | None:
        return None


class NoStatuses:
    """The status source of a node without PIPE: it tracks nothing."""

    def get(self, tx_hash: bytes) -> StatusRecord | None:
        return None


class Node:
    """One rollup node (see the module docstring). Thread-safe."""

    def __init__(
        self,
        config: ChainConfig,
        *,
        dev_methods: bool | None = None,
        verify_built_blocks: bool | None = None,
        spec: ChainSpec | None = None,
        vm_class: type[NeuroVM] = NeuroVM,
    ) -> None:
        self.config = config
        self.spec = spec if spec is not None else chain_spec(config)
        self.chain_id = self.spec.chain_id
        self.coinbase = sequencer_address(config)  # fees go to the sequencer
        data_dir = Path(config.data_dir)
        lock = threading.RLock()

        self.store = SqliteStore(data_dir / STORE_FILE)
        try:
            self.engine = Engine(self.store, self.spec, lock=lock, vm_class=vm_class)
        except BaseException:
            self.store.close()  # release the data dir: the caller may fix the config and retry
            raise
        self.reader = ChainReader(self.engine)
        decode = self.engine.chain.get_vm().get_transaction_builder().decode
        self.txpool = TxPool(
            data_dir, chain=self.reader, decode=decode, chain_id=self.chain_id,
            gas_limit=self.spec.gas_limit, lock=lock,
            limits=PoolLimits(**config.txpool.model_dump()),
        )  # fmt: skip
        self.clock = ChainClock()
        self.driver = Driver(
            self.engine, self.reader, self.txpool, self.clock,
            coinbase=self.coinbase, block_time=config.chain.block_time,
            empty_blocks=config.chain.empty_blocks,
            verify_built_blocks=_verify_setting(config, verify_built_blocks),
        )  # fmt: skip
        enabled = config.rpc.dev_methods if dev_methods is None else dev_methods
        self.dev: DevMethods | None = (
            DevMethods(self.driver, self.engine, self.txpool, self.clock) if enabled else None
        )
        self.calls: CallEnvironments = PlainCalls(self.spec, self.reader)
        self.inference_statuses: StatusSource = NoStatuses()
        self.sync: SyncStatus = SequencerSync(self.reader)
        self._lock = lock
        self.txpool.replay_journal()

    # -- wiring of optional parts (PIPE: sequencer.pipe.attach) --

    def set_block_inputs(self, source: BlockInputSource) -> None:
        """Where the driver gets each block's ready transactions and witness entries."""
        self.driver.inputs = source

    def set_call_environments(self, calls: CallEnvironments) -> None:
        self.calls = calls

    def set_inference_statuses(self, statuses: StatusSource) -> None:
        self.inference_statuses = statuses

    def set_sync_status(self, sync: SyncStatus) -> None:
        """A follower's sync loop reports through ``neuro_syncStatus`` and ``eth_syncing``."""
        self.sync = sync

    def add_admission_check(self, fn: AdmissionCheck) -> None:
        self.txpool.add_admission_check(fn)

    def add_pending_listener(self, fn: PendingListener) -> None:
        self.txpool.add_pending_listener(fn)

    def add_block_listener(self, fn: BlockListener) -> None:
        """``fn(block, receipts)`` after each committed block, in block order."""
        self.engine.add_listener(lambda c: fn(c.executed.block, list(c.executed.receipts)))

    def add_commit_listener(self, fn: CommitListener) -> None:
        """``fn(CommittedBlock)``: the block with its witness, and what its builder left out."""
        self.engine.add_listener(fn)

    @property
    def dev_methods(self) -> bool:
        return self.dev is not None

    # -- lifecycle --

    def start(self) -> None:
        self.driver.start()

    def stop(self) -> None:
        """Stop the block-time loop, let a block being built (evm_mine) finish, close."""
        self.driver.stop()
        with self.driver.paused(), self._lock:
            self.txpool.close()
            self.engine.close()

    # -- reads --

    def head(self) -> BlockAPI:
        return self.reader.head()

    def block_by_number(self, number: int) -> BlockAPI | None:
        return self.reader.block_by_number(number)

    def block_by_hash(self, block_hash: bytes) -> BlockAPI | None:
        return self.reader.block_by_hash(block_hash)

    def resolve_tag(self, tag: str | int) -> int:
        """Block tag to number. Single sequencer: safe and finalized are the head."""
        return self.reader.resolve_tag(tag)

    def receipts(self, block: BlockAPI) -> list[ReceiptAPI]:
        return self.reader.receipts(block)

    def transaction(self, tx_hash: bytes) -> TxLookup | None:
        """A pooled (pending) or canonical transaction, or None."""
        with self._lock:
            pooled = self.txpool.get(tx_hash)
            if pooled is not None:
                return TxLookup(pooled.tx)
            return self.reader.canonical_transaction(tx_hash)

    def pending_transactions(self) -> list[SignedTransactionAPI]:
        return self.txpool.executable()

    def state_at(self, block_number: int) -> StateAPI:
        return self.reader.state_at(block_number)

    def pending_state(self) -> StateAPI:
        """The head state with the next block's transactions applied (geth's "pending")."""
        with self._lock:
            return self.reader.pending_state(
                self.driver.next_inputs(), self.txpool.version, self.chain_time(), self.coinbase
            )

    def pool_content(self) -> tuple[list[SignedTransactionAPI], list[SignedTransactionAPI]]:
        """The pool as ``txpool_content`` shows it: (executable, waiting behind a nonce gap)."""
        return self.txpool.content()

    def pending_nonce(self, address: bytes) -> int:
        return self.txpool.pending_nonce(Address(address))

    # -- execution --

    def call(
        self,
        tx: CallParams,
        block_number: int | None = None,
        *,
        environment: BlockEnvironment | None = None,
    ) -> bytes:
        """``eth_call``; ``environment`` replaces the call environment (PIPE's detection)."""
        header = self.reader.call_header(block_number)
        env = self.calls.call_environment(header) if environment is None else environment
        return self.reader.call(tx, header, env)

    def simulate_next(self, tx: SignedTransactionAPI, environment: BlockEnvironment) -> None:
        """Run the signed ``tx`` as the next block would (PIPE's detection): its number,
        this node's coinbase, the chain clock's timestamp, the base fee, the transaction's
        own gas price and limit; nothing is kept. Raises like ``ChainReader.simulate_next``."""
        self.reader.simulate_next(
            tx, environment, timestamp=self.chain_time(), coinbase=self.coinbase
        )

    def estimate_gas(
        self,
        tx: CallParams,
        block_number: int | None = None,
        *,
        environment: BlockEnvironment | None = None,
    ) -> int:
        header = self.reader.call_header(block_number)
        env = self.calls.call_environment(header) if environment is None else environment
        return self.reader.estimate_gas(tx, header, env)

    def execute(
        self,
        run: Callable[[ChainAPI, BlockHeaderAPI, BlockEnvironment], T],
        block_number: int | None = None,
    ) -> T:
        """Run a read-only execution ``run(chain, header, environment)`` on the state after a
        block (``None``: the head): ``eth_createAccessList``, ``eth_simulateV1``. Like ``call``
        it runs outside the node lock, with the call environment; ``run`` must not write to
        the chain's database."""
        header = self.reader.call_header(block_number)
        return run(self.reader.chain, header, self.calls.call_environment(header))

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate, journal (fsync) and pool ``raw``; its hash once it is durable."""
        (result,) = self.txpool.send([raw])
        if isinstance(result, TransactionRejected):
            raise result
        return result

    def send_raw_transactions(self, raws: Sequence[bytes]) -> list[bytes | TransactionRejected]:
        """``send_raw_transaction`` for many (a JSON-RPC batch): one hash or rejection per
        input, in order, and one fsync for all of them before any hash is returned."""
        return self.txpool.send(raws)

    def drop_transaction(self, tx_hash: bytes) -> bool:
        """Remove a pooled transaction (and its journal record): its sender's nonce slot is
        free again. PIPE drops inference transactions that cannot be served. False if absent."""
        return self.txpool.drop(tx_hash)

    def gas_price(self) -> int:
        return self.reader.gas_price()

    def max_priority_fee(self) -> int:
        return self.reader.max_priority_fee()

    def fee_history(self, block_count: int, newest: int, percentiles: list[float]) -> FeeHistory:
        return self.reader.fee_history(block_count, newest, percentiles)

    def chain_time(self) -> int:
        """The chain's clock: what the next block's timestamp is based on (wall clock plus
        ``evm_increaseTime``). Receipt expiries are judged against block timestamps, so
        they are set from this clock, not the wall clock."""
        return self.clock.now()

    # -- dev methods (DevMethodsDisabled when the node has none) --

    def _dev(self, method: str) -> DevMethods:
        if self.dev is None:
            raise DevMethodsDisabled(method)
        return self.dev

    def mine(self, timestamp: int | None = None) -> BlockAPI:
        """Mine all pending transactions (or an empty block) now."""
        return self._dev("evm_mine").mine(timestamp)

    def snapshot(self) -> int:
        return self._dev("evm_snapshot").snapshot()

    def revert(self, snapshot_id: int) -> bool:
        """Rewind the canonical chain to the snapshot's head; that snapshot and later ones are used up."""
        return self._dev("evm_revert").revert(snapshot_id)

    def increase_time(self, seconds: int) -> int:
        """Move the block clock forward; returns the total offset in seconds (ganache's answer)."""
        return self._dev("evm_increaseTime").increase_time(seconds)


VERIFY_ENV = "NEUROSTACK_VERIFY_BUILT_BLOCKS"
"""Set to 1 to turn ``verify_built_blocks`` on for every node a process starts (the test
suite does, so every block built in it passes the state-transition function)."""


def _verify_setting(config: ChainConfig, given: bool | None) -> bool:
    if given is not None:
        return given
    return config.sequencer.verify_built_blocks or os.environ.get(VERIFY_ENV) == "1"
