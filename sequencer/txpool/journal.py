"""The mempool journal: every acknowledged transaction, durable before its hash is returned.

``<data_dir>/mempool.journal`` is an append-only file of length-prefixed raw transactions.
An accepted transaction is appended and ``fsync``ed (group commit: one fsync serves every
submitter waiting) before its hash is returned. After a block the journal is rewritten
(atomically: temp file, fsync, rename) with what is still pooled, when mined records make
up most of it or a transaction was dropped (``TxPool.compact_journal``). On start it is replayed
through admission; transactions mined or invalid by now are dropped.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterable
from pathlib import Path

JOURNAL_FILE = "mempool.journal"
_LENGTH = struct.Struct(">I")


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
        self.records = len(self.read())  # records in the file now
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
        self.records += 1
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
            records = list(raws)
            with open(tmp, "wb") as f:
                f.write(b"".join(_LENGTH.pack(len(r)) + r for r in records))
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
            self.records = len(records)

    def close(self) -> None:
        with self._sync_lock:
            os.close(self._fd)
