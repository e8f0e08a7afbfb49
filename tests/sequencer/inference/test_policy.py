"""The chain's proof policy in the precompile: accepted modes and unregistered models are
catchable reverts; a node running without inference keeps such transactions out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract
from sequencer.errors import ExecutionReverted
from sequencer.node import Node
from sequencer.producer import PlainBlocks

from .conftest import Rig, deploy, make_rig
from .kit import Wallet, make_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict(
    tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, CompiledContract]
) -> Iterator[Rig]:
    yield from make_rig(tmp_path_factory.mktemp("strict"), contracts, modes=["VANILLA"],
                        allow_unregistered_models=False)  # fmt: skip


def test_invalid_unregistered_model_reverts_when_the_chain_requires_registration(
    strict: Rig,
) -> None:
    with pytest.raises(ExecutionReverted, match="model not registered: bafkrei.*registerModel"):
        strict.wallets[1].call(strict.consumer, strict.predict_data([1]))


def test_invalid_mode_outside_the_policy_reverts(strict: Rig, contracts) -> None:
    tee = deploy(
        strict.node,
        strict.wallets[0],
        contracts["ModelConsumer"],
        ["string", "uint8"],
        ["x", InferenceMode.TEE],
    )
    with pytest.raises(
        ExecutionReverted,
        match="inference mode TEE is not accepted on this chain; use one of VANILLA",
    ):
        strict.wallets[1].call(tee, strict.predict_data([1]))


def test_node_without_inference_keeps_precompile_calls_out_of_blocks(
    tmp_path: Path, contracts
) -> None:
    config = make_config(tmp_path)
    node = Node(config)
    try:
        assert isinstance(node.hooks, PlainBlocks)
        wallets = [Wallet(node, a.private_key) for a in config.dev_accounts()]
        consumer = deploy(
            node, wallets[0], contracts["ModelConsumer"], ["string", "uint8"], ["x", 0]
        )
        data = Rig(
            node, None, wallets, wallets[0], consumer, contracts["ModelConsumer"]
        ).predict_data([1])  # type: ignore[arg-type]
        tx_hash = wallets[1].send(consumer, data)
        block = node.mine()  # does not crash the producer
        assert tx_hash not in [t.hash for t in block.transactions]
        assert node.transaction(tx_hash).pending
    finally:
        node.stop()
