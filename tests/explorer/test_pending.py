"""PIPE statuses as the explorer records them: each transition timed once, a drop kept
with its reason, plain transfers not tracked, vanished transactions forgotten.
(The real path, through a node's PIPE and a browser, is in test_browser.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurostack.explorer import queries
from neurostack.explorer.index import Index
from neurostack.explorer.pending import PendingTracker

INFER = "0x" + "aa" * 32
TRANSFER = "0x" + "bb" * 32
GONE = "0x" + "cc" * 32
CALL = [{"requestId": "0x" + "01" * 32, "modelCID": "bafk", "mode": "VANILLA", "state": "pending"}]


class ScriptedNode:
    """The two reads the tracker makes, answering from a script of statuses."""

    def __init__(self) -> None:
        self.new: list[str] = []
        self.statuses: dict[str, dict[str, Any] | None] = {}

    def optional(self, method: str, *params: Any) -> Any:
        assert method == "eth_newPendingTransactionFilter"
        return "0x1"

    def call(self, method: str, *params: Any) -> Any:
        assert method == "eth_getFilterChanges"
        new, self.new = self.new, []
        return new

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        assert {m for m, _ in calls} == {"neuro_getInferenceStatus"}
        return [self.statuses.get(p[0]) for _, p in calls]


def test_a_transaction_is_timed_through_pipe_until_dropped(tmp_path: Path) -> None:
    node, index, now = ScriptedNode(), Index(tmp_path / "i.sqlite"), [100.0]
    tracker = PendingTracker(node, index, clock=lambda: now[0])  # type: ignore[arg-type]
    node.new = [INFER, TRANSFER, GONE]
    node.statuses = {
        INFER: {"status": "parked", "requests": []},
        TRANSFER: {"status": "ready", "requests": []},  # a plain transfer: not tracked
        GONE: None,
    }
    tracker.poll_once()
    for step, status in ((1.0, "dispatched"), (2.5, "dispatched")):
        now[0] = 100.0 + step
        node.statuses[INFER] = {"status": status, "requests": CALL}
        tracker.poll_once()
    now[0] = 104.0
    node.statuses[INFER] = {"status": "dropped", "requests": CALL, "reason": "deadline passed"}
    tracker.poll_once()

    entry = queries.pending_entry(index, INFER)
    assert entry is not None
    assert entry["history"] == [["parked", 100.0], ["dispatched", 101.0], ["dropped", 104.0]]
    assert entry["reason"] == "deadline passed" and entry["has_calls"] == 1
    assert queries.pending_entry(index, TRANSFER) is None
    assert queries.pending_entry(index, GONE) is None
    shown = queries.pending_inference(index)
    assert [(p["tx_hash"], p["status"], p["reason"]) for p in shown] == [
        (INFER, "dropped", "deadline passed")
    ]
    assert index.open_pending() == []  # a dropped transaction is no longer polled


def test_inclusion_time_is_the_median_wait(tmp_path: Path) -> None:
    node, index, now = ScriptedNode(), Index(tmp_path / "i.sqlite"), [0.0]
    tracker = PendingTracker(node, index, clock=lambda: now[0])  # type: ignore[arg-type]
    hashes = ["0x" + f"{i:064x}" for i in range(1, 4)]
    node.new = list(hashes)
    node.statuses = {h: {"status": "dispatched", "requests": CALL} for h in hashes}
    tracker.poll_once()
    for h, waited in zip(hashes, (1.0, 2.0, 6.0), strict=True):
        now[0] = waited
        node.statuses[h] = {"status": "included", "requests": CALL, "blockNumber": "0x5"}
        tracker.poll_once()
    assert queries.median_inclusion_seconds(index) == (2.0, 3)
