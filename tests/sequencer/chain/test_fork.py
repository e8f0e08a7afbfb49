"""The fork is a seam: precompiles merged into a subclass's map, a typed block environment per
block and per call, no import-time registries."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth.abc import ComputationAPI, SignedTransactionAPI

from sequencer.chain import (
    BlockEnvironment,
    BlockInputs,
    ExecutionMode,
    NeuroVM,
    ReadyTransaction,
    block_environment,
)
from sequencer.chain.environment import environment_of
from sequencer.chain.fork import NeuroComputation, NeuroState
from sequencer.chain.genesis import GENESIS_EXTRA_DATA
from sequencer.chain.inference import INFERENCE_PRECOMPILE_ADDRESS, REGISTRY_ADDRESS
from sequencer.errors import TransactionDeferred
from sequencer.node import Node
from sequencer.types import CallParams

from ..helpers import dev_keys, make_config, sign

ECHO = b"\x00" * 18 + b"\x0e\xc0"  # a test-only address, far from 0x…F4
DEFER = b"defer".ljust(32, b"\x00")


def echo_environment(computation: ComputationAPI) -> ComputationAPI:
    """Returns the environment's mode and witness keys; defers the transaction on ``DEFER``."""
    env, _ = environment_of(computation)
    if DEFER in env.witness:
        raise TransactionDeferred("not ready")
    computation.consume_gas(100, reason="echo")
    computation.output = env.mode.value.encode() + b":" + b",".join(sorted(env.witness))
    return computation


class EchoComputation(NeuroComputation):
    _precompiles = {**NeuroComputation._precompiles, ECHO: echo_environment}  # noqa: RUF012


class EchoState(NeuroState):
    computation_class = EchoComputation


class EchoVM(NeuroVM):
    """A fork of the Neuro fork: one more precompile, by subclassing."""

    _state_class = EchoState


def fake_receipt(key: bytes) -> Any:
    return SimpleNamespace(request_id=key)


def test_extra_precompile_is_in_the_subclass_map_only_and_warm() -> None:
    neuro = NeuroComputation.get_precompiles()
    assert neuro[INFERENCE_PRECOMPILE_ADDRESS].__name__ == "run_model_inference"
    assert neuro[REGISTRY_ADDRESS].__name__ == "run_registry"
    assert EchoComputation.get_precompiles()[ECHO] is echo_environment
    assert ECHO in EchoVM.get_state_class().computation_class.get_precompiles()
    # defining a fork changes no other fork: nothing registers itself globally
    assert ECHO not in NeuroComputation.get_precompiles()
    assert ECHO not in NeuroVM.get_state_class().computation_class.get_precompiles()


class WitnessCalls:
    """Calls see an environment whose witness holds one marker key."""

    def __init__(self, node: Node, key: bytes) -> None:
        self.node, self.key = node, key

    def call_environment(self, header: Any) -> BlockEnvironment:
        return block_environment(
            self.node.spec, self.node.state_at(header.block_number),
            witness={self.key: fake_receipt(self.key)}, mode=ExecutionMode.SIMULATE,
        )  # fmt: skip


def test_call_environment_reaches_the_precompile(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path), vm_class=EchoVM)
    try:
        assert node.call(CallParams(to=ECHO)) == b"simulate:"  # no inference: empty witness
        key = b"call@0".ljust(32, b"\x00")
        node.set_call_environments(WitnessCalls(node, key))
        assert node.call(CallParams(to=ECHO)) == b"simulate:" + key
    finally:
        node.stop()


def test_environments_do_not_leak_across_threads(tmp_path: Path) -> None:
    from sequencer.chain.execution import call

    node = Node(make_config(tmp_path), vm_class=EchoVM)
    chain, header = node.engine.chain, node.engine.head_header()
    results: dict[int, list[bytes]] = {}

    def worker(i: int) -> None:
        key = f"thread-{i}".encode().ljust(32, b"\x00")
        env = dataclasses.replace(
            block_environment(node.spec, node.state_at(0), mode=ExecutionMode.SIMULATE),
            witness={key: fake_receipt(key)},
        )
        results[i] = [call(chain, header, CallParams(to=ECHO), env) for _ in range(20)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    node.stop()
    assert results == {
        i: [b"simulate:" + f"thread-{i}".encode().ljust(32, b"\x00")] * 20 for i in range(4)
    }


class EchoInputs:
    """Block inputs whose echo transactions are held back (``ready``) or carry ``DEFER``."""

    def __init__(self) -> None:
        self.ready = True
        self.witness: tuple[Any, ...] = (fake_receipt(b"block".ljust(32, b"\x00")),)

    def block_inputs(self, candidates: Sequence[SignedTransactionAPI]) -> BlockInputs:
        out, stopped = [], set()
        for tx in candidates:
            if tx.to == ECHO and not self.ready:
                stopped.add(tx.sender)
            if tx.sender not in stopped:
                out.append(ReadyTransaction(tx, self.witness if tx.to == ECHO else ()))
        return BlockInputs(tuple(out))


def test_block_environment_comes_from_the_block_inputs(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path), vm_class=EchoVM)
    try:
        node.set_block_inputs(EchoInputs())
        _, key = dev_keys(node.config)[0]
        node.send_raw_transaction(sign(key, 0, to=ECHO, value=0, gas=50_000))
        block = node.mine()
        assert block.header.extra_data == GENESIS_EXTRA_DATA  # no receipt was used
        assert node.receipts(block)[0].state_root == b"\x01"
    finally:
        node.stop()


def test_not_ready_and_deferred_transactions_stay_pending(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path), vm_class=EchoVM)
    try:
        inputs = EchoInputs()
        node.set_block_inputs(inputs)
        keys = dev_keys(node.config)
        parked = node.send_raw_transaction(sign(keys[0][1], 0, to=ECHO, value=0, gas=50_000))
        plain = node.send_raw_transaction(sign(keys[1][1], 0))

        inputs.ready = False  # PIPE parks it: only the plain transfer goes in
        assert [tx.hash for tx in node.mine().transactions] == [plain]
        assert node.transaction(parked).pending
        inputs.ready = True
        inputs.witness = (fake_receipt(DEFER),)  # the witness lacks its result: taken out
        other = node.send_raw_transaction(sign(keys[1][1], 1))
        deferred: list[Any] = []
        node.add_commit_listener(lambda committed: deferred.append(committed.deferred))
        block = node.mine()
        assert [tx.hash for tx in block.transactions] == [other]
        assert deferred == [(parked,)]  # the committed block names what the builder left out
        assert node.transaction(parked).pending
        assert node.state_at(block.number).get_nonce(keys[0][0]) == 0  # its effects undone

        inputs.witness = (fake_receipt(b"ok".ljust(32, b"\x00")),)
        block = node.mine()
        assert [tx.hash for tx in block.transactions] == [parked]
    finally:
        node.stop()


def test_invalid_change_of_a_block_environment(tmp_path: Path) -> None:
    node = Node(make_config(tmp_path))
    try:
        env = block_environment(node.spec, node.state_at(0))
        with pytest.raises(dataclasses.FrozenInstanceError):
            env.mode = ExecutionMode.SIMULATE  # type: ignore[misc]
    finally:
        node.stop()
