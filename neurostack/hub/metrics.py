"""Prometheus metrics of the hub API (``GET /metrics``).

Each app gets its own ``CollectorRegistry`` so several apps (tests) can live in one
process. ``neurostack_hub_jobs_completed`` is read from Redis at scrape time: it counts
request ids completed by any sprinter, each exactly once, however often a job was
delivered or duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _CompletedJobs(Collector):
    def __init__(self, read: Callable[[], int | None]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        value = self._read()
        if value is not None:
            yield GaugeMetricFamily(
                "neurostack_hub_jobs_completed",
                "Inference request ids completed by sprinters (each counted once)",
                value=value,
            )


class HubMetrics:
    """The hub's metrics, registered in their own registry."""

    def __init__(self, read_completed: Callable[[], int | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "neurostack_hub_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.inferences = Counter(
            "neurostack_hub_inferences",
            "Inference requests by mode and outcome (ok, cached, error, timeout, queued)",
            ["mode", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "neurostack_hub_inference_seconds",
            "Time from receiving POST /v1/infer to answering it with a result",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs_sent = Counter(
            "neurostack_hub_jobs_sent",
            "Jobs sent to the queue, by kind (first, speculative)",
            ["kind"],
            registry=self.registry,
        )
        self.uploads = Counter(
            "neurostack_hub_model_uploads",
            "Model uploads by outcome (created, existing)",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(_CompletedJobs(read_completed))
