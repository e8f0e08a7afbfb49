"""Log queries and polled filters: ``eth_getLogs`` and the ``eth_newFilter`` family.

Criteria matching (:class:`LogCriteria`) is shared with WebSocket ``logs``
subscriptions. Installed filters keep a cursor (the last block they reported) and
answer ``eth_getFilterChanges`` by scanning the blocks after it, as geth does; pending
transaction filters collect hashes from the node's pending listener. A filter not
polled for :data:`FILTER_TIMEOUT` seconds is dropped (geth's 5 minutes). At most
``max_filters`` are installed at once (``[rpc] max_filters``); one more is a ``-32005``
"limit exceeded" error, so anonymous callers cannot grow the node's memory without bound.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_bloom import BloomFilter

from .errors import InvalidParams, LimitExceeded, ServerError
from .formatters import format_log
from .params import ArgumentError, BlockRef, address, block_number, hash32, obj

if TYPE_CHECKING:
    from ..node import Node

FILTER_TIMEOUT = 300.0  # seconds, geth's filter deadline
MAX_TOPICS = 4
MAX_PENDING_PER_FILTER = 10_000  # a never-polled pending filter must not grow forever
MAX_FILTERS = 1000  # default of [rpc] max_filters


@dataclass(frozen=True, slots=True)
class LogCriteria:
    """Which logs a query wants. ``None`` at any position means "anything"."""

    addresses: frozenset[bytes] | None = None
    topics: tuple[frozenset[int] | None, ...] = ()
    from_block: BlockRef = BlockRef(tag="latest")  # noqa: RUF009 - frozen, safe to share
    to_block: BlockRef = BlockRef(tag="latest")  # noqa: RUF009
    block_hash: bytes | None = None

    def matches(self, log_address: bytes, log_topics: Sequence[int]) -> bool:
        if self.addresses is not None and log_address not in self.addresses:
            return False
        if len(self.topics) > len(log_topics):
            return False
        for wanted, topic in zip(self.topics, log_topics):
            if wanted is not None and topic not in wanted:
                return False
        return True

    def may_match_bloom(self, bloom: int) -> bool:
        """Cheap pre-check on a block's logsBloom; False means no log can match."""
        bloom_filter = BloomFilter(bloom)
        if self.addresses is not None and not any(a in bloom_filter for a in self.addresses):
            return False
        for wanted in self.topics:
            if wanted is not None and not any(
                t.to_bytes(32, "big") in bloom_filter for t in wanted
            ):
                return False
        return True


def _topic_set(value: Any) -> frozenset[int] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if any(v is None for v in values):  # a null inside an OR-list matches anything
        return None
    return frozenset(int.from_bytes(hash32(v), "big") for v in values)


def log_criteria(value: Any) -> LogCriteria:
    """Parser for the filter object of eth_getLogs / eth_newFilter / logs subscriptions."""
    spec = obj(value, "filters.FilterCriteria")
    raw_address = spec.get("address")
    addresses = None
    if raw_address is not None:
        items = raw_address if isinstance(raw_address, list) else [raw_address]
        addresses = frozenset(address(a) for a in items) if items else None
    raw_topics = spec.get("topics") or []
    if not isinstance(raw_topics, list):
        raise ArgumentError("topics must be an array")
    if len(raw_topics) > MAX_TOPICS:
        raise ArgumentError("exceed max topics")
    topics = tuple(_topic_set(t) for t in raw_topics)
    while topics and topics[-1] is None:  # trailing wildcards change nothing
        topics = topics[:-1]
    block_hash = spec.get("blockHash")
    if block_hash is not None:
        if spec.get("fromBlock") is not None or spec.get("toBlock") is not None:
            raise ArgumentError(
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other"
            )
        return LogCriteria(addresses, topics, block_hash=hash32(block_hash))
    from_block = (
        block_number(spec["fromBlock"])
        if spec.get("fromBlock") is not None
        else BlockRef(tag="latest")
    )
    to_block = (
        block_number(spec["toBlock"]) if spec.get("toBlock") is not None else BlockRef(tag="latest")
    )
    return LogCriteria(addresses, topics, from_block, to_block)


def _resolve(node: Node, ref: BlockRef) -> int:
    if ref.number is not None:
        return ref.number
    return node.resolve_tag(ref.tag or "latest")


def logs_in_range(node: Node, criteria: LogCriteria, first: int, last: int) -> list[dict[str, Any]]:
    """Matching logs of blocks ``first..last`` (inclusive), formatted."""
    out: list[dict[str, Any]] = []
    for number in range(first, last + 1):
        block = node.block_by_number(number)
        if block is None:
            break
        out.extend(block_matches(node, criteria, block))
    return out


def block_matches(node: Node, criteria: LogCriteria, block: Any) -> list[dict[str, Any]]:
    if not block.transactions or not criteria.may_match_bloom(block.header.bloom):
        return []
    out = []
    log_index = 0
    header = block.header
    for tx_index, (tx, receipt) in enumerate(zip(block.transactions, node.receipts(block))):
        for log in receipt.logs:
            if criteria.matches(log.address, log.topics):
                out.append(format_log(log, header, tx.hash, tx_index, log_index))
            log_index += 1
    return out


def get_logs(node: Node, criteria: LogCriteria, max_range: int) -> list[dict[str, Any]]:
    """``eth_getLogs``: by block hash, or over a block range capped at ``max_range`` blocks."""
    if criteria.block_hash is not None:
        block = node.block_by_hash(criteria.block_hash)
        if block is None:
            raise ServerError("unknown block")
        return block_matches(node, criteria, block)
    head = node.resolve_tag("latest")
    first = _resolve(node, criteria.from_block)
    last = _resolve(node, criteria.to_block)
    if (
        criteria.from_block.number is not None
        and criteria.to_block.number is not None
        and first > last
    ):
        raise InvalidParams("invalid block range params")
    last = min(last, head)
    if last - first + 1 > max_range:
        raise LimitExceeded(
            f"block range too large: {last - first + 1} blocks requested, at most {max_range} "
            "per eth_getLogs call (rpc.max_logs_range in chain.toml); split the range"
        )
    return logs_in_range(node, criteria, first, last)


@dataclass(slots=True)
class InstalledFilter:
    kind: str  # "logs" | "blocks" | "pending"
    cursor: int  # last block number already reported
    criteria: LogCriteria | None = None
    pending: list[str] = field(default_factory=list)
    last_poll: float = field(default_factory=time.monotonic)


class FilterRegistry:
    """Installed polling filters of one node. Thread-safe."""

    def __init__(
        self,
        node: Node,
        max_logs_range: int,
        timeout: float = FILTER_TIMEOUT,
        max_filters: int = MAX_FILTERS,
    ):
        self.node = node
        self.max_logs_range = max_logs_range
        self.timeout = timeout
        self.max_filters = max_filters
        self._filters: dict[str, InstalledFilter] = {}
        self._lock = threading.Lock()

    def _install(self, flt: InstalledFilter) -> str:
        # geth's rpc.NewID: 128 random bits as a hex quantity (no leading zeros), the
        # canonical form filter_id() turns a client's re-encoding back into
        filter_id = hex(secrets.randbits(128))
        with self._lock:
            self._expire()
            if len(self._filters) >= self.max_filters:
                raise LimitExceeded(
                    f"too many installed filters: at most {self.max_filters} "
                    "(rpc.max_filters in chain.toml); eth_uninstallFilter the ones you no "
                    f"longer poll (unpolled ones expire after {self.timeout:g} s)"
                )
            self._filters[filter_id] = flt
        return filter_id

    def _expire(self) -> None:
        deadline = time.monotonic() - self.timeout
        for filter_id in [k for k, f in self._filters.items() if f.last_poll < deadline]:
            del self._filters[filter_id]

    def _get(self, filter_id: str) -> InstalledFilter:
        with self._lock:
            self._expire()
            flt = self._filters.get(filter_id)
        if flt is None:
            raise ServerError("filter not found")
        flt.last_poll = time.monotonic()
        return flt

    def _head(self) -> int:
        return self.node.resolve_tag("latest")

    def new_log_filter(self, criteria: LogCriteria) -> str:
        return self._install(InstalledFilter("logs", self._head(), criteria))

    def new_block_filter(self) -> str:
        return self._install(InstalledFilter("blocks", self._head()))

    def new_pending_filter(self) -> str:
        return self._install(InstalledFilter("pending", self._head()))

    def uninstall(self, filter_id: str) -> bool:
        with self._lock:
            return self._filters.pop(filter_id, None) is not None

    def on_pending(self, tx_hash: bytes) -> None:
        """Node pending listener: a transaction entered the mempool."""
        text = "0x" + bytes(tx_hash).hex()
        with self._lock:
            for flt in self._filters.values():
                if flt.kind == "pending" and len(flt.pending) < MAX_PENDING_PER_FILTER:
                    flt.pending.append(text)

    def changes(self, filter_id: str) -> list[Any]:
        """``eth_getFilterChanges``: what happened since the last poll."""
        flt = self._get(filter_id)
        if flt.kind == "pending":
            with self._lock:
                out, flt.pending = flt.pending, []
            return out
        head = self._head()
        # A dev `evm_revert` can move the head back; restart from the new head.
        first = min(flt.cursor, head) + 1
        last = head
        if flt.kind == "blocks":
            out_hashes = []
            for number in range(first, last + 1):
                block = self.node.block_by_number(number)
                if block is not None:
                    out_hashes.append("0x" + block.header.hash.hex())
            flt.cursor = last
            return out_hashes
        criteria = flt.criteria or LogCriteria()
        if criteria.to_block.number is not None:
            last = min(last, criteria.to_block.number)
        if criteria.from_block.number is not None:
            first = max(first, criteria.from_block.number)
        logs = logs_in_range(self.node, criteria, first, last) if first <= last else []
        flt.cursor = max(min(flt.cursor, head), last)
        return logs

    def logs(self, filter_id: str) -> list[dict[str, Any]]:
        """``eth_getFilterLogs``: every log the filter's criteria match."""
        flt = self._get(filter_id)
        if flt.kind != "logs" or flt.criteria is None:
            raise ServerError("filter not found")
        return get_logs(self.node, flt.criteria, self.max_logs_range)
