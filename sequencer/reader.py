"""Reads of the chain and their caches: blocks, receipts, state, calls, fee suggestions.

:class:`ChainReader` serves what the RPC, PIPE and admission read, from the engine's
chain under the shared chain lock. Caches are keyed by the head (the head block, its
state, the tip suggestion) or by head and pool version (the pending state), so a commit
invalidates them by moving the head. The last blocks committed are kept as the engine made
them, with their receipts and their transactions' recovered senders, by block hash (a
hash names one block forever, so a rewind needs no invalidation): the explorer, receipt
pollers and the pool ask for the newest blocks, and a block read back from SQLite would
recover every sender again (``from`` of each transaction). Calls (``eth_call``, ``eth_estimateGas``) run outside
the lock: they read the immutable state of a persisted block, and a model call may wait
for a sprinter, which must not stall blocks. The reader writes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import cast

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.exceptions import BlockNotFound as EVMBlockNotFound
from eth.exceptions import HeaderNotFound, TransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError

from neurostack.protocol.types import Hash32

from .chain import BlockEnvironment, BlockInputs, NeuroChain, block_environment, execution, fees
from .chain.blocks import apply_transaction, open_block
from .chain.genesis import GENESIS_EXTRA_DATA
from .engine import CommittedBlock, Engine
from .errors import BlockNotFound, TransactionDeferred
from .types import CallParams, FeeHistory, TxLookup

RECENT_BLOCKS = 32  # blocks kept as committed (with receipts), newest first out last


class ChainReader:
    """Thread-safe reads of one chain (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock: threading.RLock = engine.lock
        self._head_block: BlockAPI | None = None
        self._head_state: tuple[bytes, StateAPI] | None = None
        self._pending: tuple[tuple[bytes, int], StateAPI] | None = None
        self._tip: tuple[bytes, int] | None = None
        self._recent: OrderedDict[bytes, tuple[BlockAPI, list[ReceiptAPI] | None]] = OrderedDict()
        engine.add_listener(self._committed)

    @property
    def chain(self) -> NeuroChain:
        return self._engine.chain

    # -- blocks --

    def head_header(self) -> BlockHeaderAPI:
        return self._engine.head_header()

    def _committed(self, committed: CommittedBlock) -> None:
        executed = committed.executed
        self._remember(executed.block, list(executed.receipts))

    def _remember(self, block: BlockAPI, receipts: list[ReceiptAPI] | None) -> None:
        with self._lock:
            known = self._recent.get(block.hash)
            if known is not None and receipts is None:
                receipts = known[1]
            self._recent[block.hash] = (block, receipts)
            self._recent.move_to_end(block.hash)
            while len(self._recent) > RECENT_BLOCKS:
                self._recent.popitem(last=False)

    def head(self) -> BlockAPI:
        with self._lock:
            header = self.head_header()
            if self._head_block is None or self._head_block.hash != header.hash:
                self._head_block = self._block(header.hash)
            return self._head_block

    def _block(self, block_hash: bytes) -> BlockAPI:
        """The block ``block_hash``, from the recent blocks or the database (HeaderNotFound)."""
        known = self._recent.get(block_hash)
        if known is not None:
            return known[0]
        block = self.chain.get_block_by_hash(block_hash)  # type: ignore[arg-type]
        if block.number + RECENT_BLOCKS > self.head_header().block_number:
            self._remember(block, None)
        return block

    def block_by_number(self, number: int) -> BlockAPI | None:
        with self._lock:
            try:
                block_hash = self.chain.chaindb.get_canonical_block_hash(BlockNumber(number))
                return self._block(block_hash)
            except (HeaderNotFound, EVMBlockNotFound):
                return None

    def block_by_hash(self, block_hash: bytes) -> BlockAPI | None:
        with self._lock:
            try:
                return self._block(block_hash)
            except (HeaderNotFound, EVMBlockNotFound):
                return None

    def resolve_tag(self, tag: str | int) -> int:
        """Block tag to number. Single sequencer: safe and finalized are the head."""
        head = self.head_header().block_number
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
            known = self._recent.get(block.hash)
            if known is not None and known[1] is not None:
                return list(known[1])
            receipts = list(block.get_receipts(self.chain.chaindb))
            if known is not None:
                self._recent[block.hash] = (known[0], receipts)
            return receipts

    def canonical_transaction(self, tx_hash: bytes) -> TxLookup | None:
        with self._lock:
            try:
                number, index = self.chain.get_canonical_transaction_index(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None
            block = self._block(self.chain.chaindb.get_canonical_block_hash(number))
            return TxLookup(block.transactions[index], number, Hash32(block.hash), index)

    # -- state --

    def header_at(self, block_number: int) -> BlockHeaderAPI:
        with self._lock:
            return self.chain.get_canonical_block_header_by_number(BlockNumber(block_number))

    def state_at(self, block_number: int) -> StateAPI:
        """The state after ``block_number``; the head's is the one cached per head (a new
        VM and state per ``eth_getTransactionCount`` was most of a receipt poller's cost).
        Readers share it: py-evm's reads only fill its caches (dict and LRU stores, each
        atomic under the GIL), and nothing writes to a persisted block's state."""
        with self._lock:
            if block_number == self.head_header().block_number:
                return self.head_state()
            return self.chain.get_vm(self.header_at(block_number)).state

    def head_state(self) -> StateAPI:
        """The head's state, cached per head: admission only reads it."""
        with self._lock:
            head = self.head_header()
            if self._head_state is None or self._head_state[0] != head.hash:
                self._head_state = (head.hash, self.chain.get_vm(head).state)
            return self._head_state[1]

    def pending_state(self, inputs: BlockInputs, pool_version: int, timestamp: int,
                      coinbase: Address) -> StateAPI:  # fmt: skip
        """The head state with ``inputs`` applied as the next block would (geth's "pending"),
        through the block execution path; cached per head and pool version."""
        with self._lock:
            head = self.head_header()
            key = (head.hash, pool_version)
            if self._pending is not None and self._pending[0] == key:
                return self._pending[1]
            env = block_environment(
                self._engine.spec, self.chain.get_vm(head).state, witness=inputs.witness()
            )
            block = open_block(
                self.chain, head, env, timestamp=max(timestamp, head.timestamp + 1),
                coinbase=coinbase, gas_limit=self._engine.spec.gas_limit,
                extra_data=GENESIS_EXTRA_DATA,
            )  # fmt: skip
            stopped: set[Address] = set()
            for ready in inputs.transactions:
                if ready.tx.sender in stopped:
                    continue
                try:
                    apply_transaction(block, ready.tx)
                except (ValidationError, TransactionDeferred):  # best effort: skip it
                    stopped.add(ready.tx.sender)
            self._pending = (key, block.vm.state)
            return block.vm.state

    # -- execution --

    def simulate_next(
        self, tx: SignedTransactionAPI, env: BlockEnvironment, *, timestamp: int, coinbase: Address
    ) -> ComputationAPI:
        """Execute the signed ``tx`` as the first transaction of the head's child block
        (its number, ``timestamp``, ``coinbase``, base fee and gas limit; the sender pays
        gas at the transaction's own price), on a throw-away state: what PIPE's detection
        runs, so a contract sees what it will see in the block. Its nonce is taken as the
        sender's current one (earlier pending nonces are not applied). Raises py-evm's
        ``ValidationError`` or a ``TransactionDeferred`` like block building."""
        head = self.head_header()
        block = open_block(
            self.chain, head, env, timestamp=max(timestamp, head.timestamp + 1),
            coinbase=coinbase, gas_limit=self._engine.spec.gas_limit,
            extra_data=GENESIS_EXTRA_DATA,
        )  # fmt: skip
        nonce = block.vm.state.get_nonce(Address(tx.sender))
        spoofed = cast(SignedTransactionAPI, SpoofTransaction(tx, nonce=nonce))
        return apply_transaction(block, spoofed)[1]

    def call_header(self, block_number: int | None) -> BlockHeaderAPI:
        return self.header_at(self.resolve_tag("latest" if block_number is None else block_number))

    def call(
        self, params: CallParams, header: BlockHeaderAPI, environment: BlockEnvironment
    ) -> bytes:
        return execution.call(self.chain, header, params, environment)

    def estimate_gas(
        self, params: CallParams, header: BlockHeaderAPI, environment: BlockEnvironment
    ) -> int:
        balance_of = self.chain.get_vm(header).state.get_balance
        return execution.estimate_gas(self.chain, header, params, environment, balance_of)  # type: ignore[arg-type]

    # -- fees --

    def next_base_fee(self) -> int:
        return fees.next_base_fee(self.head_header())

    def gas_price(self) -> int:
        with self._lock:
            return self.next_base_fee() + self.max_priority_fee()

    def max_priority_fee(self) -> int:
        with self._lock:
            head = self.head_header()
            # wallets ask before every transaction: compute once per head
            if self._tip is None or self._tip[0] != head.hash:
                recent = [
                    self.chain.get_canonical_block_by_number(BlockNumber(n))
                    for n in range(
                        head.block_number, max(head.block_number - fees.TIP_SAMPLE_BLOCKS, 0), -1
                    )
                ]
                self._tip = (head.hash, fees.suggest_tip(recent))
            return self._tip[1]

    def fee_history(
        self, block_count: int, newest: int, percentiles: Sequence[float]
    ) -> FeeHistory:
        with self._lock:
            newest = self.resolve_tag(newest)
            return fees.fee_history(
                newest,
                block_count,
                percentiles,
                lambda n: self.chain.get_canonical_block_by_number(BlockNumber(n)),
                self.receipts,
            )
