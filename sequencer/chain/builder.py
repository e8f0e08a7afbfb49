"""Block building: execute ready transactions on one in-memory state, then seal.

A :class:`BlockBuilder` opens the child of a parent block and takes transactions in
rounds (:meth:`BlockBuilder.add`), as the sequencer's producer hands them over while
they arrive; :meth:`BlockBuilder.seal` then finishes the block. :func:`build_block` is
the same in one round (``evm_mine``, tests). The builder runs the same steps as the
state-transition function (:mod:`.blocks`: open, apply, seal), so what it builds passes
``state_transition`` with the witness it reports. Unlike ``MiningChain.mine_all`` a
transaction that fails while building is left out instead of failing the whole block:

- a ``TransactionDeferred`` (a model call whose receipt is missing from the inputs or
  fails verification) — reverted, reported in ``deferred``; its sender's later
  transactions are not tried in this block;
- a ``ValidationError`` (earlier transactions of this block drained its balance, ...) —
  reverted, reported in ``rejected`` with py-evm's reason;
- a transaction whose gas does not fit what is left of the block is skipped;
- once ``stop`` (the producer's time budget, optional) answers true, no further
  transaction of that round is tried: the rest stays in the pool.

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

from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import RequestId

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


class BlockBuilder:
    """The child of ``parent``, open for transactions until :meth:`seal`.

    The block's environment is the chain spec, the registry of ``parent`` and the
    receipts of every round's inputs; its ``extraData`` is the root of the receipts it
    used.
    """

    def __init__(
        self, chain: NeuroChain, parent: BlockHeaderAPI, *, timestamp: int, coinbase: Address
    ) -> None:
        self.parent = parent
        self._witness: dict[RequestId, InferenceReceipt] = {}  # grows with each round
        env = block_environment(chain.spec, chain.get_vm(parent).state, witness=self._witness)
        self._block = open_block(
            chain, parent, env, timestamp=timestamp, coinbase=coinbase,
            gas_limit=chain.spec.gas_limit, extra_data=GENESIS_EXTRA_DATA,
        )  # fmt: skip
        self.deferred: list[tuple[SignedTransactionAPI, TransactionDeferred]] = []
        self.rejected: list[tuple[SignedTransactionAPI, str]] = []
        self._stopped: set[Address] = set()  # senders with a transaction left out
        self._sealed = False

    @property
    def header(self) -> BlockHeaderAPI:
        """The header so far (number, timestamp, base fee, gas used)."""
        return self._block.header

    @property
    def transactions(self) -> int:
        return len(self._block.transactions)

    @property
    def full(self) -> bool:
        """No transaction fits in the gas left."""
        return self.header.gas_limit - self.header.gas_used < TX_GAS

    def nonce(self, address: Address) -> int:
        """``address``'s nonce after the transactions so far: where its next one starts."""
        return self._block.vm.state.get_nonce(address)

    def add(self, inputs: BlockInputs, stop: Callable[[int], bool] | None = None) -> bool:
        """Try ``inputs`` in order after the transactions so far; true when ``stop`` ended
        the round (asked, with the number of transactions included so far, before each
        transaction is tried)."""
        if self._sealed:
            raise RuntimeError("the block is sealed")
        block = self._block
        self._witness.update(inputs.witness())
        for ready in inputs.transactions:
            tx = ready.tx
            left = block.header.gas_limit - block.header.gas_used
            if left < TX_GAS:
                break
            if stop is not None and stop(len(block.transactions)):
                return True
            if tx.sender in self._stopped:
                continue
            if tx.gas > left:
                self._stopped.add(tx.sender)
                continue
            try:
                apply_transaction(block, tx)
            except TransactionDeferred as exc:
                self.deferred.append((tx, exc))
                self._stopped.add(tx.sender)
            except ValidationError as exc:
                # Admission validated it against the head state; earlier transactions of
                # this block (or a balance drained by a contract) can still invalidate it.
                self.rejected.append((tx, str(exc)))
                self._stopped.add(tx.sender)
        return False

    def seal(self) -> BuiltBlock:
        """Finish the block: tries, post-processing, state root."""
        self._sealed = True
        block = self._block
        executed = seal_block(block, extra_data=inference_root(witness_of(block.outputs)))
        return BuiltBlock(executed, self.deferred, self.rejected)


def build_block(
    chain: NeuroChain,
    parent: BlockHeaderAPI,
    inputs: BlockInputs,
    *,
    timestamp: int,
    coinbase: Address,
    stop: Callable[[int], bool] | None = None,
) -> BuiltBlock:
    """Build the child of ``parent`` from ``inputs`` in one round (see the module
    docstring); ``stop`` as in :meth:`BlockBuilder.add`."""
    builder = BlockBuilder(chain, parent, timestamp=timestamp, coinbase=coinbase)
    builder.add(inputs, stop)
    return builder.seal()
