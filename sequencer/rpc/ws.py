"""WebSocket transport and ``eth_subscribe`` / ``eth_unsubscribe``.

A WebSocket connection on ``/`` speaks the same JSON-RPC as HTTP plus subscriptions
(``newHeads``, ``logs``, ``newPendingTransactions``). The node calls its listeners from
its own threads; :class:`SubscriptionHub` formats each event once and hands it to the
event loop with ``loop.call_soon_threadsafe``, which fans it out to the connections'
send queues. A subscription is activated only after the reply carrying its id is
queued, so a client never sees a notification for an id it does not know yet.

Caps (``[rpc]`` in chain.toml): at most ``max_ws_connections`` connections at once (one
more is refused at the handshake, HTTP 503) and ``max_subscriptions_per_connection``
subscriptions each (one more is a ``-32005`` "limit exceeded" error), so no client can
make the node format and queue notifications without bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..types import RPC_CALLER
from .dispatch import Dispatcher, Method
from .errors import InvalidParams, InvalidRequest, LimitExceeded, UnknownSubscription
from .filters import LogCriteria, log_criteria
from .formatters import format_header, format_log
from .params import ArgumentError, string

if TYPE_CHECKING:
    from eth.abc import BlockAPI, ReceiptAPI

log = logging.getLogger("sequencer.rpc.ws")

SEND_QUEUE_LIMIT = 20_000  # a client that stops reading is disconnected, like geth
MAX_CONNECTIONS = 1000  # defaults of [rpc] max_ws_connections / max_subscriptions_per_connection
MAX_SUBSCRIPTIONS = 100
SUBSCRIPTION_KINDS = ("newHeads", "logs", "newPendingTransactions")


@dataclass(slots=True)
class Subscription:
    kind: str
    criteria: LogCriteria | None = None
    active: bool = False


class Connection:
    """One WebSocket client: its subscriptions and its outgoing queue (loop side)."""

    def __init__(self, hub: SubscriptionHub) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(SEND_QUEUE_LIMIT)
        self.subscriptions: dict[str, Subscription] = {}
        self.lock = threading.Lock()
        self.overflowed = False
        self.methods = {
            "eth_subscribe": Method("eth_subscribe", self._subscribe, (string, _any), 1),
            "eth_unsubscribe": Method("eth_unsubscribe", self._unsubscribe, (string,), 1),
        }

    # handlers run in a worker thread (through the dispatcher)
    def _subscribe(self, ctx: Any, kind: str, options: Any) -> str:
        if kind not in SUBSCRIPTION_KINDS:
            raise UnknownSubscription(kind)
        criteria = None
        if kind == "logs":
            try:
                criteria = log_criteria(options if options is not None else {})
            except ArgumentError as exc:
                raise InvalidParams(f"invalid argument 1: {exc}") from None
        sub_id = "0x" + secrets.token_hex(16)
        limit = self.hub.max_subscriptions
        with self.lock:
            if len(self.subscriptions) >= limit:
                raise LimitExceeded(
                    f"too many subscriptions on this connection: at most {limit} "
                    "(rpc.max_subscriptions_per_connection in chain.toml); eth_unsubscribe "
                    "the ones you no longer need"
                )
            self.subscriptions[sub_id] = Subscription(kind, criteria)
        return sub_id

    def _unsubscribe(self, ctx: Any, sub_id: str) -> bool:
        with self.lock:
            return self.subscriptions.pop(sub_id, None) is not None

    # loop side
    def activate(self) -> None:
        with self.lock:
            for sub in self.subscriptions.values():
                sub.active = True

    def push(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            if not self.overflowed:
                log.warning("closing a WebSocket client that stopped reading its notifications")
            self.overflowed = True

    def active(self, kind: str) -> list[tuple[str, Subscription]]:
        with self.lock:
            return [(k, s) for k, s in self.subscriptions.items() if s.active and s.kind == kind]


def _any(value: Any) -> Any:
    return value


def _notification(sub_id: str, result: Any) -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": {"subscription": sub_id, "result": result},
        },
        separators=(",", ":"),
    )


class SubscriptionHub:
    """Bridges node listener threads to WebSocket connections on the event loop."""

    def __init__(
        self, max_connections: int = MAX_CONNECTIONS, max_subscriptions: int = MAX_SUBSCRIPTIONS
    ) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connections: set[Connection] = set()
        self.max_connections = max_connections
        self.max_subscriptions = max_subscriptions

    def _post(self, fn: Any, *args: Any) -> None:
        loop = self.loop
        if loop is None or not self.connections:
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed while the node was still producing
            self.loop = None

    # node threads
    def on_block(self, block: BlockAPI, receipts: list[ReceiptAPI]) -> None:
        if self.loop is None or not self.connections:
            return
        header = block.header
        logs = []
        log_index = 0
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
            for entry in receipt.logs:
                logs.append(
                    (
                        entry.address,
                        entry.topics,
                        format_log(entry, header, tx.hash, tx_index, log_index),
                    )
                )
                log_index += 1
        self._post(self._publish_block, format_header(header), logs)

    def on_pending(self, tx_hash: bytes) -> None:
        self._post(self._publish_pending, "0x" + bytes(tx_hash).hex())

    # event loop
    def _publish_block(self, header: dict[str, Any], logs: list[tuple[bytes, Any, dict]]) -> None:
        for conn in list(self.connections):
            for sub_id, _ in conn.active("newHeads"):
                conn.push(_notification(sub_id, header))
            for sub_id, sub in conn.active("logs"):
                for address, topics, formatted in logs:
                    if sub.criteria is None or sub.criteria.matches(address, topics):
                        conn.push(_notification(sub_id, formatted))

    def _publish_pending(self, tx_hash: str) -> None:
        for conn in list(self.connections):
            for sub_id, _ in conn.active("newPendingTransactions"):
                conn.push(_notification(sub_id, tx_hash))


async def refuse_websocket(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse a WebSocket handshake with an HTTP answer carrying a JSON-RPC error (where
    the server supports the denial-response extension; a bare 403 otherwise)."""
    body = {"jsonrpc": "2.0", "id": None, "error": InvalidRequest(message).to_json()}
    try:
        await websocket.send_denial_response(JSONResponse(body, status_code=status))
    except RuntimeError:
        await websocket.close(code=1008, reason=message[:120])


async def serve_websocket(
    websocket: WebSocket, dispatcher: Dispatcher, hub: SubscriptionHub
) -> None:
    """Run one WebSocket client until it disconnects."""
    if len(hub.connections) >= hub.max_connections:
        await refuse_websocket(
            websocket,
            503,
            f"too many WebSocket connections: at most {hub.max_connections} "
            "(rpc.max_ws_connections in chain.toml); retry later",
        )
        return
    await websocket.accept()
    RPC_CALLER.set(websocket.client.host if websocket.client else None)  # per-caller limits
    conn = Connection(hub)
    hub.connections.add(conn)

    async def sender() -> None:
        try:
            while True:
                message = await conn.queue.get()
                if message is None or conn.overflowed:
                    await websocket.close(code=1008, reason="subscription queue overflow")
                    return
                await websocket.send_text(message)
        except (WebSocketDisconnect, OSError, RuntimeError):
            return  # the client went away; the receive loop sees the disconnect too

    send_task = asyncio.create_task(sender())
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            body = message.get("text")
            if body is None:
                body = (message.get("bytes") or b"").decode("utf-8", "replace")
            reply = await to_thread.run_sync(dispatcher.handle_bytes, body, conn.methods)
            if reply is not None:
                conn.push(reply.decode())
            conn.activate()
            if send_task.done():
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.connections.discard(conn)
        send_task.cancel()
