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
- Limits (:class:`PoolLimits`, geth's legacypool): executable transactions (the gap-free
  run from the account nonce) are not limited per sender, so a burst of thousands of
  in-order transactions from one account is accepted; a sender may hold
  ``account_queue`` transactions behind a nonce gap (``account limit exceeded``); the
  whole pool holds ``global_slots + global_queue`` (``txpool is full``). Both checks are
  O(1) for a transaction appended at the end of its sender's run (a burst), as is the
  balance check (a running total of each sender's pooled cost).
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


@dataclass(frozen=True)
class PoolLimits:
    """geth's legacypool limits (``[txpool]`` in chain.toml). ``global_slots`` is larger
    than geth's 5120: a devnet takes bursts from scripts, as anvil (which has no limit)."""

    global_slots: int = 15_360
    """Executable transactions of all senders (with ``global_queue``: the pool's size)."""
    global_queue: int = 1_024
    """Transactions behind a nonce gap, all senders (geth's default)."""
    account_queue: int = 64
    """Transactions one sender may have behind a nonce gap (geth's default)."""

    @property
    def capacity(self) -> int:
        return self.global_slots + self.global_queue


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

    def __init__(self, journal: Journal | None, *, limits: PoolLimits = PoolLimits()) -> None:
        self.journal = journal
        self.limits = limits
        self._by_hash: dict[bytes, PooledTx] = {}
        self._by_sender: dict[Address, dict[int, PooledTx]] = {}
        # per sender: the sum of its pooled transactions' costs and its highest nonce; every
        # pooled nonce is at least the account nonce (mined ones leave under the chain lock)
        self._spend: dict[Address, int] = {}
        self._top: dict[Address, int] = {}
        # per sender: (account nonce, end of the gap-free run) as last computed; any
        # removal of a sender's transaction forgets it
        self._runs: dict[Address, tuple[int, int]] = {}
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
        if old is None:
            if len(self._by_hash) >= self.limits.capacity:
                raise TransactionRejected(
                    "txpool is full", f"{len(self._by_hash)} pooled transactions"
                )
            run_end = self._run_end(sender, own, state_nonce)
            if tx.nonce > run_end:  # behind a gap: geth's per-account queue limit
                waiting = len(own) - (run_end - state_nonce)
                if waiting >= self.limits.account_queue:
                    raise TransactionRejected(
                        "account limit exceeded",
                        f"{waiting} transactions of this sender wait behind a nonce gap "
                        f"(next executable nonce {run_end}); send the missing nonces first",
                    )
        balance = state.get_balance(sender)
        # geth: the balance must cover this transaction and the sender's earlier pooled ones
        if own and tx.nonce > self._top[sender]:  # appended after all of them (a burst)
            queued = self._spend[sender]
        else:
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
        spend = self._spend.get(sender, 0) + pooled.cost
        if old is not None:
            del self._by_hash[old.hash]
            spend -= old.cost
        self._by_sender.setdefault(sender, {})[tx.nonce] = pooled
        self._by_hash[pooled.hash] = pooled
        self._spend[sender] = spend
        self._top[sender] = max(self._top.get(sender, tx.nonce), tx.nonce)
        return pooled

    def _run_end(self, sender: Address, own: dict[int, PooledTx], state_nonce: int) -> int:
        """The first nonce after the sender's gap-free run from ``state_nonce``."""
        cached = self._runs.get(sender)
        nonce = state_nonce
        if cached is not None and cached[0] <= state_nonce <= cached[1]:
            nonce = cached[1]  # nothing of the run was removed since (removals forget it)
        while nonce in own:
            nonce += 1
        self._runs[sender] = (state_nonce, nonce)
        return nonce

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
                pooled = own.pop(n)
                del self._by_hash[pooled.hash]
                self._spend[sender] -= pooled.cost
            if not own:
                self._forget(sender)

    def remove(self, tx_hash: bytes) -> None:
        pooled = self._by_hash.pop(tx_hash, None)
        if pooled is not None:
            sender = pooled.sender
            own = self._by_sender[sender]
            del own[pooled.nonce]
            self._spend[sender] -= pooled.cost
            self._runs.pop(sender, None)
            if not own:
                self._forget(sender)
            elif pooled.nonce == self._top[sender]:
                self._top[sender] = max(own)

    def _forget(self, sender: Address) -> None:
        del self._by_sender[sender]
        del self._spend[sender], self._top[sender]
        self._runs.pop(sender, None)

    def compact_journal(self) -> None:
        """Rewrite the journal with exactly the pooled transactions, in arrival order."""
        if self.journal is not None:
            self.journal.rewrite(p.raw for p in self.all())

    def clear(self) -> None:
        self._by_hash.clear()
        self._by_sender.clear()
        self._spend.clear()
        self._top.clear()
        self._runs.clear()


def _bumps(old: SignedTransactionAPI, new: SignedTransactionAPI) -> bool:
    """geth's replacement rule: fee cap and tip both at least PRICE_BUMP_PERCENT higher."""

    def bumped(old_value: int, new_value: int) -> bool:
        return new_value * 100 >= old_value * (100 + PRICE_BUMP_PERCENT) and new_value > old_value

    return bumped(old.max_fee_per_gas, new.max_fee_per_gas) and bumped(
        old.max_priority_fee_per_gas, new.max_priority_fee_per_gas
    )
