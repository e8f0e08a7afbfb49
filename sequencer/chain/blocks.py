"""The one execution path of a block, shared by the builder and the state-transition function.

A block is executed in three steps, whoever executes it (the sequencer building it, the
sequencer checking what it built, a follower validating what it received):

1. :func:`open_block` — the child header of the parent (its number, base fee, blob
   fields follow from the parent; timestamp, coinbase, gas limit and extraData are
   given), a VM holding the block's environment and a fresh inference
   accumulator, and py-evm's block pre-processing (EIP-4788, EIP-2935);
2. :func:`apply_transaction` for each transaction, all or nothing;
3. :func:`seal_block` — transactions and receipts tries, post-processing (EIP-7685
   requests), finalisation (state root), as py-evm's ``import_block`` does.

So the builder cannot diverge from the state transition: they differ only in what they do
when a transaction fails (the builder leaves it out, the state transition rejects the
block). The types here are what flows in and out: :class:`BlockInputs` (ready
transactions with their witness entries) and :class:`ExecutedBlock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError

from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import RequestId

from .environment import BlockEnvironment
from .fork import NeuroVM
from .genesis import NeuroChain
from .inference.calls import TransactionInferences
from .inference.outputs import InferenceOutputs, witness_of


@dataclass(frozen=True)
class ReadyTransaction:
    """A transaction the builder may include, with the receipts its model calls need."""

    tx: SignedTransactionAPI
    witness: tuple[InferenceReceipt, ...] = ()


@dataclass(frozen=True)
class BlockInputs:
    """What the block builder is given: transactions in the order to try them.

    A transaction whose sender already had one left out of this block is not tried
    (its nonce would be wrong); the builder never asks anyone for more.
    """

    transactions: tuple[ReadyTransaction, ...] = ()

    def witness(self) -> Mapping[RequestId, InferenceReceipt]:
        """The receipts of all transactions, by request id (what the block may use)."""
        table = {
            RequestId(bytes(r.request_id)): r for ready in self.transactions for r in ready.witness
        }
        return MappingProxyType(table)


@dataclass(frozen=True)
class ExecutedBlock:
    """A block with what executing it produced: receipts and inference records."""

    block: BlockAPI
    receipts: tuple[ReceiptAPI, ...]
    witness: tuple[InferenceReceipt, ...]
    """The receipts its transactions used, in order of first use (``extraData`` commits)."""
    inferences: tuple[TransactionInferences, ...]
    """Per included transaction with model calls: the calls and who was paid."""


@dataclass
class OpenBlock:
    """A block being executed: its VM (with environment and accumulator) and header so far."""

    vm: NeuroVM
    header: BlockHeaderAPI
    outputs: InferenceOutputs
    transactions: list[SignedTransactionAPI]
    receipts: list[ReceiptAPI]


def open_block(
    chain: NeuroChain,
    parent: BlockHeaderAPI,
    env: BlockEnvironment,
    *,
    timestamp: int,
    coinbase: Address,
    gas_limit: int,
    extra_data: bytes,
) -> OpenBlock:
    """Start executing the child of ``parent`` (step 1 of the module docstring)."""
    vm_class = chain.get_vm_class_for_block_number(BlockNumber(parent.block_number + 1))
    # Every other field follows from the parent or stays at its default (prevRandao and the
    # beacon root are zero on this chain), so the builder and the STF derive the same ones.
    header = vm_class.create_header_from_parent(
        parent, timestamp=timestamp, coinbase=coinbase, gas_limit=gas_limit, extra_data=extra_data
    )
    vm = cast(NeuroVM, chain.get_vm(header))
    outputs = InferenceOutputs()
    vm.environment, vm.outputs = env, outputs
    vm.block_preprocessing(vm.get_block())
    return OpenBlock(vm, vm.get_header(), outputs, [], [])


def apply_transaction(
    block: OpenBlock, tx: SignedTransactionAPI
) -> tuple[ReceiptAPI, ComputationAPI]:
    """Apply ``tx`` to the open block, all or nothing (step 2).

    Raises py-evm's ``ValidationError`` (the transaction cannot be applied) or a
    ``TransactionDeferred`` (a model call without a valid receipt); the state is then as
    before. py-evm's own ``apply_transaction`` locks changes after it could have taken a
    snapshot, which drops the checkpoints a revert needs; so lock first, then snapshot.
    """
    vm, header = block.vm, block.header
    # EIP-155 replay protection is consensus (geth's signer check): a transaction signed for
    # another chain is invalid in a block, not only refused by the pool. Unprotected legacy
    # transactions (no chain id) are valid in blocks, as in Ethereum.
    if tx.chain_id is not None and tx.chain_id != vm.chain_context.chain_id:
        raise ValidationError(
            f"invalid chain id for signer: have {tx.chain_id} want {vm.chain_context.chain_id}"
        )
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
    header = vm.add_receipt_to_header(header, receipt)
    if get_total_blob_gas(tx):  # a header copy costs ~10% of a transfer: only when it changes
        header = vm.increment_blob_gas_used(header, tx)
    block.header = header
    block.transactions.append(tx)
    block.receipts.append(receipt)
    return receipt, computation


def seal_block(block: OpenBlock, extra_data: bytes) -> ExecutedBlock:
    """Finish the open block: tries, post-processing, state root (step 3)."""
    vm = block.vm
    filled = vm.set_block_transactions_and_withdrawals(
        vm.get_block(), block.header, block.transactions, block.receipts
    )
    vm.sealing_receipts = block.receipts  # the deposit scan reads them, not the database
    try:
        sealed = vm.mine_block(vm.block_postprocessing(filled), extra_data=extra_data).block
    finally:
        vm.sealing_receipts = None
    return ExecutedBlock(
        block=sealed,
        receipts=tuple(block.receipts),
        witness=witness_of(block.outputs),
        inferences=tuple(block.outputs.transactions),
    )
