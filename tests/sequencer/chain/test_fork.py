"""The fork's extension points: extra precompiles and the per-block/per-call environment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth.abc import BlockHeaderAPI, ComputationAPI, SignedTransactionAPI

from sequencer.chain.fork import EXTRA_PRECOMPILES, NeuroComputation, NeuroVM
from sequencer.errors import TransactionDeferred
from sequencer.node import Node
from sequencer.producer import PlainBlocks
from sequencer.types import CallParams

from ..helpers import dev_keys, make_config, sign

ECHO = b"\x00" * 18 + b"\x0e\xc0"  # a test-only address, far from 0x…F4


def echo_environment(computation: ComputationAPI) -> ComputationAPI:
    """Returns the environment's bytes; defers the transaction if the environment says so."""
    env = computation.state.environment
    if env == b"defer":
        raise TransactionDeferred("not ready")
    computation.consume_gas(100, reason="echo")
    computation.output = env or b"none"
    return computation


@pytest.fixture
def echo() -> Iterator[bytes]:
    EXTRA_PRECOMPILES[ECHO] = echo_environment
    yield ECHO
    del EXTRA_PRECOMPILES[ECHO]


class EnvHooks(PlainBlocks):
    def __init__(self) -> None:
        self.block_env: Any = b"block"
        self.ready = True

    def is_ready(self, tx: SignedTransactionAPI) -> bool:
        return self.ready or tx.to != ECHO

    def block_environment(self, header: BlockHeaderAPI) -> Any:
        return self.block_env

    def extra_data(self, environment: Any) -> bytes:
        return (environment or b"").ljust(32, b"\x00")

    def call_environment(self, header: BlockHeaderAPI) -> Any:
        return b"call@" + str(header.block_number).encode()


def test_extra_precompile_is_in_the_map_and_warm(echo: bytes) -> None:
    assert NeuroComputation.get_precompiles()[echo] is echo_environment
    assert echo in NeuroVM.get_state_class().computation_class.get_precompiles()


def test_call_environment_reaches_the_precompile(tmp_path: Path, echo: bytes) -> None:
    node = Node(make_config(tmp_path))
    try:
        assert node.call(CallParams(to=echo)) == b"none"  # PlainBlocks: no environment
        node.set_block_hooks(EnvHooks())
        assert node.call(CallParams(to=echo)) == b"call@0"
    finally:
        node.stop()


def test_environments_do_not_leak_across_threads(tmp_path: Path, echo: bytes) -> None:
    from sequencer.chain.execution import call

    node = Node(make_config(tmp_path))
    chain, header = node._chain, node._chain.get_canonical_head()
    results: dict[int, list[bytes]] = {}

    def worker(i: int) -> None:
        env = f"thread-{i}".encode()
        results[i] = [call(chain, header, CallParams(to=echo), env) for _ in range(20)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    node.stop()
    assert results == {i: [f"thread-{i}".encode()] * 20 for i in range(4)}


def test_block_environment_and_extra_data_hook(tmp_path: Path, echo: bytes) -> None:
    node = Node(make_config(tmp_path))
    try:
        hooks = EnvHooks()
        node.set_block_hooks(hooks)
        _, key = dev_keys(node.config)[0]
        node.send_raw_transaction(sign(key, 0, to=echo, value=0, gas=50_000))
        block = node.mine()
        assert block.header.extra_data == b"block".ljust(32, b"\x00")
        assert node.receipts(block)[0].state_root == b"\x01"
    finally:
        node.stop()


def test_not_ready_and_deferred_transactions_stay_pending(tmp_path: Path, echo: bytes) -> None:
    node = Node(make_config(tmp_path))
    try:
        hooks = EnvHooks()
        node.set_block_hooks(hooks)
        keys = dev_keys(node.config)
        parked = node.send_raw_transaction(sign(keys[0][1], 0, to=echo, value=0, gas=50_000))
        plain = node.send_raw_transaction(sign(keys[1][1], 0))

        hooks.ready = False  # PIPE parks it: only the plain transfer goes in
        assert [tx.hash for tx in node.mine().transactions] == [plain]
        assert node.transaction(parked).pending
        hooks.ready = True
        hooks.block_env = b"defer"  # the witness lacks its result: taken out of the block
        other = node.send_raw_transaction(sign(keys[1][1], 1))
        block = node.mine()
        assert [tx.hash for tx in block.transactions] == [other]
        assert node.transaction(parked).pending
        assert node.state_at(block.number).get_nonce(keys[0][0]) == 0  # its effects undone

        hooks.block_env = b"ok"
        block = node.mine()
        assert [tx.hash for tx in block.transactions] == [parked]
    finally:
        node.stop()
