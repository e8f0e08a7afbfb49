"""What PIPE reads from the node, declared here by PIPE (op-node style).

PIPE consumes a narrow view of the chain (the head, the state at a block, calls, the
chain clock) and of the pool it parks transactions in; the node's facade implements both.
PIPE never sees the engine or the builder: it produces ``BlockInputs`` when the driver
asks (``block_inputs``) and hears of committed blocks as a listener.
"""

from __future__ import annotations

from typing import Protocol

from eth.abc import BlockAPI, SignedTransactionAPI, StateAPI

from neurostack.protocol.types import Hash32

from ..chain import BlockEnvironment, ChainSpec, ExecutedBlock
from ..types import CallParams, TxLookup


class ChainView(Protocol):
    """The chain as PIPE reads it."""

    spec: ChainSpec

    def head(self) -> BlockAPI: ...

    def state_at(self, block_number: int) -> StateAPI: ...

    def call(
        self,
        tx: CallParams,
        block_number: int | None = None,
        *,
        environment: BlockEnvironment | None = None,
    ) -> bytes: ...

    def simulate_next(self, tx: SignedTransactionAPI, environment: BlockEnvironment) -> None:
        """Execute ``tx`` as the next block would (number, timestamp, coinbase, base fee, its
        own gas price and limit); raises ``TransactionDeferred`` subclasses (a pending model
        call) and py-evm's ``ValidationError``."""
        ...

    def chain_time(self) -> int: ...


class CommittedBlockView(Protocol):
    """A committed block as PIPE hears of it (``sequencer.engine.CommittedBlock``)."""

    @property
    def executed(self) -> ExecutedBlock: ...

    @property
    def deferred(self) -> tuple[Hash32, ...]:
        """Transactions the builder left out for a model call without a valid receipt."""
        ...


class PoolView(Protocol):
    """The mempool PIPE parks inference transactions in (and drops expired ones from)."""

    def transaction(self, tx_hash: bytes) -> TxLookup | None: ...

    def pending_transactions(self) -> list[SignedTransactionAPI]: ...

    def drop_transaction(self, tx_hash: bytes) -> bool: ...
