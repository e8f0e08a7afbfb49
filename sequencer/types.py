"""Plain data crossing the node's facade: call parameters, transaction lookups, fee history.

Dataclasses without behaviour (CONVENTIONS.md); the RPC layer converts JSON to and from
them, the node and the chain package consume them.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from eth.abc import SignedTransactionAPI

from neurostack.protocol.types import Address, Hash32


@dataclass(frozen=True)
class CallParams:
    """An ``eth_call`` / ``eth_estimateGas`` transaction object; ``None`` means "not given".

    Like geth: a missing ``sender`` is the zero address, a missing ``gas`` is the block gas
    limit, missing fee fields mean a gas price of 0 (no balance needed for gas), a missing
    ``nonce`` is the sender's current nonce.
    """

    sender: Address | None = None
    to: Address | None = None
    gas: int | None = None
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    value: int = 0
    data: bytes = b""
    nonce: int | None = None
    access_list: tuple[tuple[Address, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class TxLookup:
    """Where a transaction is: a pending one has ``block_number``/``block_hash``/``index`` None."""

    tx: SignedTransactionAPI
    block_number: int | None = None
    block_hash: Hash32 | None = None
    index: int | None = None

    @property
    def pending(self) -> bool:
        return self.block_number is None


@dataclass(frozen=True)
class FeeHistory:
    """The answer of ``eth_feeHistory`` (geth's field set, Cancun and later).

    ``base_fee_per_gas`` and ``base_fee_per_blob_gas`` have one entry more than there are
    blocks: the last one is the next block's. ``reward`` is ``None`` when no percentiles
    were asked for.
    """

    oldest_block: int
    base_fee_per_gas: list[int]
    gas_used_ratio: list[float]
    base_fee_per_blob_gas: list[int] = field(default_factory=list)
    blob_gas_used_ratio: list[float] = field(default_factory=list)
    reward: list[list[int]] | None = None


RPC_CALLER: ContextVar[str | None] = ContextVar("neurostack_rpc_caller", default=None)
"""Who is calling the node: the RPC sets the client's IP address (HTTP or WebSocket) for the
request it is serving, so per-caller limits (PIPE's inference calls) can tell callers
apart; ``None`` for in-process calls."""
