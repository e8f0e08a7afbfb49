"""The composition root of the hub API: :func:`create_app` is the only place the FastAPI
app is built. It wires the model store, the Celery app (to send jobs), the Redis
client, the job client (:mod:`neurostack.jobs`, the same one chains use) and the
metrics, and maps the hub's errors to HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import neurostack
from neurostack.jobs import AsyncJobClient, BrokerUnavailable, JobClient
from neurostack.protocol import job_keys as keys
from neurostack.protocol.errors import InvalidCID, ProtocolError
from neurostack.protocol.jobs import any_signer

from . import health, identity, inference, registry, zk_api
from .celery_app import make_celery
from .context import HubContext
from .errors import HubError, SettingsError
from .inference import OFF_CHAIN_CHAIN_ID
from .metrics import HubMetrics
from .middleware import BodyLimit, RequestCounter
from .settings import HubSettings
from .store import ModelStore
from .zk_setup import ZkSetupRunner

log = logging.getLogger(__name__)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts) + " (see /docs for the request schema)"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(_: Request, exc: HubError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)})

    @app.exception_handler(InvalidCID)
    async def invalid_cid(_: Request, exc: InvalidCID) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(ProtocolError)
    async def protocol_error(_: Request, exc: ProtocolError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_message(exc)})

    @app.exception_handler(BrokerUnavailable)
    async def job_not_queued(_: Request, exc: BrokerUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(redis.RedisError)
    async def broker_down(_: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("Redis error while serving a request: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"detail": "the hub's broker (Redis) is unavailable; retry shortly"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )


def _read_completed(client: redis.Redis) -> int | None:
    try:
        value = client.get(keys.COMPLETED_TOTAL)
    except redis.RedisError:
        return None
    return int(value or 0)


def create_app(settings: HubSettings) -> FastAPI:
    """The hub API for ``settings`` (which must name a Redis URL)."""
    if not settings.redis_url:
        raise SettingsError("the hub API needs a Redis URL (the CLI starts an embedded one)")
    redis_sync = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    metrics = HubMetrics(lambda: _read_completed(redis_sync))
    celery = make_celery(settings.redis_url, settings, set_as_current=False)
    # Off-chain receipts are for whoever asks; which sprinter keys a consumer trusts is
    # its call (a chain's registry decides for on-chain receipts), so any valid signer.
    jobs = AsyncJobClient(
        JobClient(
            settings.redis_url,
            chain_id=OFF_CHAIN_CHAIN_ID,
            speculative_after=settings.speculative_after,
            celery=celery,
            on_send=lambda kind: metrics.jobs_sent.labels(kind=kind).inc(),
        ),
        any_signer,
    )
    store = ModelStore(settings.store_dir, settings.max_upload_bytes)
    context = HubContext(
        settings=settings,
        store=store,
        celery=celery,
        redis_sync=redis_sync,
        jobs=jobs,
        metrics=metrics,
        zk=ZkSetupRunner(settings, store),
        hub_id=identity.load_hub_id(settings),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        context.zk.start()
        try:
            yield
        finally:
            context.zk.stop()
            await jobs.aclose()
            redis_sync.close()

    app = FastAPI(
        title="Neuro Stack hub",
        version=neurostack.__version__,
        description="Model registry and off-chain inference with signed receipts.",
        lifespan=lifespan,
    )
    app.state.hub = context
    _install_error_handlers(app)

    app.add_middleware(BodyLimit, limit=settings.max_request_bytes, exempt=("/v1/models",))
    app.add_middleware(RequestCounter, metrics=metrics)
    app.include_router(registry.router)
    app.include_router(inference.router)
    app.include_router(health.router)
    app.include_router(zk_api.router)
    app.include_router(identity.router)
    return app
