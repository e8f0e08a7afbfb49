"""The composition root of the RPC: builds the FastAPI app and runs it under uvicorn.

``/`` answers JSON-RPC over HTTP POST and upgrades to WebSocket on the same path, like
geth and anvil. ``GET /health`` is a readiness probe and ``GET /metrics`` serves
Prometheus metrics. Browser origins are allowed by ``[rpc] cors_origins`` (localhost
by default, :mod:`~sequencer.rpc.origins`): an unlisted origin is refused for ``POST /``
and for WebSocket handshakes, not merely denied the CORS headers.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Self

import uvicorn
from anyio import to_thread
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from . import (
    access_list,
    accounts,
    debug,
    dev,
    eth,
    fork,
    net,
    neuro,
    proof,
    simulate,
    txpool,
    web3,
)
from .coalesce import Coalescer
from .context import RpcContext
from .dispatch import MAX_BATCH, Dispatcher, Method
from .errors import NotificationsUnsupported
from .filters import FilterRegistry
from .http import JsonRpcEndpoint, RpcApp
from .metrics import CallStats, rpc_registry
from .origins import OriginPolicy
from .ws import SubscriptionHub, refuse_websocket, serve_websocket

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("sequencer.rpc")

MAX_BODY_BYTES = 5 * 1024 * 1024  # geth's default HTTP body limit
CLIENT_NAME = "NeuroStack"


def _client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("neurostack")
    except PackageNotFoundError:
        release = "dev"
    import platform

    return f"{CLIENT_NAME}/v{release}/python{platform.python_version()}"


def _any_value(value: Any) -> Any:
    return value


def _http_only_stub(ctx: Any, *args: Any) -> Any:
    raise NotificationsUnsupported()


def method_table(dev_powers: dev.DevPowers | None) -> dict[str, Method]:
    """Every method the node serves over HTTP (WebSocket adds the subscription pair); the
    dev methods only when given the node's dev object."""
    methods: dict[str, Method] = {**web3.METHODS, **net.METHODS, **eth.METHODS, **neuro.METHODS}
    for table in (access_list, accounts, debug, fork, proof, simulate, txpool):
        methods.update(table.METHODS)
    for name in ("eth_subscribe", "eth_unsubscribe"):
        methods[name] = Method(name, _http_only_stub, (_any_value,) * 2, 0)
    if dev_powers is not None:
        methods.update(dev.dev_methods(dev_powers))
    return methods


def create_app(
    node: Node,
    *,
    dev_methods: bool | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
) -> RpcApp:
    """The RPC app for ``node``. The dev methods are served when the node has them
    (``node.dev``, from ``[rpc] dev_methods``); ``dev_methods=False`` leaves them out."""
    config = node.config
    dev_powers = node.dev if dev_methods is not False else None
    filters = FilterRegistry(node, config.rpc.max_logs_range, max_filters=config.rpc.max_filters)
    ctx = RpcContext(node, config, filters, _client_version())
    methods = method_table(dev_powers)
    ctx.served = frozenset(methods)
    stats = CallStats(lambda name: name in methods or name in ("eth_subscribe", "eth_unsubscribe"))
    dispatcher = Dispatcher(methods, ctx, max_batch=max_batch, record=stats.record)
    hub = SubscriptionHub(
        max_connections=config.rpc.max_ws_connections,
        max_subscriptions=config.rpc.max_subscriptions_per_connection,
    )
    origins = OriginPolicy(config.rpc.cors_origins)
    registry = rpc_registry(node, stats, lambda: len(hub.connections))
    node.add_block_listener(hub.on_block)
    node.add_pending_listener(hub.on_pending)
    node.add_pending_listener(filters.on_pending)

    coalescer = Coalescer(dispatcher, max_batch)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        hub.loop = asyncio.get_running_loop()
        coalescer.start(hub.loop)
        try:
            yield
        finally:
            hub.loop = None
            await to_thread.run_sync(coalescer.stop)

    app = RpcApp(
        title="Neuro Stack node JSON-RPC", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.dispatcher = dispatcher
    app.state.subscriptions = hub
    # RpcApp answers POST / with this before FastAPI's middleware and routing (http.py says
    # why); the route stays so the app's route table still describes it.
    app.json_rpc = JsonRpcEndpoint(dispatcher, max_body_bytes, coalescer, origins)

    async def rpc_ws(websocket: WebSocket) -> None:
        origin = websocket.headers.get("origin")
        if origin is not None and not origins.allows(origin.encode("latin-1")):
            await refuse_websocket(websocket, 403, origins.refusal(origin.encode("latin-1")))
            return
        await serve_websocket(websocket, dispatcher, hub)

    async def health(request: Request) -> Response:
        head = await to_thread.run_sync(node.resolve_tag, "latest")
        return JSONResponse({"status": "ok", "chainId": node.chain_id, "head": head})

    async def metrics(request: Request) -> Response:
        body = await to_thread.run_sync(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.router.routes.extend(
        [
            Route("/", app.json_rpc, methods=["POST"]),
            WebSocketRoute("/", rpc_ws),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if origins.any else [],
        allow_origin_regex=None if origins.any else origins.regex,
        allow_methods=["POST", "GET", "OPTIONS"],
        allow_headers=["*"],
    )
    return app


class _Server(uvicorn.Server):
    """uvicorn that stops gracefully on SIGINT/SIGTERM and then simply returns.

    Stock uvicorn re-raises the signal after shutdown, which would kill the process
    before the caller flushes the node; here the caller gets control back instead.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_exit(signum: int, frame: Any) -> None:
            if self.should_exit and signum == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        previous = {
            sig: signal.signal(sig, request_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _uvicorn_config(app: FastAPI, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,  # one line per request would cost more than the request itself
        ws_max_size=MAX_BODY_BYTES,
        ws_ping_interval=30.0,
        lifespan="on",
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def serve(
    node: Node,
    host: str = "127.0.0.1",
    port: int = 8545,
    *,
    dev_methods: bool | None = None,
    log_level: str = "warning",
    announce: Callable[[str, int], None] | None = None,
) -> None:
    """Serve the RPC in this thread until SIGINT/SIGTERM, then return (node left running).
    ``announce(host, port)`` is called once the socket is bound (``port=0``: a free one)."""
    app = create_app(node, dev_methods=dev_methods)
    server = _Server(_uvicorn_config(app, log_level))
    sock = _bind(host, port)
    if announce is not None:
        announce(*sock.getsockname()[:2])
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class RpcServer:
    """The RPC served from a background thread: for tests and for supervisors.

    ``port=0`` picks a free port; ``url``/``ws_url`` tell where it listens once started.
    """

    def __init__(
        self,
        node: Node,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        dev_methods: bool | None = None,
        log_level: str = "warning",
    ) -> None:
        self.app = create_app(node, dev_methods=dev_methods)
        self._server = _Server(_uvicorn_config(self.app, log_level))
        self._sock = _bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._run, name="rpc-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the RPC server thread exited during start-up; see the log")
            if waited > timeout:
                raise TimeoutError(f"the RPC server did not start within {timeout} s")
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
