"""eth_subscribe over WebSocket: newHeads, logs and pending transactions from a real node.

One chain here runs its real block producer (block_time 0.2 s), so notifications come
from the producer thread through the listener hand-off to the event loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from web3 import AsyncWeb3, WebSocketProvider
from websockets.sync.client import ClientConnection, connect

from .conftest import Rpc, deploy_counter, sign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(rpc_factory: Any) -> Rpc:
    return rpc_factory(block_time=0.2)


def subscribe(ws: ClientConnection, req_id: int, *params: Any) -> str:
    ws.send(
        json.dumps(
            {"jsonrpc": "2.0", "id": req_id, "method": "eth_subscribe", "params": list(params)}
        )
    )
    reply = json.loads(ws.recv(timeout=5))
    assert reply["id"] == req_id, reply
    return reply["result"]


def notifications(ws: ClientConnection, wanted: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    out = []
    while len(out) < wanted:
        message = json.loads(ws.recv(timeout=timeout))
        assert message["method"] == "eth_subscription"
        out.append(message["params"])
    return out


def heads_seen(headers: list[dict[str, Any]]) -> set[int]:
    return {int(h["number"], 16) for h in headers}


def test_subscriptions_deliver_heads_logs_and_pending(
    live: Rpc, counter_artifact: dict[str, Any]
) -> None:
    counter = deploy_counter(live, counter_artifact)
    with connect(live.ws_url) as ws:
        heads = subscribe(ws, 1, "newHeads")
        logs = subscribe(ws, 2, "logs", {"address": counter.address})
        pending = subscribe(ws, 3, "newPendingTransactions")
        assert len({heads, logs, pending}) == 3

        data = counter.encode_abi("increment", ["ws"])
        tx_hash = live.w3.eth.send_raw_transaction(
            sign(live, live.accounts[1], to=counter.address, value=0, data=data)
        )
        receipt = live.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.05)

        # The deploy block's own head may still arrive (listeners run just after a block is
        # readable); collect until this transaction's three notifications are in.
        got: dict[str, list[Any]] = {heads: [], logs: [], pending: []}
        while not (got[logs] and got[pending] and receipt["blockNumber"] in heads_seen(got[heads])):
            for note in notifications(ws, 1):
                got[note["subscription"]].append(note["result"])
        assert got[pending] == ["0x" + tx_hash.hex()]
        (head,) = [h for h in got[heads] if int(h["number"], 16) == receipt["blockNumber"]]
        assert head["hash"] == "0x" + receipt["blockHash"].hex()
        (log,) = got[logs]
        assert log["transactionHash"] == "0x" + tx_hash.hex()
        assert log["address"] == counter.address.lower()

        ws.send(
            json.dumps({"jsonrpc": "2.0", "id": 4, "method": "eth_unsubscribe", "params": [logs]})
        )
        assert json.loads(ws.recv(timeout=5)) == {"jsonrpc": "2.0", "id": 4, "result": True}


def test_logs_subscription_applies_topic_filter(
    live: Rpc, counter_artifact: dict[str, Any]
) -> None:
    counter = deploy_counter(live, counter_artifact)
    someone = live.accounts[2].address
    with connect(live.ws_url) as ws:
        topic = "0x" + "00" * 12 + someone[2:].lower()
        sub = subscribe(ws, 1, "logs", {"address": counter.address, "topics": [None, topic]})
        heads = subscribe(ws, 2, "newHeads")
        hashes = []
        for index in (1, 2):  # only account 2's increment matches
            data = counter.encode_abi("increment", [f"from {index}"])
            raw = sign(live, live.accounts[index], to=counter.address, value=0, data=data)
            hashes.append(live.w3.eth.send_raw_transaction(raw))
        last_block = max(
            live.w3.eth.wait_for_transaction_receipt(h, timeout=10, poll_latency=0.05)[
                "blockNumber"
            ]
            for h in hashes
        )
        seen: list[dict[str, Any]] = []
        while not any(
            p["subscription"] == heads and int(p["result"]["number"], 16) == last_block
            for p in seen
        ):
            seen += notifications(ws, 1)
        while True:  # a block's logs may follow its head; drain until the socket goes quiet
            try:
                seen += notifications(ws, 1, timeout=0.3)
            except TimeoutError:
                break
        matched = [p["result"] for p in seen if p["subscription"] == sub]
        assert len(matched) == 1
        assert (
            matched[0]["topics"][1] == topic
            and matched[0]["transactionHash"] == "0x" + hashes[1].hex()
        )


def test_web3_async_websocket_subscription(rpc: Rpc) -> None:
    """web3.py's own WebSocket provider on a mine-on-demand chain."""

    async def run() -> dict[str, Any]:
        async with AsyncWeb3(WebSocketProvider(rpc.ws_url)) as w3:
            assert await w3.eth.chain_id == rpc.node.chain_id
            sub_id = await w3.eth.subscribe("newHeads")
            await w3.provider.make_request("evm_mine", [])
            async for message in w3.socket.process_subscriptions():
                assert message["subscription"] == sub_id
                await w3.eth.unsubscribe(sub_id)
                return dict(message["result"])
        raise AssertionError("no notification")

    header = asyncio.run(asyncio.wait_for(run(), timeout=10))
    assert header["number"] == rpc.w3.eth.block_number
