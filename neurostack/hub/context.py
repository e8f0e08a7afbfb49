"""The per-app state the routers share (:class:`HubContext`), reached through
``request.app.state.hub`` by the :func:`hub_context` dependency."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis
from celery import Celery
from fastapi import Request

from neurostack.jobs import AsyncJobClient

from .metrics import HubMetrics
from .settings import HubSettings
from .store import ModelStore
from .zk_setup import ZkSetupRunner


@dataclass
class ReadyCache:
    """The last readiness answer and when it was taken."""

    at: float = 0.0
    ready: bool = False
    detail: str = ""
    workers: list[str] = field(default_factory=list)

    def fresh(self, max_age: float) -> bool:
        return time.monotonic() - self.at < max_age


@dataclass
class HubContext:
    settings: HubSettings
    store: ModelStore
    celery: Celery
    redis_sync: redis.Redis
    jobs: AsyncJobClient
    metrics: HubMetrics
    zk: ZkSetupRunner
    hub_id: bytes  # what upload signatures are bound to (neurostack.hub.identity)
    ready: ReadyCache = field(default_factory=ReadyCache)


def hub_context(request: Request) -> HubContext:
    """FastAPI dependency: the app's :class:`HubContext`."""
    return request.app.state.hub
