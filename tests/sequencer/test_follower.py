"""The follower without a hub: it verifies an in-process sequencer's blocks over the real
JSON-RPC (uvicorn), waits out a source that cannot answer, survives SIGKILLs (a loop like
test_crash.py: it resumes from its last verified block with the same roots), and its CLI
refuses what it cannot do with a message. Inference blocks and the tamper matrix are in
tests/e2e/test_follower.py, on the real stack."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from websockets.sync.client import connect

from neurostack.cli.main import app
from neurostack.hub.broker import free_port
from sequencer.follower import Follower, FollowerNode, RpcBlockSource, redact
from sequencer.node import Node
from sequencer.rpc.server import RpcServer

from .helpers import dev_keys, make_config, sign

BLOCKS = 40
TXS_PER_BLOCK = 4
ROUNDS = 5


@dataclass
class Sequencer:
    node: Node
    url: str
    root: Path


@pytest.fixture(scope="module")
def sequencer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sequencer]:
    """A mine-on-demand sequencer with ``BLOCKS`` blocks of transfers, served over HTTP."""
    root = tmp_path_factory.mktemp("sequencer")
    config = make_config(root)
    node = Node(config)
    keys = [key for _, key in dev_keys(config)[:TXS_PER_BLOCK]]
    for nonce in range(BLOCKS):
        for key in keys:
            node.send_raw_transaction(sign(key, nonce))
        node.mine()
    server = RpcServer(node).start()
    try:
        yield Sequencer(node, server.url, root)
    finally:
        server.stop()
        node.stop()


def follower_node(root: Path) -> FollowerNode:
    return FollowerNode(make_config(root))


def same_chain(follower: Node, sequencer: Node, upto: int) -> None:
    for n in range(upto + 1):
        ours, theirs = follower.block_by_number(n), sequencer.block_by_number(n)
        assert ours is not None and theirs is not None
        assert ours.hash == theirs.hash and ours.header.state_root == theirs.header.state_root


def test_the_follower_verifies_the_sequencers_blocks_over_its_rpc(
    sequencer: Sequencer, tmp_path: Path
) -> None:
    """... and its own RPC shows the progress (eth_syncing, neuro_syncStatus) and sends
    each verified block to newHeads subscribers."""
    node = follower_node(tmp_path)
    follower = Follower(node, RpcBlockSource(sequencer.url), batch=5)
    server = RpcServer(node).start()
    try:
        follower.check_genesis()
        with connect(server.ws_url) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                "params": ["newHeads"]}))  # fmt: skip
            assert "result" in json.loads(ws.recv(timeout=30))
            assert follower.step() == 5  # one batch: behind the sequencer
            syncing = rpc(server.url, "eth_syncing")
            assert syncing == {"startingBlock": "0x0", "currentBlock": "0x5",
                               "highestBlock": hex(BLOCKS)}  # fmt: skip
            status = rpc(server.url, "neuro_syncStatus")
            assert status["syncing"] is True and status["verifiedHead"] == "0x5"
            heads = [json.loads(ws.recv(timeout=30))["params"]["result"] for _ in range(5)]
            assert [int(h["number"], 16) for h in heads] == [1, 2, 3, 4, 5]
            assert heads[-1]["hash"] == "0x" + sequencer.node.block_by_number(5).hash.hex()
        assert follower.sync_to(BLOCKS)
        same_chain(node, sequencer.node, BLOCKS)
        status = rpc(server.url, "neuro_syncStatus")
        assert status["verifiedHead"] == hex(BLOCKS) and status["lastError"] is None
        assert status["syncing"] is False and rpc(server.url, "eth_syncing") is False
        assert follower.verified == BLOCKS
    finally:
        server.stop()
        node.stop()


def rpc(url: str, method: str, *params: Any) -> Any:
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}, timeout=30).json()  # fmt: skip
    return reply["result"]


def test_a_source_that_cannot_answer_is_waited_for_not_a_failure(
    sequencer: Sequencer, tmp_path: Path
) -> None:
    node = follower_node(tmp_path)
    dead = f"http://user:secret@127.0.0.1:{free_port()}/"
    follower = Follower(node, RpcBlockSource(dead), retry_interval=0.05)
    follower.start()
    try:
        deadline = time.monotonic() + 30
        while follower.source_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        status = follower.sync_status()
        assert status["lastSourceError"] and not status["halted"] and status["lastError"] is None
        assert "secret" not in status["lastSourceError"] and "secret" not in status["source"]
        assert status["verifiedHead"] == "0x0"
        follower.source = RpcBlockSource(sequencer.url)  # the source is back
        while node.head().number < BLOCKS and time.monotonic() < deadline:
            time.sleep(0.02)
        same_chain(node, sequencer.node, BLOCKS)
        while follower.source_error is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert follower.sync_status()["lastSourceError"] is None
    finally:
        follower.stop()
        node.stop()


def test_transactions_signed_for_another_chain_make_a_block_invalid(
    sequencer: Sequencer, tmp_path: Path
) -> None:
    """EIP-155 replay protection is a consensus rule of the state transition, not only of
    the pool: a follower of chain id 4243 refuses block 1 of chain 4242 (same genesis:
    headers do not name the chain id)."""
    node = FollowerNode(make_config(tmp_path, chain_id=4243))
    try:
        follower = Follower(node, RpcBlockSource(sequencer.url))
        assert follower.sync_to(BLOCKS) is False
        failure = follower.sync_status()["lastError"]
        assert failure["blockNumber"] == "0x1" and failure["check"] == "transaction"
        assert failure["transactionIndex"] == "0x0"
        assert "invalid chain id for signer: have 4242 want 4243" in failure["reason"]
        assert node.head().number == 0
    finally:
        node.stop()


def test_redact_drops_credentials() -> None:
    assert redact("https://u:p@rpc.example:8545/x?k=1") == "https://rpc.example:8545/x?k=1"
    with pytest.raises(ValueError, match="not an http"):
        RpcBlockSource("ws://127.0.0.1:8545")


# --- the CLI's refusals ------------------------------------------------------------------


def test_the_cli_names_what_a_follower_needs(sequencer: Sequencer, tmp_path: Path) -> None:
    runner = CliRunner()
    toml = tmp_path / "chain.toml"
    toml.write_text('[chain]\nname = "test"\nchain_id = 4242\nblock_time = 0\n')
    no_dir = runner.invoke(app, ["node", "--follow", sequencer.url, "--config", str(toml)])
    assert no_dir.exit_code == 1 and "--follow needs --data-dir DIR" in no_dir.output
    sequencer_only = runner.invoke(
        app, ["node", "--follow", sequencer.url, "--data-dir", str(tmp_path / "d"),
              "--config", str(toml), "--reset"],
    )  # fmt: skip
    assert sequencer_only.exit_code == 1 and "are the sequencer's" in sequencer_only.output
    once_alone = runner.invoke(app, ["node", "--once", "--config", str(toml)])
    assert once_alone.exit_code == 1 and "go with --follow" in once_alone.output
    other = tmp_path / "other.toml"
    other.write_text('[chain]\nname = "test"\nchain_id = 4243\nblock_time = 0\n')
    wrong = runner.invoke(
        app, ["node", "--follow", sequencer.url, "--data-dir", str(tmp_path / "o"),
              "--config", str(other), "--once"],
    )  # fmt: skip
    assert wrong.exit_code == 1 and "serves chain id 4242, chain.toml says 4243" in wrong.output
    rich = tmp_path / "rich.toml"
    rich.write_text('[chain]\nname = "test"\nchain_id = 4242\nblock_time = 0\n'
                    '[dev]\nbalance = "1 ether"\n')  # fmt: skip
    other_genesis = runner.invoke(
        app, ["node", "--follow", sequencer.url, "--data-dir", str(tmp_path / "g"),
              "--config", str(rich), "--once"],
    )  # fmt: skip
    assert other_genesis.exit_code == 1
    assert "is not the one chain.toml describes" in " ".join(other_genesis.output.split())
    unreachable = runner.invoke(
        app, ["node", "--follow", f"http://127.0.0.1:{free_port()}", "--data-dir",
              str(tmp_path / "u"), "--config", str(toml), "--once"],
    )  # fmt: skip
    assert unreachable.exit_code == 2 and "cannot read the sequencer" in unreachable.output
    not_http = runner.invoke(
        app, ["node", "--follow", "ws://127.0.0.1:8546", "--data-dir", str(tmp_path / "w"),
              "--config", str(toml)],
    )  # fmt: skip
    assert not_http.exit_code == 2 and "not an http(s) URL" in not_http.output
    ok = runner.invoke(
        app, ["node", "--follow", sequencer.url, "--data-dir", str(tmp_path / "ok"),
              "--config", str(toml), "--once"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert f"verified blocks 0..{BLOCKS}" in ok.output


# --- SIGKILL ------------------------------------------------------------------------------


def run_follower(root: Path, url: str, conn: Connection) -> None:
    """The child: a follower verifying one block per step, reporting each commit on ``conn``."""
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    node = follower_node(root)
    node.add_block_listener(
        lambda block, _: send(("block", block.number, block.hash, block.header.state_root))
    )
    follower = Follower(node, RpcBlockSource(url), batch=1)
    send(("ready", node.head().number))
    follower.sync_to(BLOCKS)
    send(("done",))
    conn.recv()  # until killed


def fork_server() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sequencer.follower", __name__])
    return context


@pytest.mark.slow  # five follower processes, killed and restarted
def test_sigkill_loop_resumes_from_the_last_verified_block(
    sequencer: Sequencer, tmp_path: Path
) -> None:
    rng = random.Random(20261202)
    reported: tuple[int, bytes, bytes] | None = None
    heads = []
    for _ in range(ROUNDS):
        conn, child_conn = multiprocessing.Pipe()
        proc = fork_server().Process(
            target=run_follower, args=(tmp_path, sequencer.url, child_conn), daemon=True
        )
        proc.start()
        child_conn.close()
        try:
            assert conn.poll(60)
            ready = conn.recv()
            assert ready[0] == "ready"
            assert reported is None or ready[1] >= reported[0]  # resumed, nothing lost
            # let it verify a few blocks, then kill it while it works on the next one
            for _ in range(rng.randint(1, 6)):
                assert conn.poll(60)
                message = conn.recv()
                assert message[0] == "block", message
                reported = message[1:]
            time.sleep(rng.uniform(0, 0.02))
        finally:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(timeout=10)
        while conn.poll(0):
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "block":
                reported = message[1:]
        node = follower_node(tmp_path)
        try:
            head = node.head()
            heads.append(head.number)
            if reported is not None:
                number, block_hash, state_root = reported
                assert head.number >= number
                block = node.block_by_number(number)
                assert block is not None and block.hash == block_hash
                assert block.header.state_root == state_root
            same_chain(node, sequencer.node, head.number)
            node.state_at(head.number).get_balance(b"\x11" * 20)  # the head's state is readable
        finally:
            node.stop()
    node = follower_node(tmp_path)
    try:
        assert Follower(node, RpcBlockSource(sequencer.url)).sync_to(BLOCKS)
        same_chain(node, sequencer.node, BLOCKS)
    finally:
        node.stop()
    assert all(0 < h < BLOCKS for h in heads) and heads == sorted(heads), heads
