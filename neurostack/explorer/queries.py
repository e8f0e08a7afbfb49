"""Reads of the index for the pages: lists, counts, sums and chart series.

Functions, not methods, so :mod:`index` stays the one place that knows how rows are
written; every function takes the :class:`~neurostack.explorer.index.Index`.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .index import Index


def latest_blocks(index: Index, limit: int = 10) -> list[dict[str, Any]]:
    rows = index.rows("SELECT * FROM blocks ORDER BY number DESC LIMIT ?", limit)
    return [dict(r) for r in rows]


def latest_txs(index: Index, limit: int = 10) -> list[dict[str, Any]]:
    rows = index.rows("SELECT * FROM txs ORDER BY block DESC, idx DESC LIMIT ?", limit)
    return [dict(r) for r in rows]


def block_txs(index: Index, number: int) -> list[dict[str, Any]]:
    return [dict(r) for r in index.rows("SELECT * FROM txs WHERE block = ? ORDER BY idx", number)]


def block_requests(index: Index, number: int) -> dict[str, str]:
    """Request id -> the transaction of block ``number`` that used it."""
    rows = index.rows("SELECT request_id, tx_hash FROM calls WHERE block = ?", number)
    return {str(r["request_id"]): str(r["tx_hash"]) for r in rows}


@dataclass(frozen=True)
class BlockSeries:
    """Per-block series for the home page's charts, oldest first."""

    numbers: list[int]
    intervals: list[int]  # seconds since the previous block (0 for the first one shown)
    gas_used: list[int]


def block_series(index: Index, limit: int = 60) -> BlockSeries:
    rows = list(
        reversed(
            index.rows(
                "SELECT number, timestamp, gas_used FROM blocks ORDER BY number DESC LIMIT ?",
                limit + 1,
            )
        )
    )
    numbers, intervals, gas = [], [], []
    for previous, row in itertools.pairwise(rows):
        if int(previous["number"]) == 0:
            continue  # the genesis time is configuration, not a block interval
        numbers.append(int(row["number"]))
        intervals.append(int(row["timestamp"]) - int(previous["timestamp"]))
        gas.append(int(row["gas_used"]))
    return BlockSeries(numbers, intervals, gas)


def calls_per_model_and_mode(index: Index) -> list[dict[str, Any]]:
    rows = index.rows(
        "SELECT model_cid, mode, count(*) AS calls FROM calls GROUP BY model_cid, mode "
        "ORDER BY calls DESC, model_cid LIMIT 50"
    )
    return [dict(r) for r in rows]


def median_inclusion_seconds(index: Index) -> tuple[float | None, int]:
    """Median seconds from first sight (pending) to inclusion of inference transactions."""
    rows = index.rows(
        "SELECT included_seen - first_seen AS wait FROM pending "
        "WHERE has_calls = 1 AND included_seen IS NOT NULL"
    )
    waits = [float(r["wait"]) for r in rows]
    return (statistics.median(waits) if waits else None), len(waits)


def pending_inference(index: Index, limit: int = 20) -> list[dict[str, Any]]:
    """Inference transactions not yet included, and the latest dropped ones."""
    rows = index.rows(
        "SELECT * FROM pending WHERE status != 'included' "
        "AND (has_calls = 1 OR status IN ('parked', 'dispatched', 'dropped')) "
        "ORDER BY first_seen DESC LIMIT ?",
        limit,
    )
    return [dict(r) for r in rows]


def pending_entry(index: Index, tx_hash: str) -> dict[str, Any] | None:
    found = index.row("SELECT * FROM pending WHERE tx_hash = ?", tx_hash)
    if found is None:
        return None
    entry = dict(found)
    entry["history"] = json.loads(entry["history"])
    return entry


def address_txs(
    index: Index, address: str, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    rows = index.rows(
        "SELECT t.* FROM address_txs a JOIN txs t ON t.hash = a.hash WHERE a.address = ? "
        "ORDER BY a.block DESC, a.idx DESC LIMIT ? OFFSET ?",
        address, limit, offset,
    )  # fmt: skip
    return [dict(r) for r in rows]


def address_tx_count(index: Index, address: str) -> int:
    found = index.row("SELECT count(*) AS n FROM address_txs WHERE address = ?", address)
    return int(found["n"]) if found else 0


def _sum(values: list[Any]) -> int:
    return sum(int(v) for v in values)


def known_models(index: Index) -> list[dict[str, Any]]:
    rows = index.rows(
        "SELECT model_cid, count(*) AS calls, max(block) AS last_block FROM calls "
        "GROUP BY model_cid UNION SELECT model_cid, 0, max(block) FROM registrations "
        "WHERE model_cid NOT IN (SELECT model_cid FROM calls) GROUP BY model_cid "
        "ORDER BY calls DESC"
    )
    return [dict(r) for r in rows]


def model_known(index: Index, cid: str) -> bool:
    return (
        index.row("SELECT 1 FROM calls WHERE model_cid = ? LIMIT 1", cid) is not None
        or index.row("SELECT 1 FROM registrations WHERE model_cid = ? LIMIT 1", cid) is not None
    )


@dataclass(frozen=True)
class Usage:
    """Calls of a model (or by a sprinter): totals, per mode, per party, over time."""

    calls: int
    modes: dict[str, int]
    parties: list[dict[str, Any]]  # sprinters of a model, or models of a sprinter
    owner_earned: int
    sprinter_earned: int
    buckets: list[tuple[int, int, int]]  # (first block, last block, calls), oldest first
    recent: list[dict[str, Any]]


def _usage(index: Index, column: str, value: str, party: str) -> Usage:
    rows = index.rows(f"SELECT * FROM calls WHERE {column} = ? ORDER BY block", value)
    modes: dict[str, int] = defaultdict(int)
    parties: dict[str, dict[str, Any]] = {}
    for r in rows:
        modes[r["mode"]] += 1
        p = parties.setdefault(r[party], {party: r[party], "calls": 0, "earned": 0})
        p["calls"] += 1
        p["earned"] += int(r["sprinter_amount"] if party == "sprinter" else r["owner_amount"])
    head = index.head()
    return Usage(
        calls=len(rows),
        modes=dict(modes),
        parties=sorted(parties.values(), key=lambda p: -p["calls"]),
        owner_earned=_sum([r["owner_amount"] for r in rows]),
        sprinter_earned=_sum([r["sprinter_amount"] for r in rows]),
        buckets=buckets([int(r["block"]) for r in rows], head[0] if head else 0),
        recent=[dict(r) for r in rows[-20:]][::-1],
    )


def model_usage(index: Index, cid: str) -> Usage:
    return _usage(index, "model_cid", cid, "sprinter")


def sprinter_usage(index: Index, sprinter: str) -> Usage:
    return _usage(index, "sprinter", sprinter, "model_cid")


def buckets(blocks: list[int], head: int, count: int = 24) -> list[tuple[int, int, int]]:
    """Calls per equal block range from the first call to the head."""
    if not blocks:
        return []
    first = min(blocks)
    width = max(1, (head - first + count) // count)
    out = [(first + i * width, first + (i + 1) * width - 1, 0) for i in range(count)]
    counts = [0] * count
    for b in blocks:
        counts[min((b - first) // width, count - 1)] += 1
    out = [(lo, hi, n) for (lo, hi, _), n in zip(out, counts, strict=True)]
    while len(out) > 1 and out[-1][0] > head:
        out.pop()
    return out


def sprinter_known(index: Index, address: str) -> bool:
    return index.row("SELECT 1 FROM calls WHERE sprinter = ? LIMIT 1", address) is not None


def sprinter_failures(index: Index, address: str, limit: int = 20) -> list[dict[str, Any]]:
    """Dropped transactions whose reason names this sprinter (rejected receipts)."""
    rows = index.rows(
        "SELECT * FROM pending WHERE status = 'dropped' AND lower(reason) LIKE ? "
        "ORDER BY first_seen DESC LIMIT ?",
        f"%{address.lower()}%", limit,
    )  # fmt: skip
    return [dict(r) for r in rows]


def tx_of_request(index: Index, request_id: str) -> str | None:
    found = index.row(
        "SELECT tx_hash FROM calls WHERE request_id = ? ORDER BY block DESC LIMIT 1", request_id
    )
    return None if found is None else str(found["tx_hash"])


def registrations_of(index: Index, cid: str) -> list[dict[str, Any]]:
    rows = index.rows("SELECT * FROM registrations WHERE model_cid = ? ORDER BY block", cid)
    return [dict(r) for r in rows]
