"""PIPE benchmark: inference transactions in parallel on W sprinters, blocks on time.

    .venv/bin/python bench/pipe.py [--k 8] [--delay 1.0] [--workers 2] [--block-time 1.0]

Starts the whole stack as processes (``tests/e2e/stack.py``: embedded redis-server, hub
API, W sprinter workers that sleep ``--delay`` L seconds per job on top of the real
onnxruntime run, a ``neurostack node --redis-url`` with empty blocks every
``--block-time``), uploads the MLP sample, deploys ModelConsumer, and measures in one run:

1. K inference transactions (distinct inputs and senders, sent at once) with 1 worker:
   submission of the first to inclusion of the last — the sequential baseline measured
   in this run (close to K·L, also shown);
2. the same with W workers: the speedup against (1) (target >= 0.8·W) and against K·L;
3. block intervals while (1) and (2) run, as a node-side poller sees new heads: mean and
   mean and p95 deviation from the block time (target within 10%);
4. ordinary transfers (pre-signed, sent by 3 threads): included per second without and
   with K inference transactions parked at the same time;
5. end-to-end latency of one inference transaction at a time (send to receipt), p50
   against block time + L + 50 ms.

Speculative duplicates are pushed past the run (jobs queue behind one worker by design
in (1)); the fault tests cover them. Every process is stopped on exit, also on errors.
About 75 s with the defaults on 2 shared cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e.stack, the stack the end-to-end tests run

import itertools
from typing import Self

from tests.e2e.stack import CHAIN_ID, GWEI, Options, RollupStack, selector

POLL = 0.005  # seconds between receipt polls


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class HeadWatcher:
    """Records the wall time at which each new block number first answers over RPC."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.arrivals: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        last = -1
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                number = int(http.post(self.url, json=body).json()["result"], 16)
                if number != last:
                    self.arrivals.append((number, time.monotonic()))
                    last = number
                time.sleep(0.01)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def intervals(self) -> list[float]:
        # Skip the first arrival: it was already there when watching started.
        times = [t for _, t in self.arrivals[1:]]
        return [b - a for a, b in itertools.pairwise(times)]


def predict(cid: str, features: list[int]) -> bytes:
    return selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, 3]
    )


def inference_batch(
    stack: RollupStack, senders: list[LocalAccount], consumer: str, cid: str, tag: int
) -> float:
    """Send one inference tx per sender at once (distinct inputs); seconds to the last."""
    start = time.monotonic()
    hashes = [
        stack.send(a, consumer, predict(cid, [tag, i, 1000 + i, -i])) for i, a in enumerate(senders)
    ]
    wait_all(stack, hashes)
    return time.monotonic() - start


def wait_all(stack: RollupStack, hashes: list[str], timeout: float = 300.0) -> None:
    pending = set(hashes)
    end = time.monotonic() + timeout
    while pending:
        for h in list(pending):
            receipt = stack.rpc("eth_getTransactionReceipt", h)
            if receipt is not None:
                assert receipt["status"] == "0x1", receipt
                pending.discard(h)
        if time.monotonic() > end:
            raise TimeoutError(f"{len(pending)} transactions not included after {timeout} s")
        time.sleep(POLL)


def signed_transfers(stack: RollupStack, senders: list[LocalAccount], n: int) -> list[list[str]]:
    """``n`` pre-signed transfers split over ``senders`` (raw hex, in nonce order per sender)."""
    out: list[list[str]] = []
    sink = to_checksum_address("0x" + "ee" * 20)
    for i, account in enumerate(senders):
        nonce = int(stack.rpc("eth_getTransactionCount", account.address, "pending"), 16)
        raws = []
        for j in range(n // len(senders) + (1 if i < n % len(senders) else 0)):
            tx = {
                "chainId": CHAIN_ID, "nonce": nonce + j, "gas": 21_000, "to": sink, "value": 1,
                "maxFeePerGas": 20 * GWEI, "maxPriorityFeePerGas": GWEI, "type": 2,
            }  # fmt: skip
            raws.append("0x" + bytes(account.sign_transaction(tx).raw_transaction).hex())
        out.append(raws)
    return out


def transfer_throughput(stack: RollupStack, batches: list[list[str]]) -> float:
    """Send the batches from one thread each; transfers included per second."""
    last_hashes: list[str] = []

    def push(raws: list[str]) -> None:
        with httpx.Client(timeout=30) as http:
            result = None
            for raw in raws:
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                        "params": [raw]}  # fmt: skip
                reply = http.post(stack.rpc_url, json=body).json()
                assert "error" not in reply, reply
                result = reply["result"]
            last_hashes.append(result)

    threads = [threading.Thread(target=push, args=(raws,)) for raws in batches]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_all(stack, last_hashes)  # a sender's last nonce in: all of its transfers are in
    return sum(len(b) for b in batches) / (time.monotonic() - start)


def single_latencies(
    stack: RollupStack, sender: LocalAccount, consumer: str, cid: str, count: int
) -> list[float]:
    out = []
    for i in range(count):
        start = time.monotonic()
        tx_hash = stack.send(sender, consumer, predict(cid, [777, i, -i, 5]))
        wait_all(stack, [tx_hash])
        out.append(time.monotonic() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=8, help="inference transactions per batch")
    parser.add_argument("--delay", type=float, default=1.0, help="L: seconds each job sleeps")
    parser.add_argument("--workers", type=int, default=2, help="W: sprinter workers")
    parser.add_argument("--block-time", type=float, default=1.0)
    parser.add_argument("--transfers", type=int, default=600)
    parser.add_argument("--latency-samples", type=int, default=8)
    args = parser.parse_args()
    k, delay, workers, block_time = args.k, args.delay, args.workers, args.block_time

    options = Options(
        workers=workers, worker_delay=delay, block_time=block_time, empty_blocks=True,
        deadline=max(60.0, 4 * k * delay), speculative_after=max(60.0, 4 * k * delay),
        accounts=4 + 2 * k,
    )  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="bench-pipe-") as tmp,
        RollupStack(Path(tmp), options) as stack,
    ):
        print(f"stack up: W={workers} workers, L={delay:g} s, K={k}, block time {block_time:g} s")
        cid = stack.upload_sample("mlp_regressor")
        consumer = stack.deploy("ModelConsumer", "x", 0)
        senders = stack.accounts[4 : 4 + k]
        inference_batch(stack, stack.accounts[1:2], consumer, cid, tag=1)  # warm-up

        names = list(stack.sprinters)
        for name in names[1:]:
            stack.kill_worker(name)
        stack.hub.wait_ready(workers=1)
        with HeadWatcher(stack.rpc_url) as heads_one:
            t_one = inference_batch(stack, senders, consumer, cid, tag=2)
        for name in names[1:]:
            stack.start_worker(name, delay)
        stack.hub.wait_ready(workers=workers)
        senders_w = stack.accounts[4 + k : 4 + 2 * k]
        inference_batch(stack, senders_w[:workers], consumer, cid, tag=3)  # warm new workers
        with HeadWatcher(stack.rpc_url) as heads_w:
            t_w = inference_batch(stack, senders_w, consumer, cid, tag=4)
        intervals = heads_one.intervals() + heads_w.intervals()

        payers = stack.accounts[1:4]
        tps_idle = transfer_throughput(stack, signed_transfers(stack, payers, args.transfers))
        batches = signed_transfers(stack, payers, args.transfers)
        loaded = [stack.send(a, consumer, predict(cid, [5, i, 6, 7])) for i, a in
                  enumerate(senders)]  # fmt: skip
        tps_loaded = transfer_throughput(stack, batches)
        wait_all(stack, loaded)

        latencies = single_latencies(stack, stack.accounts[0], consumer, cid, args.latency_samples)

    sequential = k * delay
    deviation = [abs(i - block_time) / block_time for i in intervals]
    p50 = statistics.median(latencies)
    target_latency = block_time + delay + 0.05
    rows: list[tuple[str, str, str]] = [
        (f"K={k} inference txs, 1 worker (measured baseline)", f"{t_one:.2f} s",
         f"K·L = {sequential:.2f} s"),
        (f"K={k} inference txs, W={workers} workers", f"{t_w:.2f} s",
         (f"speedup {t_one / t_w:.2f}x vs 1 worker, {sequential / t_w:.2f}x vs K·L "
         f"(target >= {0.8 * workers:.1f})")),
        ("block interval while inference runs", f"mean {statistics.mean(intervals):.3f} s",
         (f"mean |deviation| {100 * statistics.mean(deviation):.1f}%, "
          f"p95 {100 * percentile(deviation, 0.95):.1f}%, max "
         f"{100 * max(deviation):.1f}% over {len(intervals)} blocks (target 10%)")),
        (f"{args.transfers} transfers, no inference", f"{tps_idle:.0f} tx/s", ""),
        (f"{args.transfers} transfers, {k} inference txs parked", f"{tps_loaded:.0f} tx/s",
         f"ratio {tps_loaded / tps_idle:.2f}"),
        (f"single inference tx, send -> receipt (n={len(latencies)})", f"p50 {p50:.3f} s",
         f"max {max(latencies):.3f} s; target p50 <= {target_latency:.3f} s"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'result':<18}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<18}  {note}")


if __name__ == "__main__":
    main()
