"""PIPE's view of pending transactions, followed and timed.

:class:`PendingTracker` keeps a polled ``eth_newPendingTransactionFilter``, asks
``neuro_getInferenceStatus`` for new hashes (a bounded number a poll: under full transfer
load thousands arrive a second) and for every transaction still in PIPE, and records each
transition (parked → dispatched → ready → included, or dropped with the node's reason)
with the injected clock. Plain transfers (``ready`` without model calls) are not tracked.
"""

from __future__ import annotations

import time

from hub_client import HubError, RpcError

from .follower import Clock, Poller
from .index import Index
from .node import NodeReader


class PendingTracker(Poller):
    """Times inference transactions from first sight in the mempool to inclusion."""

    thread_name = "explorer-pending"

    def __init__(
        self,
        reader: NodeReader,
        index: Index,
        *,
        clock: Clock = time.time,
        poll_interval: float = 0.25,
        max_new_per_poll: int = 200,
    ) -> None:
        super().__init__(reader, index, clock=clock, poll_interval=poll_interval)
        self.max_new_per_poll = max_new_per_poll
        self._filter: str | None = None

    def step(self) -> bool:
        try:
            self.poll_once()
        except HubError:
            self._filter = None  # the node restarted: make a new filter next time
            raise
        return False

    def poll_once(self) -> None:
        new: list[str] = []
        if self._filter is None:
            self._filter = self.reader.optional("eth_newPendingTransactionFilter")
        if self._filter is not None:
            try:
                new = list(self.reader.call("eth_getFilterChanges", self._filter) or [])
            except RpcError:  # "filter not found": the node restarted or was reset
                self._filter = None
        # Under full transfer load thousands arrive a second; statuses for a bounded few.
        hashes = new[: self.max_new_per_poll] + self.index.open_pending()
        if not hashes:
            return
        statuses = self.reader.batch([("neuro_getInferenceStatus", [h]) for h in hashes])
        now = self.clock()
        gone = []
        for tx_hash, status in zip(hashes, statuses, strict=True):
            if status is None:
                gone.append(tx_hash)
                continue
            has_calls = bool(status.get("requests"))
            state = str(status.get("status"))
            if has_calls or state in ("parked", "dispatched", "dropped") or tx_hash not in new:
                self.index.track(
                    tx_hash, state, now, has_calls=has_calls, reason=status.get("reason")
                )
        self.index.untrack_missing([h for h in gone if h not in new])
        self.index.forget_pending_before(now - 3600)
