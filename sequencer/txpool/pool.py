"""The mempool: validation against the head, ordering, replacement, nonce gaps.

Rules (geth's, with the decisions docs/chain.md records):

- A transaction is validated against the head state when it arrives; rejections raise
  ``TransactionRejected`` with geth's text (``nonce too low``, ``already known``, ...).
- A fee cap below the next block's base fee is rejected as ``transaction underpriced``
  (geth would queue it; on a rollup whose base fee rarely rises, failing fast is kinder).
- Per sender, transactions execute in nonce order; a transaction after a nonce gap is
  held ("queued") until the gap fills. Across senders, the highest effective tip
  (``min(tip, feeCap - baseFee)``) goes first, ties by arrival.
- The same sender and nonce replaces a pooled transaction only if both the fee cap and the
  tip rise by at least 10 % (``replacement transaction underpriced`` otherwise).
- Block order (:meth:`Mempool.block_order`): executable transactions, best effective tip
  first across senders, nonce order within a sender, ties by arrival. The order is fixed
  before the block is built; the builder skips a sender's later transactions once one of
  its transactions is left out, so the pool needs no feedback from the builder.
- Each accepted transaction is journaled (:mod:`.journal`) before its hash is returned.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eth.abc import SignedTransactionAPI
from eth_typing import Address, Hash32

from ..errors import TransactionRejected
from .journal import Journal

PRICE_BUMP_PERCENT = 10  # geth's txpool.pricebump
MAX_PER_SENDER = 1024
MAX_POOL_SIZE = 16384


class AccountReader(Protocol):
    """The head state as the pool needs it."""

    def get_nonce(self, address: Address) -> int: ...

    def get_balance(self, address: Address) -> int: ...


@dataclass(frozen=True)
class PooledTx:
    """A validated transaction with the values the pool orders and prices it by."""

    tx: SignedTransactionAPI
    raw: bytes
    sender: Address
    seq: int  # arrival order, the tie-breaker

    @property
    def hash(self) -> Hash32:
        return self.tx.hash

    @property
    def nonce(self) -> int:
        return self.tx.nonce

    # the most the transaction can spend: summed over a sender's queue on every admission,
    # so computed once here rather than through py-evm's field accessors each time
    cost: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", self.tx.gas * self.tx.max_fee_per_gas + self.tx.value)

    def tip_at(self, base_fee: int) -> int:
        return min(self.tx.max_priority_fee_per_gas, self.tx.max_fee_per_gas - base_fee)


class Mempool:
    """Pooled transactions by hash and by (sender, nonce). Not thread-safe: the node locks."""

    def __init__(self, journal: Journal | None, *, max_per_sender: int = MAX_PER_SENDER) -> None:
        self.journal = journal
        self.max_per_sender = max_per_sender
        self._by_hash: dict[bytes, PooledTx] = {}
        self._by_sender: dict[Address, dict[int, PooledTx]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> PooledTx | None:
        return self._by_hash.get(tx_hash)

    def all(self) -> list[PooledTx]:
        return sorted(self._by_hash.values(), key=lambda p: p.seq)

    # -- admission --

    def add(
        self,
        tx: SignedTransactionAPI,
        raw: bytes,
        sender: Address,
        state: AccountReader,
        base_fee: int,
        *,
        journal: bool = True,
    ) -> PooledTx:
        """Validate against the pool and ``state``, journal, insert. Raises ``TransactionRejected``.

        The stateless checks (encoding, signature, chain id, intrinsic gas) are the
        caller's, done before the node takes its lock.
        """
        if tx.hash in self._by_hash:
            raise TransactionRejected("already known")
        if tx.max_fee_per_gas < base_fee:
            raise TransactionRejected(
                "transaction underpriced",
                f"max fee per gas {tx.max_fee_per_gas} below the next block's base fee "
                f"{base_fee}; raise maxFeePerGas (eth_gasPrice suggests a price)",
            )
        state_nonce = state.get_nonce(sender)
        if tx.nonce < state_nonce:
            raise TransactionRejected(
                "nonce too low", f"next nonce {state_nonce}, tx nonce {tx.nonce}"
            )
        own = self._by_sender.get(sender, {})
        old = own.get(tx.nonce)
        if old is not None and not _bumps(old.tx, tx):
            raise TransactionRejected(
                "replacement transaction underpriced",
                f"a replacement must raise both maxFeePerGas and maxPriorityFeePerGas "
                f"by at least {PRICE_BUMP_PERCENT}%",
            )
        if old is None and len(own) >= self.max_per_sender:
            raise TransactionRejected("account limit exceeded", f"{len(own)} pooled transactions")
        if old is None and len(self._by_hash) >= MAX_POOL_SIZE:
            raise TransactionRejected("txpool is full")
        balance = state.get_balance(sender)
        # geth: the balance must cover this transaction and the sender's earlier pooled ones
        queued = sum(p.cost for n, p in own.items() if state_nonce <= n < tx.nonce)
        cost = tx.gas * tx.max_fee_per_gas + tx.value
        if balance < queued + cost:
            raise TransactionRejected(
                "insufficient funds for gas * price + value",
                f"balance {balance}, queued cost {queued}, tx cost {cost}, "
                f"overshot {queued + cost - balance}",
            )
        if journal and self.journal is not None:
            self.journal.append(raw)
        pooled = PooledTx(tx=tx, raw=raw, sender=sender, seq=next(self._seq))
        if old is not None:
            del self._by_hash[old.hash]
        self._by_sender.setdefault(sender, {})[tx.nonce] = pooled
        self._by_hash[pooled.hash] = pooled
        return pooled

    # -- reads --

    def executable(self, state_nonce: Callable[[Address], int]) -> list[PooledTx]:
        """Transactions whose nonces follow on from the state without a gap."""
        out = []
        for sender, own in self._by_sender.items():
            nonce = state_nonce(sender)
            while nonce in own:
                out.append(own[nonce])
                nonce += 1
        return out

    def pending_nonce(self, sender: Address, state_nonce: int) -> int:
        own = self._by_sender.get(sender, {})
        nonce = state_nonce
        while nonce in own:
            nonce += 1
        return nonce

    def block_order(self, state_nonce: Callable[[Address], int], base_fee: int) -> list[PooledTx]:
        """Executable transactions payable at ``base_fee``, in the order a block tries them:
        best effective tip first across senders, nonce order per sender, ties by arrival.

        A sender's run ends at its first transaction whose fee cap is below ``base_fee``.
        The list is a snapshot: the pool may take new transactions meanwhile.
        """
        heap: list[tuple[int, int, PooledTx]] = []

        def push(pooled: PooledTx | None) -> None:
            if pooled is not None and pooled.tx.max_fee_per_gas >= base_fee:
                heapq.heappush(heap, (-pooled.tip_at(base_fee), pooled.seq, pooled))

        for sender, own in self._by_sender.items():
            push(own.get(state_nonce(sender)))
        order = []
        while heap:
            _, _, pooled = heapq.heappop(heap)
            order.append(pooled)
            push(self._by_sender[pooled.sender].get(pooled.nonce + 1))
        return order

    # -- removal --

    def remove_mined(
        self, state_nonce: Callable[[Address], int], senders: Iterable[Address]
    ) -> None:
        """Drop every transaction of ``senders`` whose nonce the state has passed."""
        for sender in set(senders):
            own = self._by_sender.get(sender)
            if not own:
                continue
            nonce = state_nonce(sender)
            for n in [n for n in own if n < nonce]:
                del self._by_hash[own.pop(n).hash]
            if not own:
                del self._by_sender[sender]

    def remove(self, tx_hash: bytes) -> None:
        pooled = self._by_hash.pop(tx_hash, None)
        if pooled is not None:
            own = self._by_sender[pooled.sender]
            del own[pooled.nonce]
            if not own:
                del self._by_sender[pooled.sender]

    def compact_journal(self) -> None:
        """Rewrite the journal with exactly the pooled transactions, in arrival order."""
        if self.journal is not None:
            self.journal.rewrite(p.raw for p in self.all())

    def clear(self) -> None:
        self._by_hash.clear()
        self._by_sender.clear()


def _bumps(old: SignedTransactionAPI, new: SignedTransactionAPI) -> bool:
    """geth's replacement rule: fee cap and tip both at least PRICE_BUMP_PERCENT higher."""

    def bumped(old_value: int, new_value: int) -> bool:
        return new_value * 100 >= old_value * (100 + PRICE_BUMP_PERCENT) and new_value > old_value

    return bumped(old.max_fee_per_gas, new.max_fee_per_gas) and bumped(
        old.max_priority_fee_per_gas, new.max_priority_fee_per_gas
    )
