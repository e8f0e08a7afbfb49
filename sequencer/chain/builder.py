"""Block building: apply a block's transactions on one in-memory state, then seal the block.

``build_block`` follows the order of py-evm's own ``import_block`` (pre-processing,
transactions, post-processing, finalisation), so a follower that re-imports the block
with ``vm.import_block`` computes the same state root. Unlike ``MiningChain.mine_all`` a
transaction that turns out invalid while building (or that a hook defers with
``TransactionDeferred``) is reverted and left out instead of failing the whole block.

The caller persists the result with ``chain.persist_block`` inside one store transaction
(see ``sequencer.store``); nothing here touches a clock or the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ChainAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
)
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError

from ..errors import TransactionDeferred
from .fork import NeuroVM
from .genesis import GENESIS_EXTRA_DATA

TX_GAS = 21_000  # no transaction fits in less


class TransactionSource(Protocol):
    """Yields candidate transactions in the order to try them, learns what was included."""

    def __iter__(self) -> Iterator[SignedTransactionAPI]: ...

    def done(self, tx: SignedTransactionAPI, included: bool) -> None: ...


class ListSource:
    """A fixed list of transactions, tried in order (benchmarks, tests, block replays)."""

    def __init__(self, transactions: Iterable[SignedTransactionAPI]) -> None:
        self._transactions = list(transactions)

    def __iter__(self) -> Iterator[SignedTransactionAPI]:
        return iter(self._transactions)

    def done(self, tx: SignedTransactionAPI, included: bool) -> None:
        pass


@dataclass
class BuiltBlock:
    """A sealed block not yet persisted, with what happened to each candidate transaction."""

    block: BlockAPI
    receipts: list[ReceiptAPI]
    computations: list[ComputationAPI]
    deferred: list[SignedTransactionAPI] = field(default_factory=list)
    rejected: list[tuple[SignedTransactionAPI, str]] = field(default_factory=list)


ExtraData = bytes | Callable[[Any], bytes]


def _apply_transaction(
    vm: Any, header: BlockHeaderAPI, tx: SignedTransactionAPI
) -> tuple[ReceiptAPI, ComputationAPI]:
    """``vm.apply_transaction``, but all-or-nothing: on an exception the state is as before.

    py-evm's own version calls ``state.lock_changes()`` after it could be snapshotted,
    which drops the journal checkpoints a revert needs; so lock first, then snapshot.
    """
    vm.validate_transaction_against_header(header, tx)
    vm.state.lock_changes()
    snapshot = vm.state.snapshot()
    try:
        computation = vm.state.apply_transaction(tx)
        receipt = vm.make_receipt(header, tx, computation, vm.state)
        vm.validate_receipt(receipt)
    except BaseException:
        vm.state.revert(snapshot)
        raise
    return receipt, computation


def build_block(
    chain: ChainAPI,
    parent: BlockHeaderAPI,
    source: TransactionSource,
    *,
    timestamp: int,
    coinbase: Address,
    gas_limit: int,
    environment: Any = None,
    extra_data: ExtraData = GENESIS_EXTRA_DATA,
) -> BuiltBlock:
    """Build the child of ``parent`` from the transactions ``source`` yields.

    ``environment`` is handed to the VM (precompiles read ``computation.state.environment``).
    ``extra_data`` is the header's ``extraData`` or a function of the environment computing
    it after the transactions ran (the inference root of the receipts they used).
    """
    vm_class = chain.get_vm_class_for_block_number(BlockNumber(parent.block_number + 1))
    header = vm_class.create_header_from_parent(
        parent,
        timestamp=timestamp,
        coinbase=coinbase,
        gas_limit=gas_limit,
        extra_data=GENESIS_EXTRA_DATA,
    )
    vm = cast(NeuroVM, chain.get_vm(header))
    vm.environment = environment
    vm.block_preprocessing(vm.get_block())

    built = BuiltBlock(block=vm.get_block(), receipts=[], computations=[])
    included: list[SignedTransactionAPI] = []
    header = vm.get_header()
    for tx in source:
        if header.gas_limit - header.gas_used < TX_GAS:
            break
        if tx.gas > header.gas_limit - header.gas_used:
            source.done(tx, False)
            continue
        try:
            receipt, computation = _apply_transaction(vm, header, tx)
        except TransactionDeferred:
            built.deferred.append(tx)
            source.done(tx, False)
            continue
        except ValidationError as exc:
            # The mempool validated it against the head state; earlier transactions of
            # this block (or a balance drained by a contract) can still invalidate it.
            built.rejected.append((tx, str(exc)))
            source.done(tx, False)
            continue
        header = vm.add_receipt_to_header(header, receipt)
        header = vm.increment_blob_gas_used(header, tx)
        included.append(tx)
        built.receipts.append(receipt)
        built.computations.append(computation)
        source.done(tx, True)

    block = vm.set_block_transactions_and_withdrawals(
        vm.get_block(), header, included, built.receipts
    )
    block = vm.block_postprocessing(block)
    extra = extra_data(environment) if callable(extra_data) else extra_data
    built.block = vm.mine_block(block, extra_data=extra).block
    return built
