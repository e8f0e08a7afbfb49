"""What ``neuro_getInferenceStatus`` reports: the life of an inference transaction.

``parked`` (waiting for simulation) → ``dispatched`` (its model calls are jobs at the hub)
→ ``ready`` (every call resolved; the builder may include it) → ``included``; or
``dropped`` with a reason (deadline passed, job failed, too many calls, replaced).
Records of recent transactions are kept in memory (the newest :data:`MAX_RECORDS`);
after a restart an included transaction's status is rebuilt from the chain.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from neurostack.protocol.types import Hash32, RequestId

MAX_RECORDS = 10_000


class TxStatus(Enum):
    PARKED = "parked"
    DISPATCHED = "dispatched"
    READY = "ready"
    INCLUDED = "included"
    DROPPED = "dropped"


class RequestState(Enum):
    PENDING = "pending"  # a job is out
    RESOLVED = "resolved"  # a receipt is known
    FAILED = "failed"


@dataclass(frozen=True)
class RequestInfo:
    """One model call a transaction makes, as far as simulation got."""

    request_id: RequestId
    model_cid: str
    mode: str
    state: RequestState

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": "0x" + bytes(self.request_id).hex(),
            "modelCID": self.model_cid,
            "mode": self.mode,
            "state": self.state.value,
        }


@dataclass(frozen=True)
class StatusRecord:
    """The status of one transaction."""

    status: TxStatus
    requests: tuple[RequestInfo, ...] = ()
    reason: str | None = None
    block_number: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "requests": [r.to_json() for r in self.requests],
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.block_number is not None:
            out["blockNumber"] = hex(self.block_number)
        return out


@dataclass
class StatusBook:
    """Thread-safe, bounded map tx hash → :class:`StatusRecord` (oldest forgotten first)."""

    capacity: int = MAX_RECORDS
    _records: OrderedDict[Hash32, StatusRecord] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, tx_hash: bytes) -> StatusRecord | None:
        with self._lock:
            return self._records.get(Hash32(bytes(tx_hash)))

    def set(self, tx_hash: bytes, record: StatusRecord) -> None:
        key = Hash32(bytes(tx_hash))
        with self._lock:
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)

    def update(self, tx_hash: bytes, **changes: Any) -> None:
        """Change fields of an existing record (no-op if the hash is unknown)."""
        key = Hash32(bytes(tx_hash))
        with self._lock:
            old = self._records.get(key)
            if old is not None:
                self._records[key] = replace(old, **changes)
