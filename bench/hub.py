"""Hub benchmark: inferences/s and latency through ``POST /v1/infer`` against raw onnxruntime.

    .venv/bin/python bench/hub.py [--requests 300] [--duration 3] [--concurrency 8]

Starts its own stack (embedded redis-server, the hub under uvicorn, two sprinter
workers; ``tests/hub/stack.py``), uploads the tiny MLP sample model and measures, in one
run and on the same model and inputs:

- raw onnxruntime: one ``session.run`` per single-row input (CPU, one intra-op thread,
  as the workers run it) — the baseline;
- the hub, sequential: one request at a time (latency p50/p99) with 1 and 2 workers;
- the hub, concurrent: ``--concurrency`` requests in flight for ``--duration`` seconds
  (throughput) with 1 and 2 workers;
- the SDK (``hub_client.HubClient``, receipts verified locally), sequential;
- the hub, sequential, with 2 workers while one of them runs a model that would loop
  forever (``--no-abuse`` skips it): honest latency next to a job being cut off by the
  sprinter's time limit, to compare with the plain 2-worker row.

Every request carries a fresh random input: the hub answers a request whose result it
still holds from Redis without running the model, which would measure a cache.
The table ends with the per-request overhead of the hub path (hub p50 minus raw p50)
and the throughput ratio. Finishes in well under two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.hub.stack, the stack the integration tests run

from hub_client import HubClient
from neurostack.hub.inference import OFF_CHAIN_CHAIN_ID
from neurostack.hub.samples import sample_model_path
from neurostack.protocol import job_keys as keys
from tests.hub.hostile_models import endless_loop
from tests.hub.stack import HubStack

MODEL = "mlp_regressor"


@dataclass
class Row:
    path: str
    workers: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_row(path: str, workers: str, samples: list[float]) -> Row:
    return Row(
        path, workers, len(samples), len(samples) / sum(samples),
        percentile(samples, 0.5) * 1e3, percentile(samples, 0.99) * 1e3,
    )  # fmt: skip


def inputs(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    return [rng.normal(size=(1, 4)).astype(np.float32) for _ in range(n)]


def time_each(calls: list[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def bench_raw(xs: list[np.ndarray]) -> Row:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        str(sample_model_path(MODEL)), options, providers=["CPUExecutionProvider"]
    )
    for x in xs[:20]:
        session.run(None, {"x": x})
    return latency_row(
        "raw onnxruntime", "-", time_each([lambda x=x: session.run(None, {"x": x}) for x in xs])
    )


def bench_sequential(url: str, cid: str, xs: list[np.ndarray], workers: str) -> Row:
    with httpx.Client(base_url=url, timeout=30) as client:

        def call(x: np.ndarray) -> None:
            response = client.post("/v1/infer", json={"modelCID": cid, "input": {"x": x.tolist()}})
            response.raise_for_status()

        return latency_row(
            "hub POST /v1/infer, 1 in flight", workers, time_each([lambda x=x: call(x) for x in xs])
        )


def bench_floor(url: str, redis_url: str, n: int) -> list[Row]:
    """What any hub request pays before a model runs: an HTTP round trip to the API and a
    Redis round trip (a job needs several: send, result write, notify, read)."""
    import redis

    with httpx.Client(base_url=url, timeout=30) as client:
        http = time_each([lambda: client.get("/health").raise_for_status()] * n)
    r = redis.Redis.from_url(redis_url)
    try:
        rtt = time_each([r.ping] * n)
    finally:
        r.close()
    return [
        latency_row("floor: HTTP GET /health", "-", http),
        latency_row("floor: Redis PING", "-", rtt),
    ]


def group_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and the processes of the
    process group it leads (the stack starts each service in its own group); Linux /proc
    only (0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        # after the name: state ppid pgrp ... utime (12th) stime (13th)
        if int(fields[2]) == pid or stat.parent.name == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def cpu_per_request(stack: HubStack, run: Callable[[], Row]) -> tuple[Row, dict[str, float]]:
    """``run()``'s row and the CPU milliseconds each process spent per request meanwhile:
    on a shared 2-core machine latency follows CPU time, and CPU time is far steadier
    between runs than latency."""
    groups = {"API": stack.api.pid if stack.api else 0, "Redis": stack.redis.pid or 0}
    groups |= {f"worker {n}": w.proc.pid for n, w in stack.workers.items() if w.proc}
    before = {name: group_cpu_seconds(pid) for name, pid in groups.items()}
    client_before = sum(os.times()[:2])
    row = run()
    spent = {name: group_cpu_seconds(pid) - before[name] for name, pid in groups.items()}
    spent["bench client"] = sum(os.times()[:2]) - client_before
    return row, {name: s / row.requests * 1e3 for name, s in spent.items()}


def bench_sdk(url: str, cid: str, xs: list[np.ndarray], workers: str) -> Row:
    with HubClient(url) as hub:
        samples = time_each([lambda x=x: hub.infer(cid, {"x": x}) for x in xs])
    return latency_row("SDK infer + verify, 1 in flight", workers, samples)


def bench_concurrent(
    url: str, cid: str, rng: np.random.Generator, workers: str, concurrency: int, duration: float
) -> Row:
    async def main() -> list[float]:
        samples: list[float] = []
        end = time.perf_counter() + duration
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

            async def loop() -> None:
                while time.perf_counter() < end:
                    x = rng.normal(size=(1, 4)).astype(np.float32)
                    start = time.perf_counter()
                    r = await client.post(
                        "/v1/infer", json={"modelCID": cid, "input": {"x": x.tolist()}}
                    )
                    r.raise_for_status()
                    samples.append(time.perf_counter() - start)

            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(concurrency)))
            samples.append(-(time.perf_counter() - started))  # wall time, split off below
        return samples

    samples = asyncio.run(main())
    wall = -samples.pop()
    row = latency_row(f"hub POST /v1/infer, {concurrency} in flight", workers, samples)
    row.per_second = len(samples) / wall
    return row


def bench_beside_abuse(stack: HubStack, cid: str, xs: list[np.ndarray], tmp: Path) -> Row:
    """Sequential honest requests while the other worker runs an endless Loop (until the
    sprinter's job_time_limit stops it); waits for that cut-off before returning."""
    path = tmp / "endless_loop.onnx"
    path.write_bytes(endless_loop())
    loop_cid = stack.upload(path)["cid"]
    body = {"modelCID": loop_cid, "input": {"x": [[1.0, 1.0, 1.0, 1.0]]}}
    job = httpx.post(stack.url + "/v1/infer?wait=false", json=body, timeout=30).json()["jobId"]
    r = stack.redis_client()
    try:
        while not r.hgetall(keys.running_key(OFF_CHAIN_CHAIN_ID, job)):
            time.sleep(0.01)
        row = bench_sequential(stack.url, cid, xs, "2")
        row.path = "hub, 1 in flight, beside a loop"
        if httpx.get(f"{stack.url}/v1/jobs/{job}", timeout=10).json()["status"] != "pending":
            print("note: the looping job ended before the honest requests did")
        while httpx.get(f"{stack.url}/v1/jobs/{job}", timeout=10).json()["status"] == "pending":
            time.sleep(0.2)
    finally:
        r.close()
    return row


def stop_worker(stack: HubStack, name: str) -> None:
    worker = stack.workers[name]
    assert worker.proc is not None
    os.killpg(worker.proc.pid, signal.SIGTERM)  # Celery's warm shutdown
    worker.proc.wait(timeout=30)
    worker.proc = None


def warm_up(url: str, cid: str, rng: np.random.Generator) -> None:
    """Load the model into every worker's session cache before timing anything."""

    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for _ in range(3):
                await asyncio.gather(*(
                    client.post("/v1/infer", json={"modelCID": cid, "input": {"x": x.tolist()}})
                    for x in inputs(rng, 8)
                ))  # fmt: skip

    asyncio.run(main())


def print_table(rows: list[Row]) -> None:
    header = f"{'path':<36} {'workers':>7} {'requests':>8} {'inf/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.path:<36} {r.workers:>7} {r.requests:>8} {r.per_second:>9.1f} "
            f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per row")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per concurrent row")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--pool", help="the workers' Celery pool (default: the CLI's)")
    parser.add_argument("--no-abuse", action="store_true", help="skip the row beside a loop")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    # Shared machines: the load beside the benchmark moves every latency; print it.
    load_before = f"{os.getloadavg()[0]:.1f}"
    rows = [bench_raw(inputs(rng, max(args.requests, 1000)))]
    with (
        tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp,
        HubStack(
            Path(tmp),
            workers=2,
            pool=args.pool,
            # long enough for the honest row beside the looping job on a loaded machine
            worker_options=[] if args.no_abuse else ["--job-time-limit", "20"],
        ) as stack,
    ):
        cid = stack.upload(sample_model_path(MODEL))["cid"]
        warm_up(stack.url, cid, rng)
        rows.extend(bench_floor(stack.url, stack.redis_url, args.requests))
        two = [
            bench_sequential(stack.url, cid, inputs(rng, args.requests), "2"),
            bench_concurrent(stack.url, cid, rng, "2", args.concurrency, args.duration),
            bench_sdk(stack.url, cid, inputs(rng, args.requests), "2"),
        ]
        if not args.no_abuse:
            xs = inputs(rng, min(args.requests, 100))
            two.append(bench_beside_abuse(stack, cid, xs, Path(tmp)))
            warm_up(stack.url, cid, rng)  # the looping worker's new sandbox loads the model
        stop_worker(stack, "w1")  # the 1-worker rows: w0 alone, already warm
        seq1, cpu = cpu_per_request(
            stack, lambda: bench_sequential(stack.url, cid, inputs(rng, args.requests), "1")
        )
        rows.append(seq1)
        rows.append(bench_concurrent(stack.url, cid, rng, "1", args.concurrency, args.duration))
        rows.extend(two)
    print(
        f"load average before/after: {load_before} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print_table(rows)
    raw, seq1 = rows[0], rows[3]
    best = max((r for r in rows if r.path.startswith("hub")), key=lambda r: r.per_second)
    print()
    print(
        f"per-request overhead of the hub path (p50, 1 worker): {seq1.p50_ms - raw.p50_ms:.2f} ms"
    )
    print(
        "CPU per request (1 worker, 1 in flight): "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items())
        + f"; total {sum(cpu.values()):.2f} ms"
    )
    print(
        f"raw onnxruntime / hub throughput: {raw.per_second / best.per_second:.0f}x "
        f"(best hub row: {best.per_second:.0f} inf/s, {best.workers} workers)"
    )
    beside = [r for r in rows if r.path.endswith("beside a loop")]
    if beside:
        alone = next(r for r in rows if r.path.startswith("hub POST") and r.workers == "2")
        print(
            f"honest p50 beside a looping job / alone (2 workers): "
            f"{beside[0].p50_ms / alone.p50_ms:.2f}"
        )


if __name__ == "__main__":
    main()
