"""Node throughput: raw py-evm batch vs. the node in-process vs. the node through its JSON-RPC.

Three paths apply the same pre-signed transactions (N transfers, then N calls of a small
contract that bumps a counter and emits an event), all in one block:

- ``raw py-evm``: decode the raw bytes, ``MiningChain.mine_all`` on py-evm's in-memory DB.
  The baseline; :func:`raw_batch_seconds` is importable for other benchmarks.
- ``node``: ``Node.send_raw_transaction`` for each (validation, fsync'ed journal) and one
  ``Node.mine()`` (build, persist to SQLite, compact the journal); and the same with
  ``verify_built_blocks`` (the state-transition function run on the built block first);
  then its two halves apart (:func:`node_phase_seconds`): admission of all the
  transactions as one batch, and the ``Node.mine()`` that includes them.
- ``node via RPC``: ``eth_sendRawTransaction`` over HTTP from client processes (one
  keep-alive connection each) to the uvicorn server, then ``evm_mine`` over HTTP.

The figure is the ratio to raw in the same run. Run: ``python bench/node.py [--n 400]``.

``--devnet`` measures the product against anvil instead (:func:`devnet_vs_anvil`): the
devnet ``neurostack up`` starts (Redis, hub, sprinter workers, node, 1-second blocks) and
Foundry's anvil (``node_modules``, pinned in package.json) with the same 1-second blocks,
each given the same load — N EIP-1559 transfers from 4 senders in JSON-RPC batches of 50,
one client process per sender — timed from the first request to the moment every
transaction is included (seen by polling the senders' nonces). The figure is the devnet's
included transactions per second over anvil's, in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eth._utils.address import generate_contract_address
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sequencer.chain.fork import NeuroVM
from sequencer.chain.genesis import genesis_params, genesis_state
from sequencer.chainspec import chain_spec
from sequencer.config import ChainConfig, ChainSection
from sequencer.node import Node

CHAIN_ID = 31337
SENDERS = 9  # dev accounts 1..9; account 0 deploys the contract
RPC_CLIENTS = 4
RPC_BATCH = 20

COUNTER_SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Counter {
    uint256 public count;
    event Bumped(address indexed by, uint256 count);
    function bump() external { count += 1; emit Bumped(msg.sender, count); }
}
"""


def bench_config(root: Path) -> ChainConfig:
    return ChainConfig(
        chain=ChainSection(name="bench", chain_id=CHAIN_ID, block_time=0, gas_limit=60_000_000),
        root=root,
    )


def sign_all(config: ChainConfig, count: int, nonces: list[int], **fields: object) -> list[bytes]:
    """``count`` signed type-2 transactions round-robin over the senders; ``nonces`` advances."""
    keys = [a.private_key for a in config.dev_accounts()[1 : 1 + SENDERS]]
    raws = []
    for i in range(count):
        sender = i % SENDERS
        tx = {
            "chainId": CHAIN_ID,
            "nonce": nonces[sender],
            "to": "0x" + "11" * 20,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 10 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "type": 2,
        }
        tx.update(fields)
        raws.append(bytes(Account.sign_transaction(tx, keys[sender]).raw_transaction))
        nonces[sender] += 1
    return raws


def raw_batch_seconds(config: ChainConfig, setup: Sequence[bytes], raws: Sequence[bytes]) -> float:
    """Seconds raw py-evm takes to decode ``raws`` and mine them in one block (after ``setup``)."""
    chain_cls = MiningChain.configure(vm_configuration=((0, NeuroVM),), chain_id=CHAIN_ID)
    spec = chain_spec(config)
    chain = chain_cls.from_genesis(AtomicDB(), genesis_params(spec), genesis_state(spec))
    decode = chain.get_vm().get_transaction_builder().decode
    if setup:
        chain.mine_all([decode(r) for r in setup], timestamp=1)
    start = time.perf_counter()
    txs = [decode(r) for r in raws]
    _, receipts, _ = chain.mine_all(txs, timestamp=2)
    elapsed = time.perf_counter() - start
    assert len(receipts) == len(raws)
    return elapsed


def node_seconds(node: Node, raws: Sequence[bytes]) -> float:
    start = time.perf_counter()
    for raw in raws:
        node.send_raw_transaction(raw)
    block = node.mine()
    elapsed = time.perf_counter() - start
    assert len(block.transactions) == len(raws), len(block.transactions)
    return elapsed


def node_phase_seconds(node: Node, raws: Sequence[bytes]) -> tuple[float, float]:
    """Seconds of admission (``send_raw_transactions``, as a JSON-RPC batch is admitted)
    and of the one ``Node.mine()`` that includes them: the two per-transfer CPU costs the
    node's one interpreter pays (docs/performance.md, issue 10)."""
    start = time.perf_counter()
    results = node.send_raw_transactions(raws)
    admitted = time.perf_counter()
    block = node.mine()
    mined = time.perf_counter()
    assert all(isinstance(r, bytes) for r in results), results[:3]
    assert len(block.transactions) == len(raws), len(block.transactions)
    return admitted - start, mined - admitted


def _rpc_client(
    host: str, port: int, raws: Sequence[bytes], batch: int, ready: Any, go: Any, errors: Any
) -> None:
    """A load-generating client process: one keep-alive connection; one request per tx, or
    JSON-RPC batches of ``batch`` (ethers v6 batches calls made in the same tick by default).

    The clients share the node's two cores, so they are kept lean: the requests are encoded
    before the clock starts and the replies are read with a minimal HTTP/1.1 reader instead
    of ``http.client`` (measured: 45 instead of 140 us of CPU per request). Every reply is
    still parsed as JSON and checked for errors."""
    requests = []
    for first in range(0, len(raws), batch):
        calls = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_sendRawTransaction",
                "params": ["0x" + raw.hex()],
            }
            for i, raw in enumerate(raws[first : first + batch])
        ]
        body = json.dumps(calls[0] if batch == 1 else calls).encode()
        head = f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        requests.append(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = sock.makefile("rb")
    ready.release()
    go.wait()
    for request in requests:
        sock.sendall(request)
        status = replies.readline()
        length = 0
        while (line := replies.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        reply = json.loads(replies.read(length))
        if not status.startswith(b"HTTP/1.1 200"):
            errors.put(f"HTTP {status!r}")
        for answer in reply if isinstance(reply, list) else [reply]:
            if "error" in answer:
                errors.put(str(answer["error"]))
    sock.close()


def rpc_seconds(node: Node, raws: Sequence[bytes], batch: int = 1) -> float:
    """Clients in separate processes (as a wallet or script would be), so client-side
    JSON and HTTP work does not count against the node; they are connected before timing."""
    from sequencer.rpc.server import RpcServer

    ctx = multiprocessing.get_context("fork")
    with RpcServer(node) as server:
        ready, go, errors = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(
                target=_rpc_client,
                args=(server.host, server.port, raws[i::RPC_CLIENTS], batch, ready, go, errors),
            )
            for i in range(RPC_CLIENTS)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            ready.acquire()
        start = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
        conn = http.client.HTTPConnection(server.host, server.port)
        conn.request("POST", "/", body=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}),
                     headers={"Content-Type": "application/json"})  # fmt: skip
        conn.getresponse().read()
        elapsed = time.perf_counter() - start
        conn.close()
    if not errors.empty():
        raise RuntimeError(f"eth_sendRawTransaction failed: {errors.get()}")
    assert len(node.head().transactions) == len(raws), len(node.head().transactions)
    return elapsed


def measure(n: int, with_rpc: bool, repeat: int = 3) -> list[tuple[str, str, int, float]]:
    from neurostack.solidity import compile_contracts

    counter = compile_contracts({"Counter.sol": COUNTER_SOURCE}, evm_version="prague")["Counter"]
    with tempfile.TemporaryDirectory() as tmp:
        config = bench_config(Path(tmp))
        deployer = config.dev_accounts()[0]
        deploy = bytes(
            Account.sign_transaction(
                {"chainId": CHAIN_ID, "nonce": 0, "data": counter.bytecode, "gas": 500_000,
                 "maxFeePerGas": 10 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2},
                deployer.private_key,
            ).raw_transaction
        )  # fmt: skip
        contract = generate_contract_address(bytes.fromhex(deployer.address[2:]), 0)
        bump = function_signature_to_4byte_selector("bump()")
        nonces = [0] * SENDERS
        transfers = sign_all(config, n, nonces)
        calls = sign_all(config, n, nonces, to=contract, value=0, data=bump, gas=80_000)
        workloads: list[tuple[str, list[bytes], list[bytes]]] = [
            ("transfers", [deploy], transfers),
            ("contract calls", [deploy, *transfers], calls),
        ]
        rows = []
        for name, setup, raws in workloads:
            paths: list[tuple[str, Callable[[Sequence[bytes], Sequence[bytes]], float]]] = [
                ("raw py-evm batch", lambda s, r: raw_batch_seconds(config, s, r)),
                ("node (in-process)", lambda s, r: _on_fresh_node(node_seconds, s, r)),
                ("  ... verifying blocks", lambda s, r: _on_fresh_node(node_seconds, s, r, True)),
                ("  ... admission only", lambda s, r: _on_fresh_node(_admission, s, r)),
                ("  ... Node.mine() only", lambda s, r: _on_fresh_node(_mining, s, r)),
            ]
            if with_rpc:
                paths.append(("node via JSON-RPC", lambda s, r: _on_fresh_node(rpc_seconds, s, r)))
                paths.append(
                    (
                        f"  ... batches of {RPC_BATCH}",
                        lambda s, r: _on_fresh_node(
                            lambda node, txs: rpc_seconds(node, txs, RPC_BATCH), s, r
                        ),
                    )
                )
            best = {label: float("inf") for label, _ in paths}
            for _ in range(repeat):  # interleaved, best of `repeat`: the machine is shared
                for label, run in paths:
                    best[label] = min(best[label], run(setup, raws))
            rows.extend((name, label, n, best[label]) for label, _ in paths)
        return rows


def _admission(node: Node, raws: Sequence[bytes]) -> float:
    return node_phase_seconds(node, raws)[0]


def _mining(node: Node, raws: Sequence[bytes]) -> float:
    return node_phase_seconds(node, raws)[1]


def _on_fresh_node(
    run: Callable[[Node, Sequence[bytes]], float],
    setup: Sequence[bytes],
    raws: Sequence[bytes],
    verify: bool = False,
) -> float:
    """``run`` on a new node; ``verify`` runs the state transition on each block it builds
    (``verify_built_blocks``, off in production, on in the test suite)."""
    with tempfile.TemporaryDirectory() as data:
        node = Node(bench_config(Path(data)), verify_built_blocks=verify)
        try:
            node_seconds(node, setup)
            return run(node, raws)
        finally:
            node.stop()


def print_table(rows: list[tuple[str, str, int, float]]) -> None:
    print(f"{'workload':<16}{'path':<22}{'txs':>6}{'seconds':>10}{'tx/s':>9}{'vs raw':>9}")
    raw: dict[str, float] = {}
    for workload, path, n, seconds in rows:
        tps = n / seconds
        raw.setdefault(workload, tps)
        print(
            f"{workload:<16}{path:<22}{n:>6}{seconds:>10.3f}{tps:>9.0f}{tps / raw[workload]:>9.2f}"
        )


ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
NEUROSTACK = Path(sys.executable).with_name("neurostack")
DEVNET_MNEMONIC = "test test test test test test test test test test test junk"
DEVNET_CHAIN_ID = 424242
DEVNET_SENDERS = 4
SINK = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
DEVNET_BATCH = 50
START_TIMEOUT = 120.0


def _rpc(port: int, method: str, *params: Any) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def _wait_rpc(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            _rpc(port, "eth_chainId")
            return
        except (OSError, RuntimeError):
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not answer on port {port}") from None
            time.sleep(0.1)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (``up`` stops its services), SIGKILL after 60 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _transfer_load(
    port: int, chain_id: int, n: int
) -> tuple[list[list[bytes]], list[tuple[str, int]]]:
    """``n`` signed transfers split over the first DEVNET_SENDERS dev accounts (nonce
    order), and each sender with the nonce it has once all are included."""
    from eth_account import Account as Acc

    Acc.enable_unaudited_hdwallet_features()
    loads, finals = [], []
    for i in range(DEVNET_SENDERS):
        account = Acc.from_mnemonic(DEVNET_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        nonce = int(_rpc(port, "eth_getTransactionCount", account.address, "latest"), 16)
        count = n // DEVNET_SENDERS + (1 if i < n % DEVNET_SENDERS else 0)
        raws = [
            bytes(account.sign_transaction({
                "chainId": chain_id, "nonce": nonce + j, "to": SINK, "value": 1,
                "gas": 21_000, "maxFeePerGas": 20 * 10**9, "maxPriorityFeePerGas": 10**9,
                "type": 2,
            }).raw_transaction)
            for j in range(count)
        ]  # fmt: skip
        loads.append(raws)
        finals.append((account.address, nonce + count))
    return loads, finals


def inclusion_seconds(port: int, chain_id: int, n: int) -> float:
    """Send ``n`` transfers (4 client processes, batches of 50) to the node on ``port``;
    seconds from the first request until every transfer is included."""
    loads, finals = _transfer_load(port, chain_id, n)
    ctx = multiprocessing.get_context("fork")
    ready, go, errors = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=_rpc_client,
            args=("127.0.0.1", port, raws, DEVNET_BATCH, ready, go, errors),
        )
        for raws in loads
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    poll = json.dumps([
        {"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionCount", "params": [a, "latest"]}
        for i, (a, _) in enumerate(finals)
    ])  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    go.set()
    deadline = time.monotonic() + 300
    while True:
        conn.request("POST", "/", body=poll, headers={"Content-Type": "application/json"})
        replies = sorted(json.loads(conn.getresponse().read()), key=lambda r: r["id"])
        if all(
            int(r["result"], 16) >= final for r, (_, final) in zip(replies, finals, strict=True)
        ):
            break
        if time.monotonic() > deadline or not errors.empty():
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    conn.close()
    for p in procs:
        p.join()
    if not errors.empty():
        raise RuntimeError(f"eth_sendRawTransaction failed: {errors.get()}")
    if time.monotonic() > deadline:
        raise TimeoutError("not every transfer was included within 300 s")
    return elapsed


def anvil_seconds(n: int, block_time: float) -> float:
    from neurostack.hub.broker import free_port

    port = free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--block-time", str(block_time),
         "--chain-id", str(DEVNET_CHAIN_ID), "--mnemonic", DEVNET_MNEMONIC,
         "--gas-limit", "30000000", "--silent"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_rpc(port, process, "anvil")
        return inclusion_seconds(port, DEVNET_CHAIN_ID, n)
    finally:
        _stop_group(process)


def devnet_seconds(n: int, block_time: float, workers: int) -> float:
    """The same load on a fresh ``neurostack new`` project under ``neurostack up``."""
    from neurostack.hub.broker import free_port

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        subprocess.run(
            [str(NEUROSTACK), "new", "benchchain", "--no-input", "--output-dir", tmp,
             "--rpc-port", str(port), "--hub-port", str(free_port()),
             "--block-time", str(block_time), "--chain-id", str(DEVNET_CHAIN_ID),
             "--workers", str(workers), "--dev-mnemonic", DEVNET_MNEMONIC],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        project = Path(tmp) / "benchchain"
        log = (project / "up.log").open("wb")
        process = subprocess.Popen(
            [str(NEUROSTACK), "up", "--explorer-port", "0"],
            cwd=project, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while b"Press Ctrl-C to stop." not in (project / "up.log").read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "neurostack up did not start:\n" + (project / "up.log").read_text()
                    )
                time.sleep(0.1)
            return inclusion_seconds(port, DEVNET_CHAIN_ID, n)
        finally:
            _stop_group(process)
            log.close()


def devnet_vs_anvil(
    n: int, block_time: float, workers: int, repeat: int
) -> list[tuple[str, float]]:
    """Interleaved runs (anvil, devnet, anvil, ...); every run's seconds, per path."""
    rows = []
    for _ in range(repeat):
        rows.append(("anvil", anvil_seconds(n, block_time)))
        rows.append(("neurostack up", devnet_seconds(n, block_time, workers)))
    return rows


def print_devnet(rows: list[tuple[str, float]], n: int) -> None:
    print(f"{n} transfers, {DEVNET_SENDERS} senders, batches of {DEVNET_BATCH}; time to inclusion")
    print(f"{'run':<6}{'path':<16}{'seconds':>10}{'tx/s':>9}{'vs anvil':>10}")
    anvil = 0.0
    for i, (path, seconds) in enumerate(rows):
        tps = n / seconds
        if path == "anvil":
            anvil = tps
        print(f"{i // 2 + 1:<6}{path:<16}{seconds:>10.3f}{tps:>9.0f}{tps / anvil:>10.2f}")
    ratios = sorted((n / b) / (n / a) for (_, a), (_, b) in zip(rows[::2], rows[1::2], strict=True))
    print(f"median ratio to anvil: {ratios[len(ratios) // 2]:.2f} (runs: "
          + ", ".join(f"{r:.2f}" for r in ratios) + ")")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="transactions per workload")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best counts")
    parser.add_argument("--no-rpc", action="store_true", help="skip the JSON-RPC path")
    parser.add_argument(
        "--devnet", action="store_true", help="`neurostack up` against anvil (--n 2000)"
    )
    parser.add_argument("--block-time", type=float, default=1.0, help="--devnet: block time")
    parser.add_argument("--workers", type=int, default=2, help="--devnet: sprinter workers")
    args = parser.parse_args(argv)
    if args.devnet:
        n = 2000 if args.n == 300 else args.n
        print_devnet(devnet_vs_anvil(n, args.block_time, args.workers, args.repeat), n)
        return 0
    print_table(measure(args.n, with_rpc=not args.no_rpc, repeat=args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
