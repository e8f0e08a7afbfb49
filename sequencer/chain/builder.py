"""Block building: execute the ready transactions on one in-memory state, then seal.

``build_block`` runs the same steps as the state-transition function
(:mod:`.blocks`: open, apply, seal), so what it builds passes ``state_transition`` with
the witness it reports. Unlike ``MiningChain.mine_all`` a transaction that fails while
building is left out instead of failing the whole block:

- a ``TransactionDeferred`` (a model call whose receipt is missing from the inputs or
  fails verification) — reverted, reported in ``deferred``; its sender's later
  transactions are not tried in this block;
- a ``ValidationError`` (earlier transactions of this block drained its balance, ...) —
  reverted, reported in ``rejected`` with py-evm's reason;
- a transaction whose gas does not fit what is left of the block is skipped;
- once ``stop`` (the producer's time budget, optional) answers true, no further
  transaction is tried: the rest stays in the pool for the next block.

The builder consumes :class:`~.blocks.BlockInputs` and calls nobody back. The caller
persists the result inside one store transaction; nothing here touches a clock or the
network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth_typing import Address
from eth_utils import ValidationError

from ..errors import TransactionDeferred
from .blocks import BlockInputs, ExecutedBlock, apply_transaction, open_block, seal_block
from .environment import block_environment
from .genesis import GENESIS_EXTRA_DATA, NeuroChain
from .inference.outputs import witness_of
from .inference.witness import inference_root

TX_GAS = 21_000  # no transaction fits in less


@dataclass
class BuiltBlock:
    """A sealed block not yet persisted, with what happened to each input transaction."""

    executed: ExecutedBlock
    deferred: list[tuple[SignedTransactionAPI, TransactionDeferred]] = field(default_factory=list)
    rejected: list[tuple[SignedTransactionAPI, str]] = field(default_factory=list)


def build_block(
    chain: NeuroChain,
    parent: BlockHeaderAPI,
    inputs: BlockInputs,
    *,
    timestamp: int,
    coinbase: Address,
    stop: Callable[[int], bool] | None = None,
) -> BuiltBlock:
    """Build the child of ``parent`` from ``inputs`` (see the module docstring).

    ``stop`` is asked, with the number of transactions included so far, before each
    transaction is tried; true ends the block there (the caller's time budget: the
    builder itself reads no clock).

    The block's environment is the chain spec, the registry of ``parent`` and the
    receipts of ``inputs``; its ``extraData`` is the root of the receipts it used.
    """
    env = block_environment(chain.spec, chain.get_vm(parent).state, witness=inputs.witness())
    block = open_block(
        chain, parent, env, timestamp=timestamp, coinbase=coinbase,
        gas_limit=chain.spec.gas_limit, extra_data=GENESIS_EXTRA_DATA,
    )  # fmt: skip
    deferred: list[tuple[SignedTransactionAPI, TransactionDeferred]] = []
    rejected: list[tuple[SignedTransactionAPI, str]] = []
    stopped: set[Address] = set()  # senders with a transaction left out of this block
    for ready in inputs.transactions:
        tx = ready.tx
        left = block.header.gas_limit - block.header.gas_used
        if left < TX_GAS or (stop is not None and stop(len(block.transactions))):
            break
        if tx.sender in stopped:
            continue
        if tx.gas > left:
            stopped.add(tx.sender)
            continue
        try:
            apply_transaction(block, tx)
        except TransactionDeferred as exc:
            deferred.append((tx, exc))
            stopped.add(tx.sender)
        except ValidationError as exc:
            # Admission validated it against the head state; earlier transactions of this
            # block (or a balance drained by a contract) can still invalidate it.
            rejected.append((tx, str(exc)))
            stopped.add(tx.sender)
    executed = seal_block(block, extra_data=inference_root(witness_of(block.outputs)))
    return BuiltBlock(executed, deferred, rejected)
