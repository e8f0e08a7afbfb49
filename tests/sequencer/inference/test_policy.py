"""The chain's proof policy in the precompile: accepted modes and unregistered models are
catchable reverts; a node running without inference keeps such transactions out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract
from sequencer.chain.inference import REGISTRY_ADDRESS
from sequencer.driver import AllReady
from sequencer.errors import ExecutionReverted
from sequencer.node import Node

from .conftest import Rig, deploy, make_rig, selector
from .kit import MODEL_CID, MODEL_HASH, Wallet, make_config, receipt_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict(
    tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, CompiledContract]
) -> Iterator[Rig]:
    yield from make_rig(tmp_path_factory.mktemp("strict"), contracts, modes=["VANILLA"],
                        allow_unregistered_models=False, max_calls_per_tx=1)  # fmt: skip


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
        assert isinstance(node.driver.inputs, AllReady)  # nothing supplies receipts
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


def test_invalid_second_model_call_beyond_max_calls_per_tx_reverts(strict: Rig, contracts) -> None:
    register = keccak(text="registerModel(string,bytes32,address,uint64,uint16)")[:4] + encode(
        ["string", "bytes32", "address", "uint64", "uint16"],
        [MODEL_CID, MODEL_HASH, b"\x01" * 20, 1_000, 0],
    )
    strict.owner.send(REGISTRY_ADDRESS, register, gas=300_000)
    strict.mine()
    chained = deploy(
        strict.node,
        strict.wallets[0],
        contracts["ChainedModels"],
        ["string", "string", "uint8"],
        ["x", "x", 0],
    )
    data = selector(contracts["ChainedModels"], "run") + encode(
        ["string", "string", "int128[]", "int128"], [MODEL_CID, MODEL_CID, [5], 0]
    )
    first = strict.wallets[1].requests_of(chained, data)
    strict.feed.witness[first.request_id] = receipt_for(first)
    with pytest.raises(
        ExecutionReverted, match="too many model calls in one transaction .at most 1."
    ):
        strict.wallets[1].call(chained, data)
    # the single-call contract is within the limit and now registered
    strict.feed.witness.clear()
    request = strict.wallets[1].requests_of(strict.consumer, strict.predict_data([5]))
    assert request.model_cid == MODEL_CID
