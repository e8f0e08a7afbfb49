"""Explorer index rate vs. the node's block production rate at full transfer load.

One run, everything real and in separate processes: ``neurostack node`` (blocks every
``--block-time`` s), load clients sending pre-signed transfers as fast as the node takes
them (``bench/node.py``'s lean clients, JSON-RPC batches), and ``neurostack explorer``
following the chain. Reported:

- the node's production during the load (blocks/s, transactions/s): the baseline;
- the live explorer's indexing over the same window and its lag when the load ends
  (blocks behind the head) and how long it took to catch up;
- a second explorer started on the finished chain with an empty index (a rebuild, as
  after a reset): its blocks/s and transactions/s when it is never waiting for blocks.

The ratios (explorer transactions/s / node transactions/s) are the figures: the live one
near 1 and a small lag mean it keeps up; the rebuild one is the headroom.
Run: ``python bench/explorer.py [--transfers 6000] [--block-time 0.5]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from node import CHAIN_ID, RPC_BATCH, RPC_CLIENTS, SENDERS, _rpc_client, sign_all

from neurostack.hub.broker import free_port
from sequencer.config import load_chain_config

NEUROSTACK = str(Path(sys.executable).with_name("neurostack"))


def rpc(url: str, method: str, *params: object) -> object:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(url, json=body, timeout=30).json()["result"]


def start(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True,
        start_new_session=True, env={**os.environ, **(env or {})},
    )  # fmt: skip


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_explorer(rpc_url: str, data: Path, logs: Path) -> tuple[subprocess.Popen[str], str]:
    proc = start([NEUROSTACK, "explorer", "--rpc", rpc_url, "--port", "0", "--data-dir",
                  str(data)], logs)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"(http://\S+)", line)
    if not found:
        raise RuntimeError(f"explorer did not start: {line!r}; see {logs}")
    url = found.group(1)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            httpx.get(url + "/health", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("explorer not answering")


def indexed(url: str) -> int:
    head = httpx.get(url + "/health", timeout=10).json()["indexedHead"]
    return -1 if head is None else int(head)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=6000)
    parser.add_argument("--block-time", type=float, default=0.5)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-explorer-"))
    port = free_port()
    (root / "chain.toml").write_text(
        tomli_w.dumps(
            {
                "chain": {
                    "name": "bench",
                    "chain_id": CHAIN_ID,
                    "block_time": args.block_time,
                    "gas_limit": 60_000_000,
                },
                "rpc": {"port": port},
            }
        )
    )
    config = load_chain_config(root / "chain.toml")
    rpc_url = f"http://127.0.0.1:{port}"
    print(f"signing {args.transfers} transfers ...", file=sys.stderr)
    raws = sign_all(config, args.transfers, [0] * SENDERS)
    node = start([NEUROSTACK, "node", "--config", str(root / "chain.toml")], root / "node.log")
    procs = [node]
    try:
        end = time.monotonic() + 60
        while True:
            try:
                rpc(rpc_url, "eth_chainId")
                break
            except (httpx.HTTPError, KeyError):
                if time.monotonic() > end:
                    raise RuntimeError("node not answering") from None
                time.sleep(0.1)
        live, live_url = start_explorer(rpc_url, root / "live", root / "explorer-live.log")
        procs.append(live)

        ready, go = multiprocessing.Semaphore(0), multiprocessing.Event()
        errors: multiprocessing.Queue[str] = multiprocessing.Queue()
        share = [raws[i::RPC_CLIENTS] for i in range(RPC_CLIENTS)]
        clients = [
            multiprocessing.Process(
                target=_rpc_client, args=("127.0.0.1", port, part, RPC_BATCH, ready, go, errors)
            )
            for part in share
        ]
        for c in clients:
            c.start()
        for _ in clients:
            ready.acquire()
        head0, t0 = int(str(rpc(rpc_url, "eth_blockNumber")), 16), time.monotonic()
        go.set()
        lags: list[int] = []  # blocks the live explorer is behind the head, sampled

        def sample() -> int:
            head = int(str(rpc(rpc_url, "eth_blockNumber")), 16)
            lags.append(head - indexed(live_url))
            return head

        while any(c.is_alive() for c in clients):
            sample()
            time.sleep(0.25)
        for c in clients:
            c.join()
        while int(str(rpc(rpc_url, "eth_getBlockTransactionCountByNumber", "pending")), 16):
            sample()
            time.sleep(0.25)
        t1 = time.monotonic()
        head1 = int(str(rpc(rpc_url, "eth_blockNumber")), 16)
        live1 = indexed(live_url)
        while indexed(live_url) < head1:
            time.sleep(0.02)
        caught_up = time.monotonic() - t1
        if not errors.empty():
            raise RuntimeError(f"the node refused transfers: {errors.get()}")
        stop(live)

        rebuild, rebuild_url = start_explorer(
            rpc_url, root / "rebuild", root / "explorer-rebuild.log"
        )
        procs.append(rebuild)
        r0, start_head = time.monotonic(), indexed(rebuild_url)
        while indexed(rebuild_url) < head1:
            time.sleep(0.02)
        rebuild_s = time.monotonic() - r0
        blocks, window = head1 - head0, t1 - t0
        txs = args.transfers
        rebuilt_blocks = head1 - max(start_head, 0)
        node_tps = txs / window
        live_tps = txs / (window + caught_up)  # until the live index held every block
        rebuild_tps = txs / rebuild_s
        print(f"\n{txs} transfers in {blocks} blocks over {window:.1f} s (block time "
              f"{args.block_time} s). The live explorer was behind the head by a median of "
              f"{sorted(lags)[len(lags) // 2]} and at most {max(lags)} blocks during the load "
              f"({len(lags)} samples), {head1 - live1} when it ended, and caught up "
              f"{caught_up:.2f} s later.\n")  # fmt: skip
        print(f"{'what':44} {'txs/s':>7} {'blocks/s':>9}  ratio to the node")
        rows = [
            ("node: production under load (baseline)", node_tps, blocks / window),
            ("explorer live: load start to caught up", live_tps, blocks / (window + caught_up)),
            ("explorer rebuild: empty index, whole chain", rebuild_tps, rebuilt_blocks / rebuild_s),
        ]
        for name, tps, bps in rows:
            print(f"{name:44} {tps:7.0f} {bps:9.2f}  {tps / node_tps:.2f}")
    finally:
        for proc in reversed(procs):
            stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
