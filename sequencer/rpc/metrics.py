"""Prometheus metrics of the node's RPC (``GET /metrics``).

Counting happens in :class:`CallStats`, a locked dict the dispatcher bumps once per call
(cheaper on the hot path than a labelled prometheus ``Counter``); the collector turns it,
and a few gauges read from the node, into metrics at scrape time. Each app has its own
``CollectorRegistry`` so several apps can live in one process (tests, benchmarks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ..node import Node


class CallStats:
    """Calls per (method, JSON-RPC error code or 0 for success). Thread-safe."""

    def __init__(self, known_methods: Callable[[str], bool]) -> None:
        self._known = known_methods
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def record(self, method: str, code: int) -> None:
        if not self._known(method):
            method = "unknown"  # client-chosen names must not become unbounded labels
        key = (method, code)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return dict(self._counts)


class _RpcCollector(Collector):
    def __init__(self, node: Node, stats: CallStats, connections: Callable[[], int]) -> None:
        self._node = node
        self._stats = stats
        self._connections = connections

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "neurostack_node_rpc_calls",
            "JSON-RPC calls answered, by method and error code (0 = success)",
            labels=["method", "code"],
        )
        for (method, code), count in sorted(self._stats.snapshot().items()):
            calls.add_metric([method, str(code)], count)
        yield calls
        yield GaugeMetricFamily(
            "neurostack_node_head_block",
            "Number of the head block",
            value=self._node.resolve_tag("latest"),
        )
        yield GaugeMetricFamily(
            "neurostack_node_pending_transactions",
            "Executable transactions waiting in the mempool",
            value=len(self._node.pending_transactions()),
        )
        yield GaugeMetricFamily(
            "neurostack_node_ws_connections",
            "Open WebSocket connections",
            value=self._connections(),
        )


def rpc_registry(node: Node, stats: CallStats, connections: Callable[[], int]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_RpcCollector(node, stats, connections))
    return registry
