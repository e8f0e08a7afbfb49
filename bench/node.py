"""Node throughput: raw py-evm batch vs. the node in-process vs. the node through its JSON-RPC.

Three paths apply the same pre-signed transactions (N transfers, then N calls of a small
contract that bumps a counter and emits an event), all in one block:

- ``raw py-evm``: decode the raw bytes, ``MiningChain.mine_all`` on py-evm's in-memory DB.
  The baseline; :func:`raw_batch_seconds` is importable for other benchmarks.
- ``node``: ``Node.send_raw_transaction`` for each (validation, fsync'ed journal) and one
  ``Node.mine()`` (build, persist to SQLite, compact the journal); and the same with
  ``verify_built_blocks`` (the state-transition function run on the built block first).
- ``node via RPC``: ``eth_sendRawTransaction`` over HTTP from client processes (one
  keep-alive connection each) to the uvicorn server, then ``evm_mine`` over HTTP.

The figure is the ratio to raw in the same run. Run: ``python bench/node.py [--n 400]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import socket
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="transactions per workload")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best counts")
    parser.add_argument("--no-rpc", action="store_true", help="skip the JSON-RPC path")
    args = parser.parse_args(argv)
    print_table(measure(args.n, with_rpc=not args.no_rpc, repeat=args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
