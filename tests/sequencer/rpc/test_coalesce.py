"""Concurrent single requests for a batchable method are answered together, each its own reply.

The unit tests drive :class:`Coalescer` on a real event loop with a small method table; the
integration test sends concurrent ``eth_sendRawTransaction`` requests over HTTP to a real
node: each gets its own answer, and the transactions that queued up share a journal fsync.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from sequencer.errors import TransactionRejected
from sequencer.rpc.coalesce import Coalescer
from sequencer.rpc.dispatch import Dispatcher, MethodTable
from sequencer.rpc.params import quantity

from .conftest import Rpc, sign


class Gate:
    """A context whose batch handler waits at a gate, so requests pile up behind it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.runs: list[list[int]] = []
        self.crash: Exception | None = None


def _store_many(ctx: Gate, calls: list[list[int]]) -> list[object]:
    ctx.entered.set()
    ctx.open.wait(10)
    if ctx.crash is not None:
        raise ctx.crash
    ctx.runs.append([value for (value,) in calls])
    return [TransactionRejected("odd") if v % 2 else hex(v * 10) for (v,) in calls]


TABLE = MethodTable()


@TABLE.method("test_store", quantity, batch=_store_many)
def _store(ctx: Gate, value: int) -> str:
    (reply,) = _store_many(ctx, [[value]])
    if isinstance(reply, Exception):
        raise reply
    return str(reply)


@TABLE.method("test_echo", quantity)
def _echo(ctx: Gate, value: int) -> str:
    return hex(value)


def request(req_id: int, value: int, method: str = "test_store") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "method": method, "params": [hex(value)]}


async def _submit_while_gated(gate: Gate, values: list[int]) -> list[Any]:
    coalescer = Coalescer(Dispatcher(TABLE, gate), max_group=100)
    coalescer.start(asyncio.get_running_loop())
    try:
        first = asyncio.ensure_future(coalescer.submit(request(0, values[0])))
        await asyncio.to_thread(gate.entered.wait, 10)  # the first one holds the thread
        rest = [
            asyncio.ensure_future(coalescer.submit(request(i, v)))
            for i, v in enumerate(values[1:], start=1)
        ]
        await asyncio.sleep(0.05)
        gate.open.set()
        replies = await asyncio.wait_for(asyncio.gather(first, *rest, return_exceptions=True), 10)
    finally:
        await asyncio.to_thread(coalescer.stop)
    return [r if isinstance(r, BaseException) else json.loads(r) for r in replies]


def test_requests_queued_together_are_answered_as_one_run_each_with_its_reply() -> None:
    gate = Gate()
    replies = asyncio.run(_submit_while_gated(gate, [2, 4, 5, 6]))
    assert gate.runs == [[2], [4, 5, 6]]
    assert replies == [
        {"jsonrpc": "2.0", "id": 0, "result": "0x14"},
        {"jsonrpc": "2.0", "id": 1, "result": "0x28"},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": -32000, "message": "odd"}},
        {"jsonrpc": "2.0", "id": 3, "result": "0x3c"},
    ]


def test_invalid_batch_handler_crash_answers_each_queued_request_with_an_internal_error() -> None:
    gate = Gate()
    gate.crash = KeyError("boom")
    replies = asyncio.run(_submit_while_gated(gate, [2, 4, 6]))
    assert [r["error"]["code"] for r in replies] == [-32603, -32603, -32603]


def test_only_single_requests_for_batchable_methods_are_coalesced() -> None:
    coalescer = Coalescer(Dispatcher(TABLE, Gate()), max_group=10)
    assert coalescer.wants(request(1, 2))
    assert not coalescer.wants(request(1, 2, method="test_echo"))
    assert not coalescer.wants([request(1, 2)])  # a batch is already one call
    assert not coalescer.wants({"jsonrpc": "2.0", "id": 1, "method": 5})


@pytest.mark.slow
def test_concurrent_raw_transactions_over_http_share_one_fsync(
    rpc: Rpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    w3 = rpc.w3
    raws = [sign(rpc, account) for account in rpc.accounts]
    coalescer = rpc.server.app.json_rpc.coalescer
    real_fsync = os.fsync
    fsyncs: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])

    def send(raw: bytes) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                "params": ["0x" + raw.hex()]}  # fmt: skip
        return httpx.post(rpc.url, json=body, timeout=30).json()

    dispatcher = coalescer._dispatcher
    groups: list[int] = []
    answer_together = dispatcher.handle_together

    def recording(requests: list[Any]) -> list[bytes | None]:
        groups.append(len(requests))
        return answer_together(requests)

    monkeypatch.setattr(dispatcher, "handle_together", recording)
    # hold the node until every request has reached the coalescer: the first group waits
    # for the node, the rest queue up behind it (the pool exits after the lock is released)
    with ThreadPoolExecutor(len(raws)) as pool, rpc.node._lock:
        futures = [pool.submit(send, raw) for raw in raws]
        deadline = time.monotonic() + 10
        while sum(groups) + coalescer._queue.qsize() < len(raws):
            assert time.monotonic() < deadline, "the requests did not reach the coalescer"
            time.sleep(0.01)
    replies = [f.result() for f in futures]
    monkeypatch.undo()
    for raw, reply in zip(raws, replies, strict=True):
        assert reply["result"] == "0x" + w3.keccak(raw).hex().removeprefix("0x")
    assert sum(groups) == len(raws) and len(groups) <= 2
    assert len(fsyncs) == len(groups)  # one journal fsync per group, not per transaction
    rpc.mine()
    for reply in replies:
        assert w3.eth.get_transaction_receipt(reply["result"])["status"] == 1
