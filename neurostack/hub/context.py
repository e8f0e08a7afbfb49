"""The per-app state the routers share (:class:`HubContext`), reached through
``request.app.state.hub`` by the :func:`hub_context` dependency."""

from __future__ import annotations

import asyncio
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
    """The last readiness answer and when it was taken; ``lock`` lets one check run at a
    time, and the requests that waited for it share its answer."""

    at: float = 0.0
    ready: bool = False
    detail: str = ""
    workers: list[str] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def answers(self, asked: float, ready_max_age: float, not_ready_max_age: float) -> bool:
        """Whether the cached answer serves a request made at ``asked``: it was taken while
        the request waited, or it is younger than the max age of its kind."""
        max_age = ready_max_age if self.ready else min(ready_max_age, not_ready_max_age)
        return self.at >= asked or time.monotonic() - self.at < max_age


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
