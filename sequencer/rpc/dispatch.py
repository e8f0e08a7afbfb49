"""JSON-RPC 2.0 dispatch: requests, notifications, batches, and the error mapping.

The dispatcher is transport-free and synchronous: the HTTP and WebSocket layers hand
it raw bytes (in a worker thread, since node calls block) and send back what it returns.
Method tables are plain dicts of :class:`Method`, one per area (``eth.py``, ``net.py``...),
built with :class:`MethodTable` decorators; the server composes them.

A method may also have a batch handler: in a JSON-RPC batch, a run of consecutive calls of
that method is answered by one call of it (``eth_sendRawTransaction``: one journal fsync
for the run instead of one per transaction). Only consecutive calls are grouped, so every
other call in the batch still sees the effects of the calls before it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError

from .. import errors as node_errors
from .errors import (
    InternalError,
    InvalidParams,
    InvalidRequest,
    LimitExceeded,
    MethodNotFound,
    ParseError,
    RevertError,
    RpcError,
    ServerError,
)
from .params import ArgumentError, Parser

log = logging.getLogger("sequencer.rpc")

MAX_BATCH = 1000  # geth's default BatchRequestLimit
_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

# Solidity panic codes as geth prints them (accounts/abi UnpackRevert).
_PANIC_REASONS = {
    0x00: "generic panic",
    0x01: "assert(false)",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "enum overflow",
    0x22: "invalid encoded storage byte array accessed",
    0x31: "out-of-bounds array access; popping on an empty array",
    0x32: "out-of-bounds access of an array or bytesN",
    0x41: "out of memory",
    0x51: "uninitialized function",
}

Handler = Callable[..., Any]
# batch(ctx, [args of call 1, args of call 2, ...]) -> one result or exception per call
BatchHandler = Callable[[Any, list[list[Any]]], list[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC method: its handler ``handler(ctx, *args)`` and its positional parsers.

    The first ``required`` parameters must be present; later ones may be omitted or
    ``null`` and reach the handler as ``None``. ``batch``, if set, answers several calls at
    once with the same results as calling ``handler`` on each in order; it returns an
    exception object in the place of a call that failed.
    """

    name: str
    handler: Handler
    params: tuple[Parser, ...]
    required: int
    batch: BatchHandler | None = None


class MethodTable(dict[str, Method]):
    """A dict of methods with a registering decorator."""

    def method(
        self,
        name: str,
        *params: Parser,
        required: int | None = None,
        batch: BatchHandler | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self[name] = Method(
                name, handler, params, len(params) if required is None else required, batch
            )
            return handler

        return register


def revert_reason(data: bytes) -> str | None:
    """Decode ``Error(string)`` / ``Panic(uint256)`` revert data the way geth prints it."""

    try:
        if data[:4] == _ERROR_SELECTOR:
            return decode(["string"], data[4:])[0]
        if data[:4] == _PANIC_SELECTOR:
            code = decode(["uint256"], data[4:])[0]
            return _PANIC_REASONS.get(code, f"unknown panic code: {code:#x}")
    except DecodingError:  # malformed revert data is still returned raw in `data`
        return None
    return None


def error_from_exception(exc: BaseException) -> RpcError:
    """Map a node exception onto the JSON-RPC error a geth client expects."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, node_errors.ExecutionReverted):
        data = bytes(exc.data or b"")
        message = exc.message or "execution reverted"
        if not data:  # geth: without revert data the error is a plain server error
            return ServerError(message)
        if message == "execution reverted":
            reason = revert_reason(data)
            message = f"execution reverted: {reason}" if reason else message
        return RevertError(message, "0x" + data.hex())
    if isinstance(exc, node_errors.BlockNotFound):
        return ServerError("header not found")
    if isinstance(exc, node_errors.DevMethodsDisabled):
        return MethodNotFound("", message=str(exc))
    if isinstance(exc, node_errors.LimitReached):
        return LimitExceeded(str(exc))
    if isinstance(exc, node_errors.SequencerError):
        return ServerError(str(exc))
    return _internal(exc)


def _internal(exc: BaseException) -> InternalError:
    log.exception("unexpected error while serving an RPC call", exc_info=exc)
    return InternalError(f"internal error ({type(exc).__name__}); the node log has details")


def _error_response(req_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "error": error.to_json()}


class Dispatcher:
    """Runs JSON-RPC payloads against a method table with a shared context object."""

    def __init__(
        self,
        methods: Mapping[str, Method],
        ctx: Any,
        *,
        max_batch: int = MAX_BATCH,
        record: Callable[[str, int], None] | None = None,
    ):
        self.methods = methods
        self.ctx = ctx
        self.max_batch = max_batch
        self.record = record  # called with (method, error code or 0) after each call

    def handle_bytes(
        self, body: bytes | str, extra: Mapping[str, Method] | None = None
    ) -> bytes | None:
        """Decode, dispatch and encode. ``None`` means nothing to send (only notifications)."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _encode(_error_response(None, ParseError("parse error")))
        return self.handle_json(payload, extra)

    def handle_json(self, payload: Any, extra: Mapping[str, Method] | None = None) -> bytes | None:
        """``handle_bytes`` for a body the caller has already decoded."""
        response = self.handle(payload, extra)
        return None if response is None else _encode(response)

    def batchable(self, name: Any) -> bool:
        """Whether ``name`` is a method with a batch handler (worth coalescing)."""
        method = self.methods.get(name) if isinstance(name, str) else None
        return method is not None and method.batch is not None

    def handle_together(self, requests: list[Any]) -> list[bytes | None]:
        """Single requests that arrived separately (from different HTTP clients), answered as
        the items of one batch would be: one encoded reply (or None) per request, in order."""
        return [None if r is None else _encode(r) for r in self._handle_batch(requests, None)]

    def handle(self, payload: Any, extra: Mapping[str, Method] | None = None) -> Any:
        if isinstance(payload, list):
            if not payload:
                return _error_response(None, InvalidRequest("empty batch"))
            if len(payload) > self.max_batch:
                return _error_response(
                    None,
                    InvalidRequest(
                        f"batch too large: {len(payload)} requests, at most {self.max_batch} per batch"
                    ),
                )
            out = [r for r in self._handle_batch(payload, extra) if r is not None]
            return out or None
        return self.handle_one(payload, extra)

    def handle_one(self, request: Any, extra: Mapping[str, Method] | None = None) -> dict | None:
        call = _frame(request)
        if not isinstance(call, _Call):
            return call
        try:
            result = self.call(call.name, call.params, extra)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return self._failed(call, exc)
        return self._succeeded(call, result)

    def call(self, name: str, raw_params: Any, extra: Mapping[str, Method] | None = None) -> Any:
        method = self._lookup(name, extra)
        if method is None:
            raise MethodNotFound(name)
        args = parse_params(method, raw_params)
        return method.handler(self.ctx, *args)

    def _lookup(self, name: str, extra: Mapping[str, Method] | None) -> Method | None:
        return (extra.get(name) if extra else None) or self.methods.get(name)

    def _handle_batch(self, items: list[Any], extra: Mapping[str, Method] | None) -> list[Any]:
        """One reply (or None) per item, in order; runs of a batchable method go together."""
        calls = [_frame(item) for item in items]
        batchable: list[Method | None] = []
        for call in calls:
            method = self._lookup(call.name, extra) if isinstance(call, _Call) else None
            batchable.append(method if method is not None and method.batch is not None else None)
        replies: list[Any] = []
        start = 0
        while start < len(items):
            end = start + 1
            method = batchable[start]
            while method is not None and end < len(items) and batchable[end] is method:
                end += 1
            if method is not None and method.batch is not None and end - start > 1:
                run = [call for call in calls[start:end] if isinstance(call, _Call)]
                replies.extend(self._handle_run(method, method.batch, run))
            else:
                replies.append(self.handle_one(items[start], extra))
            start = end
        return replies

    def _handle_run(
        self, method: Method, batch: BatchHandler, calls: list[_Call]
    ) -> list[dict | None]:
        replies: list[dict | None] = [None] * len(calls)
        parsed: list[tuple[int, list[Any]]] = []
        for index, call in enumerate(calls):
            try:
                parsed.append((index, parse_params(method, call.params)))
            except RpcError as exc:
                replies[index] = self._failed(call, exc)
        if parsed:
            try:
                results = batch(self.ctx, [args for _, args in parsed])
            except Exception as exc:  # noqa: BLE001 - the run failed: each call gets the error
                results = [exc] * len(parsed)
            for (index, _), result in zip(parsed, results, strict=True):
                call = calls[index]
                replies[index] = (
                    self._failed(call, result)
                    if isinstance(result, BaseException)
                    else self._succeeded(call, result)
                )
        return replies

    def _succeeded(self, call: _Call, result: Any) -> dict | None:
        if self.record is not None:
            self.record(call.name, 0)
        return None if call.notification else {"jsonrpc": "2.0", "id": call.id, "result": result}

    def _failed(self, call: _Call, exc: BaseException) -> dict | None:
        error = error_from_exception(exc)
        if self.record is not None:
            self.record(call.name, error.code)
        return None if call.notification else _error_response(call.id, error)


@dataclass(frozen=True, slots=True)
class _Call:
    """A well-formed JSON-RPC request object."""

    id: Any
    name: str
    params: Any
    notification: bool


def _frame(request: Any) -> _Call | dict | None:
    """The call a request object makes, or the reply to a malformed one (None for a
    malformed notification, which gets no reply)."""
    if not isinstance(request, dict):
        return _error_response(None, InvalidRequest("invalid request"))
    is_notification = "id" not in request
    req_id = request.get("id")
    if not isinstance(req_id, (str, int, float, type(None))) or isinstance(req_id, bool):
        return _error_response(
            None, InvalidRequest("invalid request: id must be a string or number")
        )
    name = request.get("method")
    if request.get("jsonrpc") != "2.0" or not isinstance(name, str) or not name:
        error = InvalidRequest('invalid request: need {"jsonrpc": "2.0", "method": ..., "id": ...}')
        return None if is_notification else _error_response(req_id, error)
    return _Call(req_id, name, request.get("params"), is_notification)


def parse_params(method: Method, raw: Any) -> list[Any]:
    """Check count and types of positional params; geth's messages for each failure."""
    if raw is None:
        raw = []
    elif not isinstance(raw, list):
        raise InvalidParams("non-array args")
    if len(raw) > len(method.params):
        raise InvalidParams(f"too many arguments, want at most {len(method.params)}")
    args: list[Any] = []
    for index, parser in enumerate(method.params):
        value = raw[index] if index < len(raw) else None
        if value is None:
            if index < method.required:
                raise InvalidParams(f"missing value for required argument {index}")
            args.append(None)
            continue
        try:
            args.append(parser(value))
        except ArgumentError as exc:
            raise InvalidParams(f"invalid argument {index}: {exc}") from None
    return args


def _encode(response: Any) -> bytes:
    return json.dumps(response, separators=(",", ":")).encode()
