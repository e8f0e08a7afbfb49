"""The HTTP/WebSocket transport under real uvicorn: body cap, CORS, framing, dev gating.

A stub node stands in here because these checks are about the transport only; the same
paths run against a real node in test_eth.py and test_ws.py.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
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


def post(
    server: RpcServer, body: Any, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        server.url,
        content=content,
        headers={"content-type": "application/json", **(headers or {})},
        **kw,
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


def test_cors_preflight_allows_local_pages_by_default(server: RpcServer) -> None:
    reply = httpx.options(
        server.url,
        headers={
            "origin": "http://127.0.0.1:3000",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"


def test_json_rpc_post_carries_the_same_cors_headers_as_other_routes(server: RpcServer) -> None:
    origin = {"origin": "http://localhost:8080"}
    rpc = post(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, headers=origin)
    health = httpx.get(server.url + "health", headers=origin)
    for reply in (rpc, health):
        assert reply.headers["access-control-allow-origin"] == "http://localhost:8080"
        assert reply.headers["vary"] == "Origin"
    assert (
        "access-control-allow-origin"
        not in post(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).headers
    )


def test_invalid_streamed_body_over_the_cap_is_413(server: RpcServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies as bytes arrive
        yield b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["'
        for _ in range(6):
            yield b"a" * (1 << 20)
        yield b'"]}'

    reply = httpx.post(server.url, content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == -32600
    assert post(server, {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId"}).status_code == 200


def test_invalid_http_method_on_the_rpc_path_is_405(server: RpcServer) -> None:
    assert httpx.get(server.url).status_code == 405
    assert httpx.put(server.url, content=b"{}").status_code == 405


def test_invalid_dispatcher_bug_is_a_plain_500_and_the_server_keeps_serving(
    server: RpcServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(payload: Any) -> bytes:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(server.app.json_rpc.dispatcher, "handle_json", broken)
    reply = post(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert reply.status_code == 500 and b"secret detail" not in reply.content
    assert "secret detail" in caplog.text  # the operator sees it in the log
    monkeypatch.undo()
    assert post(server, {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId"}).status_code == 200


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


SERVE_SCRIPT = """
import sys
from pathlib import Path
from sequencer.config import ChainConfig
from sequencer.node import Node
from sequencer.rpc import serve

config = ChainConfig.model_validate({"chain": {"name": "serve", "chain_id": 777, "block_time": 0}})
config.root = Path(sys.argv[1])
node = Node(config)
node.start()
serve(node, "127.0.0.1", int(sys.argv[2]))
print("serve returned", flush=True)
node.stop()
print("node stopped", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_gracefully_and_returns_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, str(tmp_path), str(port)],
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        assert health["chainId"] == 777
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err[-2000:]
        assert out.splitlines() == ["serve returned", "node stopped"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
