"""The mempool: validation, ordering, replacement, nonce gaps, and the crash-safe journal.

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
- Journal: an accepted transaction is appended to ``<data_dir>/mempool.journal`` and
  fsync'ed (group commit: one fsync serves every submitter waiting) before its hash is
  returned. After each persisted block the journal is
  rewritten (atomically: temp file, fsync, rename) with what is still pooled. On start
  the journal is replayed; transactions mined or invalid by now are dropped.
"""

from __future__ import annotations

import heapq
import itertools
import os
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import rlp
from eth.abc import SignedTransactionAPI
from eth.exceptions import UnrecognizedTransactionType
from eth_keys.exceptions import BadSignature
from eth_typing import Address, Hash32
from eth_utils import ValidationError

from .errors import TransactionRejected

JOURNAL_FILE = "mempool.journal"
MAX_TX_SIZE = 128 * 1024  # geth's txMaxSize
PRICE_BUMP_PERCENT = 10  # geth's txpool.pricebump
MAX_PER_SENDER = 1024
MAX_POOL_SIZE = 16384
_LENGTH = struct.Struct(">I")


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


class Journal:
    """Append-only file of length-prefixed raw transactions, with group commit.

    ``append`` writes a record and returns its ticket; ``sync(ticket)`` returns once that
    record is fsync'ed. One fsync covers every record written before it, so concurrent
    submitters share fsyncs, and the node does not hold its lock while the disk works.
    """

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._sync_lock = threading.Lock()
        self.written = 0  # records appended so far (tickets)
        self._synced = 0  # every ticket up to this one is on disk

    def read(self) -> list[bytes]:
        """Every complete record; a record torn by a crash mid-append is ignored."""
        data = self.path.read_bytes() if self.path.exists() else b""
        records, offset = [], 0
        while offset + _LENGTH.size <= len(data):
            (length,) = _LENGTH.unpack_from(data, offset)
            end = offset + _LENGTH.size + length
            if end > len(data):
                break
            records.append(data[offset + _LENGTH.size : end])
            offset = end
        return records

    def append(self, raw: bytes) -> int:
        """Write one record (in the OS, not yet on disk); its ticket for :meth:`sync`."""
        os.write(self._fd, _LENGTH.pack(len(raw)) + raw)
        self.written += 1
        return self.written

    def sync(self, ticket: int) -> None:
        """Return once record ``ticket`` (and every earlier one) is fsync'ed."""
        if not self.fsync:
            return
        with self._sync_lock:
            if self._synced >= ticket:
                return  # another submitter's fsync covered it
            target = self.written  # what has been written before this fsync starts
            os.fsync(self._fd)
            self._synced = max(self._synced, target)

    def rewrite(self, raws: Iterable[bytes]) -> None:
        """Replace the journal's content atomically (temp file, fsync, rename, fsync dir)."""
        with self._sync_lock:
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(b"".join(_LENGTH.pack(len(r)) + r for r in raws))
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            os.replace(tmp, self.path)
            if self.fsync:
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            # the caller passes every pooled transaction: all written records are durable
            self._synced = self.written

    def close(self) -> None:
        with self._sync_lock:
            os.close(self._fd)


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

    def ready_queue(
        self,
        state_nonce: Callable[[Address], int],
        base_fee: int,
        is_ready: Callable[[SignedTransactionAPI], bool] = lambda tx: True,
    ) -> ReadyQueue:
        return ReadyQueue(self._by_sender, state_nonce, base_fee, is_ready)

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


class ReadyQueue:
    """Yields executable transactions, best effective tip first, nonce order per sender.

    The block builder reports each outcome with :meth:`done`: an included transaction
    makes the sender's next nonce a candidate; a skipped one (too much gas, deferred,
    invalid) ends that sender's run for this block.
    """

    def __init__(
        self,
        by_sender: dict[Address, dict[int, PooledTx]],
        state_nonce: Callable[[Address], int],
        base_fee: int,
        is_ready: Callable[[SignedTransactionAPI], bool],
    ) -> None:
        # a copy: the pool may take new transactions while the block is being built
        self._by_sender = {sender: dict(own) for sender, own in by_sender.items()}
        self._base_fee = base_fee
        self._is_ready = is_ready
        self._heap: list[tuple[int, int, PooledTx]] = []
        self._current: dict[bytes, PooledTx] = {}
        for sender, own in self._by_sender.items():
            self._push(own.get(state_nonce(sender)))

    def _push(self, pooled: PooledTx | None) -> None:
        if pooled is None or pooled.tx.max_fee_per_gas < self._base_fee:
            return  # nothing, or not payable in this block: the sender waits
        if not self._is_ready(pooled.tx):
            return  # parked by a hook (PIPE); later nonces wait behind it
        heapq.heappush(self._heap, (-pooled.tip_at(self._base_fee), pooled.seq, pooled))

    def __iter__(self) -> Iterator[SignedTransactionAPI]:
        while self._heap:
            _, _, pooled = heapq.heappop(self._heap)
            self._current[pooled.hash] = pooled
            yield pooled.tx

    def done(self, tx: SignedTransactionAPI, included: bool) -> None:
        pooled = self._current.pop(tx.hash, None)
        if pooled is not None and included:
            self._push(self._by_sender.get(pooled.sender, {}).get(pooled.nonce + 1))


SUPPORTED_TX_TYPES = (0, 1, 2)  # legacy (EIP-155), access list (EIP-2930), dynamic fee (EIP-1559)


def decode_transaction(
    raw: bytes, decode: Callable[[bytes], SignedTransactionAPI], chain_id: int, gas_limit: int
) -> tuple[SignedTransactionAPI, Address]:
    """The stateless checks of ``eth_sendRawTransaction``: size, encoding, type, chain id,
    fee fields, gas limit, signature, intrinsic gas. Returns the transaction and its sender.
    """
    if len(raw) > MAX_TX_SIZE:
        raise TransactionRejected(
            "oversized data", f"transaction size {len(raw)}, limit {MAX_TX_SIZE}"
        )
    if not raw:
        raise TransactionRejected("typed transaction too short")
    if raw[0] <= 0x7F and raw[0] not in SUPPORTED_TX_TYPES:
        raise TransactionRejected("transaction type not supported", f"type {raw[0]}")
    try:
        tx = decode(raw)
    except (
        rlp.exceptions.RLPException,
        ValidationError,
        UnrecognizedTransactionType,
        ValueError,
    ) as exc:
        raise TransactionRejected("rlp", f"cannot decode transaction ({exc})") from None
    tx_chain_id = tx.chain_id
    if tx_chain_id is None:
        raise TransactionRejected("only replay-protected (EIP-155) transactions allowed over RPC")
    if tx_chain_id != chain_id:
        raise TransactionRejected(
            "invalid sender", f"invalid chain id for signer: have {tx_chain_id} want {chain_id}"
        )
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TransactionRejected(
            "max priority fee per gas higher than max fee per gas",
            f"maxPriorityFeePerGas: {tx.max_priority_fee_per_gas}, "
            f"maxFeePerGas: {tx.max_fee_per_gas}",
        )
    if tx.gas > gas_limit:
        raise TransactionRejected("exceeds block gas limit", f"gas {tx.gas}, limit {gas_limit}")
    intrinsic = tx.intrinsic_gas
    if tx.gas < intrinsic:
        raise TransactionRejected(
            "intrinsic gas too low", f"gas {tx.gas}, minimum needed {intrinsic}"
        )
    try:
        # field ranges (r, s in range, low s, v) without an EC operation; then one recovery,
        # which the builder reuses (py-evm caches the sender)
        tx.validate()
        sender = tx.sender
    except (BadSignature, ValidationError, ValueError):
        raise TransactionRejected("invalid sender") from None
    return tx, sender
