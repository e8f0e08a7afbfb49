"""Safe RPC defaults on a real node under real uvicorn: browser origins outside
``[rpc] cors_origins`` cannot call the node (not even blind "simple" POSTs or WebSockets),
and filters and subscriptions are capped with geth-style -32005 errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import Rpc

pytestmark = pytest.mark.slow

EVIL = "https://evil.example"
LOCAL_DAPP = "http://localhost:5173"
METAMASK = "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn"


@pytest.fixture(scope="module")
def capped(rpc_factory: Any) -> Rpc:
    return rpc_factory(
        rpc={
            "cors_origins": ["http://localhost:*", METAMASK, "https://*.mydapp.io"],
            "max_filters": 3,
            "max_subscriptions_per_connection": 2,
            "max_ws_connections": 2,
        }
    )


def _post(rpc: Rpc, body: Any, origin: str | None, content_type: str) -> httpx.Response:
    headers = {"content-type": content_type}
    if origin is not None:
        headers["origin"] = origin
    return httpx.post(rpc.url, content=json.dumps(body), headers=headers, timeout=10)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
def test_invalid_page_of_an_unlisted_origin_cannot_call_dev_methods(
    rpc: Rpc, content_type: str
) -> None:
    """A "simple" text/plain POST needs no preflight: the node must refuse it itself."""
    head = rpc.w3.eth.block_number
    for body in (
        {"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []},
        [{"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}],
    ):
        reply = _post(rpc, body, EVIL, content_type)
        assert reply.status_code == 403
        error = reply.json()["error"]
        assert error["code"] == -32600 and "cors_origins" in error["message"]
        assert "access-control-allow-origin" not in reply.headers
    assert rpc.w3.eth.block_number == head  # nothing was mined
    # the same call from a page on this machine, or from a script, works
    local = _post(rpc, {"jsonrpc": "2.0", "id": 2, "method": "evm_mine"}, LOCAL_DAPP, "text/plain")
    assert local.status_code == 200 and local.json()["result"] == "0x0"
    assert local.headers["access-control-allow-origin"] == LOCAL_DAPP
    assert local.headers["vary"] == "Origin"
    script = _post(
        rpc, {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber"}, None, "text/plain"
    )
    assert int(script.json()["result"], 16) == head + 1
    assert "access-control-allow-origin" not in script.headers


def test_preflight_answers_listed_origins_only(capped: Rpc) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            capped.url,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )

    for origin in (LOCAL_DAPP, METAMASK, "https://app.mydapp.io"):
        ok = preflight(origin)
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == origin
    for origin in (EVIL, "https://mydapp.io.evil.example", "null", "http://localhost.evil.example"):
        assert preflight(origin).status_code == 400, origin
        reply = _post(
            capped, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, origin, "text/plain"
        )
        assert reply.status_code == 403, origin


def test_invalid_websocket_from_an_unlisted_origin_is_refused(capped: Rpc) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(capped.ws_url, origin=EVIL, open_timeout=5)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    for origin in (LOCAL_DAPP, None):
        with connect(capped.ws_url, origin=origin, open_timeout=5) as ws:  # type: ignore[arg-type]
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}))
            assert json.loads(ws.recv(timeout=5))["result"] == hex(31337)


def _call(rpc: Rpc, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    return rpc.request(method, params or [])


def test_invalid_filter_past_the_cap_then_room_after_uninstall(capped: Rpc) -> None:
    ids = [_call(capped, "eth_newBlockFilter")["result"] for _ in range(3)]
    error = _call(capped, "eth_newFilter", [{}])["error"]
    assert error["code"] == -32005 and "rpc.max_filters" in error["message"]
    assert _call(capped, "eth_newPendingTransactionFilter")["error"]["code"] == -32005
    assert _call(capped, "eth_uninstallFilter", [ids[0]])["result"] is True
    ids[0] = _call(capped, "eth_newBlockFilter")["result"]
    assert _call(capped, "eth_getFilterChanges", [ids[1]])["result"] == []
    for filter_id in ids:
        assert _call(capped, "eth_uninstallFilter", [filter_id])["result"] is True


def _subscribe(ws: Any, req_id: int) -> dict[str, Any]:
    ws.send(
        json.dumps(
            {"jsonrpc": "2.0", "id": req_id, "method": "eth_subscribe", "params": ["newHeads"]}
        )
    )
    return json.loads(ws.recv(timeout=5))  # type: ignore[no-any-return]


def test_invalid_subscriptions_and_connections_past_their_caps(capped: Rpc) -> None:
    with connect(capped.ws_url, open_timeout=5) as first:
        assert _subscribe(first, 1)["result"].startswith("0x")
        sub = _subscribe(first, 2)["result"]
        error = _subscribe(first, 3)["error"]
        assert error["code"] == -32005 and "max_subscriptions_per_connection" in error["message"]
        first.send(
            json.dumps({"jsonrpc": "2.0", "id": 4, "method": "eth_unsubscribe", "params": [sub]})
        )
        assert json.loads(first.recv(timeout=5))["result"] is True
        assert _subscribe(first, 5)["result"].startswith("0x")
        with connect(capped.ws_url, open_timeout=5) as second:
            with pytest.raises(InvalidStatus) as refused:
                connect(capped.ws_url, open_timeout=5)
            assert refused.value.response.status_code == 503
            assert b"max_ws_connections" in refused.value.response.body
            second.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}))
            assert "result" in json.loads(second.recv(timeout=5))
    # both closed: there is room again
    with connect(capped.ws_url, open_timeout=5) as again:
        assert _subscribe(again, 1)["result"].startswith("0x")


@pytest.mark.parametrize(("origins", "allowed"), [(["*"], True), ([], False)])
def test_any_origin_and_no_origin_at_all(
    rpc_factory: Any, origins: list[str], allowed: bool
) -> None:
    node = rpc_factory(rpc={"cors_origins": origins})
    reply = _post(
        node, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, LOCAL_DAPP, "text/plain"
    )
    assert (reply.status_code == 200) is allowed
    if allowed:
        assert reply.headers["access-control-allow-origin"] == "*"
