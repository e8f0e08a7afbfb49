"""JSON-RPC over HTTP and WebSocket (FastAPI/uvicorn): the node's Ethereum-compatible API.

Public surface: :func:`create_app`, :func:`serve` and :class:`RpcServer`. See docs/rpc.md.
"""

from .server import RpcServer, create_app, serve

__all__ = ["RpcServer", "create_app", "serve"]
