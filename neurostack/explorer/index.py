"""The explorer's own index: a small SQLite database filled by following the chain.

The node answers "block N", "tx H", but not "every transaction of address A", "every call
of model M" or "how long inference transactions wait": those need an index. It holds
only what it derived from the node's RPC and can always be rebuilt from it, so a chain
reset (new genesis, or a reorg such as ``evm_revert``) simply deletes the affected rows
(:meth:`Index.rollback_to`, :meth:`Index.reset`). Amounts (wei) are stored as decimal
text: they overflow SQLite's 64-bit integers.

One connection, guarded by a lock (the follower thread writes, page handlers read);
WAL mode so a reader never waits for a block being written to disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fees import CallPayout

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL, gas_used INTEGER NOT NULL, gas_limit INTEGER NOT NULL,
    tx_count INTEGER NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    hash TEXT PRIMARY KEY, block INTEGER NOT NULL, idx INTEGER NOT NULL,
    sender TEXT NOT NULL, recipient TEXT, created TEXT, value TEXT NOT NULL,
    status INTEGER NOT NULL, gas_used INTEGER NOT NULL, calls INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS txs_block ON txs (block, idx);
CREATE TABLE IF NOT EXISTS address_txs (
    address TEXT NOT NULL, block INTEGER NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (address, block, idx));
CREATE INDEX IF NOT EXISTS address_txs_block ON address_txs (block);
CREATE TABLE IF NOT EXISTS calls (
    tx_hash TEXT NOT NULL, block INTEGER NOT NULL, position INTEGER NOT NULL,
    request_id TEXT NOT NULL, model_cid TEXT NOT NULL, mode TEXT NOT NULL,
    sprinter TEXT NOT NULL, timestamp INTEGER NOT NULL, owner TEXT,
    owner_amount TEXT NOT NULL, sprinter_amount TEXT NOT NULL,
    PRIMARY KEY (tx_hash, position));
CREATE INDEX IF NOT EXISTS calls_model ON calls (model_cid, block);
CREATE INDEX IF NOT EXISTS calls_sprinter ON calls (sprinter, block);
CREATE INDEX IF NOT EXISTS calls_request ON calls (request_id);
CREATE INDEX IF NOT EXISTS calls_block ON calls (block);
CREATE TABLE IF NOT EXISTS registrations (
    model_cid TEXT NOT NULL, block INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    PRIMARY KEY (model_cid, block, tx_hash));
CREATE INDEX IF NOT EXISTS registrations_block ON registrations (block);
CREATE TABLE IF NOT EXISTS pending (
    tx_hash TEXT PRIMARY KEY, first_seen REAL NOT NULL, status TEXT NOT NULL,
    reason TEXT, has_calls INTEGER NOT NULL, included_seen REAL, history TEXT NOT NULL);
"""

DATA_TABLES = ("blocks", "txs", "address_txs", "calls", "registrations")


@dataclass(frozen=True)
class IndexedBlock:
    """One block as the index stores it, with what to attach to it."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int
    gas_used: int
    gas_limit: int
    txs: Sequence[dict[str, Any]]  # rows for ``txs`` (see :meth:`Index.add_block`)
    calls: Sequence[tuple[str, int, int, CallPayout]]  # (tx hash, position, timestamp, payout)
    registrations: Sequence[tuple[str, str]]  # (model cid, tx hash)


class Index:
    """The SQLite index of one chain (one genesis)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # an index can be rebuilt
            self._db.executescript(SCHEMA)
            if self.meta("schema") not in (None, SCHEMA_VERSION):
                self.reset()
            self.set_meta("schema", SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def row(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()  # type: ignore[no-any-return]

    # -- chain identity --------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        found = self.row("SELECT value FROM meta WHERE key = ?", key)
        return None if found is None else str(found["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def reset(self, genesis_hash: str | None = None) -> None:
        """Forget everything (another chain answers at the node's URL now)."""
        with self.transaction() as db:
            for table in (*DATA_TABLES, "pending"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key != 'schema'")
            if genesis_hash is not None:
                db.execute("INSERT INTO meta VALUES ('genesis', ?)", (genesis_hash,))

    def head(self) -> tuple[int, str] | None:
        found = self.row("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1")
        return None if found is None else (int(found["number"]), str(found["hash"]))

    def hash_at(self, number: int) -> str | None:
        found = self.row("SELECT hash FROM blocks WHERE number = ?", number)
        return None if found is None else str(found["hash"])

    # -- writes ----------------------------------------------------------------------------

    def add_blocks(self, blocks: Sequence[IndexedBlock], seen: float) -> None:
        """Append blocks (all in one SQLite transaction)."""
        with self.transaction() as db:
            for b in blocks:
                db.execute(
                    "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (b.number, b.hash, b.parent_hash, b.timestamp, b.gas_used, b.gas_limit,
                     len(b.txs), seen),
                )  # fmt: skip
                db.executemany(
                    "INSERT OR REPLACE INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (t["hash"], b.number, t["idx"], t["from"], t["to"], t["created"],
                         str(t["value"]), t["status"], t["gas_used"], t["calls"])
                        for t in b.txs
                    ],
                )  # fmt: skip
                db.executemany(
                    "INSERT OR IGNORE INTO address_txs VALUES (?, ?, ?, ?)",
                    [
                        (address, b.number, t["idx"], t["hash"])
                        for t in b.txs
                        for address in {t["from"], t["to"], t["created"]} - {None}
                    ],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (tx, b.number, pos, p.call.request_id, p.call.model_cid, p.call.mode,
                         p.call.sprinter, ts, p.call.owner, str(p.owner_amount),
                         str(p.sprinter_amount))
                        for tx, pos, ts, p in b.calls
                    ],
                )  # fmt: skip
                db.executemany(
                    "INSERT OR IGNORE INTO registrations VALUES (?, ?, ?)",
                    [(cid, b.number, tx) for cid, tx in b.registrations],
                )

    def rollback_to(self, number: int) -> None:
        """Drop every block above ``number`` and what was derived from it (a reorg)."""
        with self.transaction() as db:
            # Their inclusion is undone too: PIPE statuses of those transactions are stale.
            db.execute(
                "DELETE FROM pending WHERE tx_hash IN (SELECT hash FROM txs WHERE block > ?)",
                (number,),
            )
            db.execute("DELETE FROM blocks WHERE number > ?", (number,))
            for table in ("txs", "address_txs", "calls", "registrations"):
                db.execute(f"DELETE FROM {table} WHERE block > ?", (number,))

    # -- pending inference transactions ----------------------------------------------------

    def track(self, tx_hash: str, status: str, now: float, *, has_calls: bool,
              reason: str | None = None) -> None:  # fmt: skip
        """Record a status of a transaction PIPE knows (history kept for the tx page)."""
        with self._lock:
            found = self._db.execute(
                "SELECT status, history FROM pending WHERE tx_hash = ?", (tx_hash,)
            ).fetchone()
            if found is None:
                self._db.execute(
                    "INSERT INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (tx_hash, now, status, reason, int(has_calls),
                     now if status == "included" else None, json.dumps([[status, now]])),
                )  # fmt: skip
                return
            history = json.loads(found["history"])
            if found["status"] != status:
                history.append([status, now])
            self._db.execute(
                "UPDATE pending SET status = ?, reason = ?, has_calls = max(has_calls, ?), "
                "included_seen = CASE WHEN ? = 'included' THEN coalesce(included_seen, ?) "
                "ELSE included_seen END, history = ? WHERE tx_hash = ?",
                (status, reason, int(has_calls), status, now, json.dumps(history), tx_hash),
            )

    def untrack_missing(self, hashes: Sequence[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM pending WHERE tx_hash = ?", [(h,) for h in hashes])

    def open_pending(self, limit: int = 500) -> list[str]:
        """Transactions still waiting (not included, not dropped), oldest first."""
        rows = self.rows(
            "SELECT tx_hash FROM pending WHERE status NOT IN ('included', 'dropped') "
            "ORDER BY first_seen LIMIT ?",
            limit,
        )
        return [str(r["tx_hash"]) for r in rows]

    def forget_pending_before(self, cutoff: float, keep: int = 10_000) -> None:
        """Bound the table: finished entries older than ``cutoff`` beyond the newest ``keep``."""
        with self._lock:
            self._db.execute(
                "DELETE FROM pending WHERE status IN ('included', 'dropped') AND first_seen < ? "
                "AND tx_hash NOT IN (SELECT tx_hash FROM pending ORDER BY first_seen DESC "
                "LIMIT ?)",
                (cutoff, keep),
            )
