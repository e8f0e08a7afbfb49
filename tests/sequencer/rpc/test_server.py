"""The HTTP/WebSocket transport under real uvicorn: body cap, CORS, framing, dev gating.

A stub node stands in here because these checks are about the transport only; the same
paths run against a real node in test_eth.py and test_ws.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from sequencer.config import ChainConfig
from sequencer.rpc import RpcServer


class StubNode:
    def __init__(self) -> None:
        self.config = ChainConfig.model_validate({"chain": {"name": "stub", "chain_id": 4242}})
        self.chain_id = 4242
        self.listeners: list[Any] = []

    def add_block_listener(self, fn: Any) -> None:
        self.listeners.append(fn)

    def add_pending_listener(self, fn: Any) -> None:
        self.listeners.append(fn)

    def resolve_tag(self, tag: str) -> int:
        return 3


@pytest.fixture(scope="module")
def server() -> Iterator[RpcServer]:
    with RpcServer(StubNode(), dev_methods=False) as srv:
        yield srv


def post(server: RpcServer, body: Any, **kw: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        server.url, content=content, headers={"content-type": "application/json"}, **kw
    )


pytestmark = pytest.mark.slow


def test_http_post_answers_json_rpc(server: RpcServer) -> None:
    reply = post(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert reply.status_code == 200
    assert reply.json() == {"jsonrpc": "2.0", "id": 1, "result": hex(4242)}


def test_invalid_body_over_the_cap_is_413_with_json_rpc_error(server: RpcServer) -> None:
    huge = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["' + b"a" * (6 << 20) + b'"]}'
    reply = post(server, huge)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == -32600
    assert "too large" in reply.json()["error"]["message"]
    # and the server keeps serving
    assert (
        post(server, {"jsonrpc": "2.0", "id": 2, "method": "net_version"}).json()["result"]
        == "4242"
    )


def test_invalid_malformed_json_over_http(server: RpcServer) -> None:
    reply = post(server, b"{not json")
    assert reply.status_code == 200
    assert reply.json()["error"] == {"code": -32700, "message": "parse error"}


def test_batch_of_notifications_gets_empty_reply(server: RpcServer) -> None:
    reply = post(server, [{"jsonrpc": "2.0", "method": "eth_chainId"}])
    assert reply.status_code == 200 and reply.content == b""


def test_cors_preflight_allows_any_origin(server: RpcServer) -> None:
    reply = httpx.options(
        server.url,
        headers={
            "origin": "chrome-extension://metamask",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] in ("*", "chrome-extension://metamask")


def test_invalid_dev_methods_absent_when_disabled(server: RpcServer) -> None:
    error = post(server, {"jsonrpc": "2.0", "id": 1, "method": "evm_mine"}).json()["error"]
    assert error == {
        "code": -32601,
        "message": "the method evm_mine does not exist/is not available",
    }


def test_invalid_subscribe_over_http(server: RpcServer) -> None:
    error = post(
        server, {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
    ).json()
    assert error["error"] == {"code": -32601, "message": "notifications not supported"}


def test_websocket_on_same_path_speaks_json_rpc(server: RpcServer) -> None:
    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "eth_chainId"}))
        assert json.loads(ws.recv(timeout=5)) == {"jsonrpc": "2.0", "id": 9, "result": hex(4242)}
        ws.send("{broken")
        assert json.loads(ws.recv(timeout=5))["error"]["code"] == -32700
        ws.send(
            json.dumps({"jsonrpc": "2.0", "id": 10, "method": "eth_subscribe", "params": ["nope"]})
        )
        error = json.loads(ws.recv(timeout=5))["error"]
        assert error["code"] == -32601 and '"nope"' in error["message"]


def test_health_reports_head(server: RpcServer) -> None:
    assert httpx.get(server.url + "health").json() == {"status": "ok", "chainId": 4242, "head": 3}
