"""JSON-RPC over HTTP POST: the hot path, served as plain ASGI in front of FastAPI.

``POST /`` is almost all of a node's traffic (wallets, scripts, load), and each request is
small, so the framework's per-request work (routing, three layers of middleware, a
``Request`` object, a ``Response`` object) cost as much as the node's own admission of a
transaction. :class:`RpcApp` is the FastAPI app with one change: its ``__call__`` hands
``POST /`` to :class:`JsonRpcEndpoint` before any of that runs. Everything else (WebSocket
upgrades, ``/health``, ``/metrics``, CORS preflights, 404/405, lifespan) goes through
FastAPI as before. The endpoint keeps what the routed version promised:

- the body cap (``Content-Length`` checked first, then the bytes as they arrive): 413 with a
  JSON-RPC ``-32600`` error;
- the origin rule of :mod:`~sequencer.rpc.origins`: a request whose ``Origin`` is not
  allowed is refused (403 with a JSON-RPC ``-32600`` error) before it is read; an allowed
  one gets the CORS answer of the app's ``CORSMiddleware`` (``Access-Control-Allow-Origin``,
  no credentials), and ``Vary: Origin`` is always sent;
- metrics, since the dispatcher counts every call;
- the dispatcher runs off the event loop, so a slow ``eth_call`` never blocks it: in a
  worker thread, or, for a method with a batch handler (``eth_sendRawTransaction``), on the
  :class:`~sequencer.rpc.coalesce.Coalescer`'s thread, which answers requests that queue
  up at the same time together;
- an unexpected exception is logged and answered 500, as Starlette's error middleware does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from ..types import RPC_CALLER
from .coalesce import Coalescer
from .dispatch import Dispatcher
from .errors import InvalidRequest, RequestTooLarge
from .origins import OriginPolicy

log = logging.getLogger("sequencer.rpc")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_VARY = (b"vary", b"Origin")
_ALLOW_ORIGIN = b"access-control-allow-origin"


def too_large_body(limit: int) -> bytes:
    """The JSON-RPC error body sent with HTTP 413."""
    error = RequestTooLarge(
        f"request body too large: the limit is {limit} bytes; send smaller requests or batches"
    )
    return _json_bytes({"jsonrpc": "2.0", "id": None, "error": error.to_json()})


def refused_origin_body(message: str) -> bytes:
    """The JSON-RPC error body sent with HTTP 403 to a caller whose origin is not allowed."""
    error = InvalidRequest(message)
    return _json_bytes({"jsonrpc": "2.0", "id": None, "error": error.to_json()})


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class _ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class JsonRpcEndpoint:
    """ASGI handler for ``POST /``: read the body (capped), dispatch in a thread, answer."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        max_body_bytes: int,
        coalescer: Coalescer | None = None,
        origins: OriginPolicy | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.max_body_bytes = max_body_bytes
        self.coalescer = coalescer  # used while it runs (the app's lifespan starts it)
        self.origins = origins or OriginPolicy()
        self._too_large = too_large_body(max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin: bytes | None = None
        declared = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"origin":
                origin = value
        cors = [_VARY]
        if origin is not None:
            if not self.origins.allows(origin):
                refused = refused_origin_body(self.origins.refusal(origin))
                await _answer(send, 403, refused, cors)
                return
            cors.append((_ALLOW_ORIGIN, self.origins.allow_origin_header(origin)))
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(send, 413, self._too_large, cors)
            return
        try:
            body = await self._read_body(receive)
        except _ClientGone:
            return  # nobody is left to answer
        if body is None:
            await _answer(send, 413, self._too_large, cors)
            return
        client = scope.get("client")
        RPC_CALLER.set(client[0] if client else None)  # per-caller limits (this request's task)
        try:
            reply = await self._dispatch(body)
        except Exception:
            # the dispatcher turns every error into a JSON-RPC answer; this is a bug
            log.exception("unexpected error while serving a JSON-RPC request over HTTP")
            await _answer(send, 500, b"Internal Server Error", cors, b"text/plain; charset=utf-8")
            return
        await _answer(send, 200, reply or b"", cors)

    async def _dispatch(self, body: bytes) -> bytes | None:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self.dispatcher.handle_bytes(body)  # the parse error; no node call
        coalescer = self.coalescer
        if coalescer is not None and coalescer.running and coalescer.wants(payload):
            return await coalescer.submit(payload)
        return await to_thread.run_sync(self.dispatcher.handle_json, payload)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The request body; None once it passes the cap."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                raise _ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]],
    content_type: bytes = b"application/json",
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


class RpcApp(FastAPI):
    """The node's ASGI app: FastAPI, with ``POST /`` answered by :class:`JsonRpcEndpoint`."""

    json_rpc: JsonRpcEndpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        endpoint = self.json_rpc
        if (
            endpoint is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/"
        ):
            await endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
