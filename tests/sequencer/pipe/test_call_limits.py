"""``eth_call``s that wait for a model: capped, rate-limited per caller, and never able to
starve the node's read RPC. Through real HTTP (uvicorn) against a node with PIPE whose
backend holds every job until the test answers it (a slow hub)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract
from sequencer.pipe.calls import CallLimiter
from sequencer.pipe.errors import InferenceCallsLimited
from sequencer.rpc.server import RpcServer

from .kit import MODEL_CID, Pipe, open_pipe, selector

CAP = 6  # [inference] max_inference_calls in this test
FLOOD = 60  # callers at once, each wanting a model job


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Pipe, str]]:
    pipe = open_pipe(
        tmp_path, deadline=60.0, max_inference_calls=CAP, max_inference_calls_per_caller=CAP,
        inference_calls_per_minute=CAP + 2,
    )  # fmt: skip
    server = RpcServer(pipe.node)
    try:
        server.start()
        yield pipe, server.url
    finally:
        for job in pipe.backend.open_jobs():  # release waiting calls before stopping
            pipe.backend.answer(job)
        server.stop()
        pipe.close()


def _post(client: httpx.Client, url: str, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    reply: dict[str, Any] = client.post(url, json=body, timeout=120).json()
    return reply


def _block_number_latencies(url: str, count: int) -> list[float]:
    out = []
    with httpx.Client() as client:
        for _ in range(count):
            start = time.perf_counter()
            assert "result" in _post(client, url, "eth_blockNumber")
            out.append(time.perf_counter() - start)
    return out


def test_waiting_eth_calls_are_capped_and_reads_stay_responsive(
    served: tuple[Pipe, str], consumer_abi: CompiledContract
) -> None:
    pipe, url = served
    consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", InferenceMode.VANILLA])
    caller = "0x" + pipe.wallets[1].address.hex()

    def call(value: int, method: str = "eth_call") -> dict[str, Any]:
        data = selector(consumer_abi, "predict") + encode(
            ["string", "int128[]", "int128"], [MODEL_CID, [value], 0]
        )
        with httpx.Client() as client:
            return _post(
                client, url, method,
                {"from": caller, "to": "0x" + consumer.hex(), "data": "0x" + data.hex()}, "latest",
            )  # fmt: skip

    baseline = _block_number_latencies(url, 15)
    with ThreadPoolExecutor(FLOOD) as flood:
        futures = [flood.submit(call, value) for value in range(FLOOD)]
        # CAP calls hold a job each; the others are refused at once with -32005
        end = time.monotonic() + 60
        while len(pipe.backend.open_jobs()) < CAP and time.monotonic() < end:
            time.sleep(0.02)
        refused = [f.result(timeout=60) for f in futures if f.done()]
        while len(refused) < FLOOD - CAP and time.monotonic() < end:
            time.sleep(0.02)
            refused = [f.result() for f in futures if f.done()]
        assert len(pipe.backend.open_jobs()) == CAP
        assert len(refused) == FLOOD - CAP
        assert {r["error"]["code"] for r in refused} == {-32005}
        assert all("max_inference_calls" in r["error"]["message"] for r in refused)
        # the node's reads answer while CAP calls still wait for the hub
        during = _block_number_latencies(url, 15)
        assert len(pipe.backend.open_jobs()) == CAP
        assert statistics.median(during) < 20 * statistics.median(baseline) + 0.05
        for job in pipe.backend.open_jobs():
            pipe.backend.answer(job)
        replies = {value: f.result(timeout=60) for value, f in enumerate(futures)}
    answered = [value for value, reply in replies.items() if "result" in reply]
    assert len(answered) == CAP  # the calls that waited got real outputs
    # the per-caller rate (CAP + 2 calls that start a job per minute): two more, then refused;
    # eth_estimateGas runs the call many times, but starts one job and counts once
    results: list[dict[str, Any]] = []
    for value, method in ((1001, "eth_estimateGas"), (1002, "eth_call"), (1003, "eth_call")):
        worker = threading.Thread(target=lambda v=value, m=method: results.append(call(v, m)))
        worker.start()
        end = time.monotonic() + 30
        while worker.is_alive() and not pipe.backend.open_jobs() and time.monotonic() < end:
            time.sleep(0.02)
        for job in pipe.backend.open_jobs():
            pipe.backend.answer(job)
        worker.join(30)
    assert ["result" in r for r in results] == [True, True, False], results
    assert "error" in results[-1], results
    assert results[-1]["error"]["code"] == -32005
    assert "inference_calls_per_minute" in results[-1]["error"]["message"]
    # answers from the receipt cache start no job and are not limited
    cached = call(answered[0])
    assert "result" in cached, cached


def test_call_limiter_caps_per_caller_and_total_and_rates() -> None:
    now = [0.0]
    limiter = CallLimiter(total=3, per_caller=2, per_minute=3, clock=lambda: now[0])
    with limiter.slot("10.0.0.1"), limiter.slot("10.0.0.1"):
        with (
            pytest.raises(InferenceCallsLimited, match="10.0.0.1 has 2 calls waiting"),
            limiter.slot("10.0.0.1"),
        ):
            pass
        with (
            limiter.slot("10.0.0.2"),
            pytest.raises(InferenceCallsLimited, match="limit 3, .*max_inference_calls\\)"),
            limiter.slot("10.0.0.3"),
        ):
            pass
    with limiter.slot("10.0.0.1"):  # its third start within the minute
        pass
    with (
        pytest.raises(InferenceCallsLimited, match="started 3 calls .* retry in 60.0 s"),
        limiter.slot("10.0.0.1"),
    ):
        pass
    now[0] = 61.0
    with limiter.slot("10.0.0.1"):  # a minute later
        pass
    with limiter.slot(None):  # in-process callers share one key
        pass
