"""The node's on-disk key-value store: py-evm's ``AtomicDatabaseAPI`` over stdlib ``sqlite3``.

py-evm 0.12 ships only an in-memory database, so the node persists through this adapter.
Everything py-evm keeps (state trie nodes, headers, bodies, receipts, the canonical head,
the transaction lookup index) goes into one table ``kv(key, value)`` of
``<data_dir>/chain.sqlite``.

Atomicity: :meth:`SqliteStore.transaction` opens a write overlay; every write py-evm makes
while it is open (state persist, trie nodes, header, canonical head) lands in the overlay
and is written to SQLite in a single SQL transaction when the block is done. A process
killed mid-block therefore leaves the previous block as the head, with its state intact.
SQLite runs in WAL mode with ``synchronous=FULL`` so a committed block also survives a
power cut (one fsync per block).

Exclusive use: the store holds an ``flock`` on ``chain.sqlite.lock`` while open, so a second
node on the same data dir fails with ``StoreError`` instead of forking the chain.

Isolation: a block transaction's overlay belongs to the thread that opened it. That thread
reads its own writes; every other thread keeps reading the last committed block, unblocked,
while the next block is built. One lock serialises statements on the shared connection.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

from .errors import StoreError

STORE_FILE = "chain.sqlite"

_DELETED = None  # overlay marker for a key deleted inside the open transaction


class SqliteStore(BaseAtomicDB):
    """An atomic key-value store in one SQLite file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_exclusively(self.path.with_name(self.path.name + ".lock"))
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, once per block.
            self._conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA cache_size=-65536")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) "
                "WITHOUT ROWID"
            )
        except sqlite3.Error as exc:
            os.close(self._lock_fd)
            raise StoreError(
                f"{self.path}: cannot open the chain database ({exc}); check the file"
            ) from None
        self._lock = threading.RLock()  # the connection, one statement at a time
        self._local = threading.local()  # each thread's open block transaction, if any
        self._closed = False

    def _overlay(self) -> dict[bytes, bytes | None] | None:
        return self._local.__dict__.get("overlay")

    # -- key-value API (py-evm DatabaseAPI) --

    def __getitem__(self, key: bytes) -> bytes:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        overlay = self._overlay()
        if overlay is not None:
            overlay[key] = bytes(value)
            return
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, bytes(value))
            )

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        overlay = self._overlay()
        if overlay is not None:
            overlay[key] = _DELETED
            return
        with self._lock:
            self._conn.execute("DELETE FROM kv WHERE key = ?", (key,))

    def _exists(self, key: bytes) -> bool:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            return overlay[key] is not _DELETED
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone()
        return row is not None

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """py-evm's batch: collected in memory, then applied inside one store transaction."""
        with self.transaction(), AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    # -- block transactions --

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all. Nested calls join the outer one.

        The open transaction belongs to the calling thread: its reads see its own writes,
        other threads keep reading the last committed data and are not blocked meanwhile.
        """
        local = self._local
        depth = local.__dict__.get("depth", 0)
        if depth == 0:
            local.overlay = {}
        local.depth = depth + 1
        try:
            yield
        except BaseException:
            local.depth = depth
            if depth == 0:
                local.overlay = None
            raise
        local.depth = depth
        if depth == 0:
            overlay, local.overlay = local.overlay, None
            with self._lock:
                self._flush(overlay)

    def _flush(self, overlay: dict[bytes, bytes | None]) -> None:
        upserts = [(k, v) for k, v in overlay.items() if v is not _DELETED]
        deletes = [(k,) for k, v in overlay.items() if v is _DELETED]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", upserts)
            self._conn.executemany("DELETE FROM kv WHERE key = ?", deletes)
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: writing a block failed ({exc})") from None

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()
                os.close(self._lock_fd)  # releases the data dir for the next node


def _lock_exclusively(path: Path) -> int:
    """Hold an exclusive ``flock`` on ``path`` for as long as the store is open.

    Two nodes producing blocks on one data dir would fork the chain; the kernel drops the
    lock when the process dies, so a crashed node never leaves a stale lock behind.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(
            f"{path.parent}: another node is using this data dir; stop it first "
            "(or give this chain another data_dir)"
        ) from None
    return fd
