"""Operations endpoints: ``/health`` (liveness), ``/ready`` (readiness), ``/metrics``."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from .context import HubContext, hub_context

router = APIRouter(tags=["operations"])
Ctx = Annotated[HubContext, Depends(hub_context)]

PING_TIMEOUT = 1.0


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the API process answers."""
    return {"status": "ok"}


def _check_ready(ctx: HubContext) -> tuple[bool, str, list[str]]:
    try:
        ctx.redis_sync.ping()
    except Exception as exc:  # noqa: BLE001 - redis raises ConnectionError, TimeoutError, ...
        return False, f"the broker (Redis) is unreachable: {exc}", []
    try:
        replies = ctx.celery.control.ping(timeout=PING_TIMEOUT) or []
    except Exception as exc:  # noqa: BLE001 - kombu's errors vary by transport
        return False, f"could not ping workers through the broker: {exc}", []
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return (
            False,
            "no sprinter worker answered a ping; start one with `neurostack hub worker`",
            [],
        )
    return True, "", workers


@router.get("/ready", responses={503: {"description": "broker down or no worker"}})
async def ready(ctx: Ctx) -> Any:
    """Readiness: the broker answers and at least one sprinter answers a ping (cached for
    ``ready_cache_seconds``, a "not ready" for ``not_ready_cache_seconds``).

    Anyone may call it, so one check runs at a time (a worker ping takes ``PING_TIMEOUT``)
    and the requests that arrive meanwhile share its answer: however often it is called,
    the broker sees at most one ping in flight. That bound is what protects the hub, so a
    "not ready" need not be cached long: a devnet or orchestrator polling a starting hub
    sees it ready one ping after its first worker answers, not a cache period later."""
    cache, settings = ctx.ready, ctx.settings
    asked = time.monotonic()
    async with cache.lock:
        if not cache.answers(asked, settings.ready_cache_seconds, settings.not_ready_cache_seconds):
            ok, detail, workers = await run_in_threadpool(_check_ready, ctx)
            cache.at, cache.ready, cache.detail, cache.workers = (
                time.monotonic(), ok, detail, workers
            )  # fmt: skip
    if not cache.ready:
        return JSONResponse(status_code=503, content={"detail": cache.detail})
    return {"status": "ready", "workers": cache.workers}


@router.get("/metrics", response_class=Response)
def metrics(ctx: Ctx) -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
