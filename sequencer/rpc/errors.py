"""Errors of the JSON-RPC layer, each carrying the JSON-RPC error code geth would send.

Tree::

    RpcError(SequencerError)                 code + message (+ data) sent to the client
    ├── ParseError            -32700         the body is not JSON
    ├── InvalidRequest        -32600         not a JSON-RPC 2.0 request object, empty or too large batch
    │   └── RequestTooLarge   -32600         the HTTP body passes the size cap (sent with HTTP 413)
    ├── MethodNotFound        -32601         unknown method, or a dev method on a chain without them
    │   ├── NotificationsUnsupported -32601  eth_subscribe over HTTP
    │   └── UnknownSubscription   -32601     eth_subscribe to a kind that does not exist
    ├── InvalidParams(ValueError) -32602     wrong parameter count or type (geth's wording)
    ├── InternalError         -32603         an unexpected exception; details go to the log only
    ├── ServerError           -32000         the node refused (nonce too low, header not found, ...)
    ├── LimitExceeded         -32005         a query passes a configured cap (eth_getLogs range)
    ├── UnsupportedFork       -38005         a method of a fork after Prague (eth_getBlockAccessList)
    ├── SimulationError       -380xx, -32015 eth_simulateV1's codes (execution-apis error groups:
    │                                        nonce, fee, gas, block order, client limits)
    └── RevertError           3              execution reverted; revert data in ``data``

Node errors (``sequencer.errors``) are mapped onto this tree in one place,
:func:`sequencer.rpc.dispatch.error_from_exception`.
"""

from __future__ import annotations

from typing import Any

from ..errors import SequencerError


class RpcError(SequencerError):
    """An error the client receives as a JSON-RPC ``error`` member."""

    code: int = -32603

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ParseError(RpcError):
    code = -32700


class InvalidRequest(RpcError):
    code = -32600


class RequestTooLarge(InvalidRequest):
    """The body passes the server's size cap; the HTTP layer answers 413 with this error."""


class MethodNotFound(RpcError):
    code = -32601

    def __init__(self, method: str, message: str | None = None) -> None:
        super().__init__(message or f"the method {method} does not exist/is not available")


class NotificationsUnsupported(MethodNotFound):
    """Subscriptions need a WebSocket; geth sends the same code and text over HTTP."""

    def __init__(self) -> None:
        RpcError.__init__(self, "notifications not supported")


class UnknownSubscription(MethodNotFound):
    def __init__(self, kind: str) -> None:
        RpcError.__init__(
            self,
            f'no "{kind}" subscription in eth namespace; use newHeads, logs or newPendingTransactions',
        )


class InvalidParams(RpcError, ValueError):
    code = -32602


class InternalError(RpcError):
    code = -32603


class ServerError(RpcError):
    code = -32000


class LimitExceeded(RpcError):
    code = -32005


class UnsupportedFork(RpcError):
    """The method needs a fork this chain does not run; the Engine API's code for that."""

    code = -38005

    def __init__(self, method: str, fork: str, feature: str) -> None:
        super().__init__(
            f"unsupported fork: {method} needs {feature} ({fork}); this chain runs Prague"
        )


class SimulationError(RpcError):
    """An error with one of the codes execution-apis gives ``eth_simulateV1`` (geth's)."""

    NONCE_TOO_LOW = -38010
    NONCE_TOO_HIGH = -38011
    BASE_FEE_TOO_LOW = -38012
    INTRINSIC_GAS = -38013
    INSUFFICIENT_FUNDS = -38014
    BLOCK_GAS_LIMIT = -38015
    BLOCK_NUMBER = -38020
    BLOCK_TIMESTAMP = -38021
    PRECOMPILE_SELF_MOVE = -38022
    PRECOMPILE_DOUBLE_MOVE = -38023
    CLIENT_LIMIT = -38026
    VM_ERROR = -32015

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class RevertError(RpcError):
    """Execution reverted. ``data`` is the revert data as 0x-hex, as geth sends it."""

    code = 3
