"""OpenGradient compatibility in the execution layer: ``is_simulation_result`` comes from the
execution (a node's call environment, PIPE's detection, a block), never from the caller or
the sprinter; OpenGradient's LLM functions and its price-history address revert with a
clear reason. Contracts are compiled against OpenGradient's OGInference.sol, unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from neurostack.protocol.tensors import decode_model_output, encode_model_output
from sequencer.chain.environment import ExecutionMode, block_environment
from sequencer.chain.inference import INFERENCE_PRECOMPILE_ADDRESS
from sequencer.chain.inference.constants import PRICE_HISTORY_ADDRESS
from sequencer.chain.inference.opengradient import (
    RUN_LLM_CHAT_SELECTOR,
    RUN_LLM_COMPLETION_SELECTOR,
)
from sequencer.errors import ExecutionReverted
from sequencer.types import CallParams

from .conftest import Rig, deploy, selector
from .kit import MODEL_CID, receipt_for, toy_model_output

pytestmark = pytest.mark.slow

CONSUMER = (
    Path(__file__).resolve().parents[2]
    / "contracts"
    / "opengradient"
    / "SimulationAwareConsumer.sol"
)
PREDICTION = int.from_bytes(keccak(text="Prediction(int128,int128,bool)"), "big")


@dataclass
class OG:
    rig: Rig
    address: bytes
    contract: object

    def data(self, function: str, *args: object) -> bytes:
        fn = next(f for f in self.contract.abi if f.get("name") == function)  # type: ignore[attr-defined]
        types = [i["type"] for i in fn["inputs"]]
        return selector(self.contract, function) + encode(types, list(args))  # type: ignore[arg-type]

    def call(
        self, data: bytes, *, mode: ExecutionMode, simulation_result: bool, to: bytes | None = None
    ) -> bytes:
        node = self.rig.node
        head = node.head().header.block_number
        env = block_environment(
            node.spec, node.state_at(head), witness=dict(self.rig.feed.witness),
            mode=mode, simulation_result=simulation_result,
        )  # fmt: skip
        params = CallParams(
            sender=self.rig.wallets[0].address, to=to or self.address, data=data, gas=3_000_000
        )
        return node.call(params, environment=env)

    def read(self, getter: str, kind: str) -> object:
        return decode(
            [kind], self.rig.wallets[0].call(self.address, selector(self.contract, getter))
        )[0]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def og(rig: Rig) -> Iterator[OG]:
    from neurostack.solidity import compile_files

    contract = compile_files([CONSUMER])["SimulationAwareConsumer"]
    yield OG(rig, deploy(rig.node, rig.wallets[0], contract, ["string"], ["x"]), contract)


def _witness(og: OG, data: bytes, *, sprinter_flag: bool = False) -> None:
    """Record the call's request and put a sprinter's receipt for it in the witness; with
    ``sprinter_flag`` the sprinter signs an output claiming ``is_simulation_result``."""
    request = og.rig.wallets[1].requests_of(og.address, data, gas=3_000_000)
    output = toy_model_output(request)
    if sprinter_flag:
        output = encode_model_output(
            replace(decode_model_output(output), is_simulation_result=True)
        )
    og.rig.feed.witness[request.request_id] = receipt_for(request, output=output)


@pytest.mark.parametrize(
    "sprinter_flag", [False, True], ids=["honest", "sprinter-claims-simulation"]
)
def test_the_flag_is_the_executions_not_the_sprinters(og: OG, sprinter_flag: bool) -> None:
    features = [3, 4] if not sprinter_flag else [5, 6]
    data = og.data("predict", MODEL_CID, features, 1)
    _witness(og, data, sprinter_flag=sprinter_flag)
    expected = 2 * sum(features)

    # eth_call / eth_estimateGas / eth_createAccessList / eth_simulateV1: the node's call env
    out = og.call(data, mode=ExecutionMode.SIMULATE, simulation_result=True)
    assert decode(["int128", "bool"], out) == (expected, True)
    # PIPE's detection predicts the block: not a simulation result
    out = og.call(data, mode=ExecutionMode.SIMULATE, simulation_result=False)
    assert decode(["int128", "bool"], out) == (expected, False)
    # block execution never marks outputs, whatever the environment says
    out = og.call(data, mode=ExecutionMode.SEAL, simulation_result=True)
    assert decode(["int128", "bool"], out) == (expected, False)

    # a transaction: built, re-validated by the STF (NEUROSTACK_VERIFY_BUILT_BLOCKS), stored
    stored = og.read("stored", "uint256")
    tx_hash = og.rig.wallets[1].send(og.address, data, gas=3_000_000)
    block = og.rig.mine()
    receipt = og.rig.receipt_of(block, tx_hash)
    assert receipt.state_root == b"\x01"
    (log,) = [entry for entry in receipt.logs if entry.topics[0] == PREDICTION]
    assert decode(["int128", "int128", "bool"], log.data) == (expected, 1, False)
    assert og.read("stored", "uint256") == stored + 1
    assert og.read("lastValue", "int128") == expected


def test_a_contract_that_refuses_simulated_outputs_reverts_only_in_simulation(og: OG) -> None:
    data = og.data("predictOrRevertInSimulation", MODEL_CID, [7, 1], 1)
    _witness(og, data)
    with pytest.raises(ExecutionReverted) as reverted:
        og.call(data, mode=ExecutionMode.SIMULATE, simulation_result=True)
    assert reverted.value.message == "execution reverted: refusing a simulated model output"

    tx_hash = og.rig.wallets[1].send(og.address, data, gas=3_000_000)
    block = og.rig.mine()
    assert og.rig.receipt_of(block, tx_hash).state_root == b"\x01"
    assert og.read("lastValue", "int128") == 16


LLM_REASON = (
    "execution reverted: {} (OpenGradient LLM inference) is not supported on this chain; "
    "the inference precompile runs ONNX models through runModelInference only"
)
PRICE_REASON = (
    "execution reverted: price-history inference (OpenGradient's OGHistorical at "
    "0x00000000000000000000000000000000000000F5: runInferenceOnPriceFeed, "
    "queryHistoricalCandles) is not supported on this chain"
)


@pytest.mark.parametrize(
    ("function", "args", "reason"),
    [
        ("completion", (MODEL_CID, "hello"), LLM_REASON.format("runLLMCompletion")),
        ("chat", (MODEL_CID, "hello"), LLM_REASON.format("runLLMChat")),
        ("priceFeed", (MODEL_CID,), PRICE_REASON),
    ],
)
def test_unsupported_opengradient_calls_revert_with_their_reason(
    og: OG, function: str, args: tuple[object, ...], reason: str
) -> None:
    # through a contract (the reason passes up unchanged), in a call and in a block
    data = og.data(function, *args)
    for simulation in (True, False):
        with pytest.raises(ExecutionReverted) as reverted:
            og.call(data, mode=ExecutionMode.SIMULATE, simulation_result=simulation)
        assert reverted.value.message == reason
    tx_hash = og.rig.wallets[2].send(og.address, data, gas=3_000_000)
    block = og.rig.mine()
    assert og.rig.receipt_of(block, tx_hash).state_root == b""


@pytest.mark.parametrize(
    ("to", "data", "reason"),
    [
        # a direct call, with any argument bytes, or none at all
        (
            INFERENCE_PRECOMPILE_ADDRESS,
            RUN_LLM_COMPLETION_SELECTOR,
            LLM_REASON.format("runLLMCompletion"),
        ),
        (
            INFERENCE_PRECOMPILE_ADDRESS,
            RUN_LLM_CHAT_SELECTOR + b"\x00" * 64,
            LLM_REASON.format("runLLMChat"),
        ),
        (PRICE_HISTORY_ADDRESS, b"", PRICE_REASON),
        (
            PRICE_HISTORY_ADDRESS,
            keccak(text="queryHistoricalCandles((string,uint32,uint32,uint8,uint8[]))")[:4],
            PRICE_REASON,
        ),
        (PRICE_HISTORY_ADDRESS, RUN_LLM_COMPLETION_SELECTOR, PRICE_REASON),
    ],
)
def test_direct_calls_revert_with_their_reason(og: OG, to: bytes, data: bytes, reason: str) -> None:
    with pytest.raises(ExecutionReverted) as reverted:
        og.call(data, to=to, mode=ExecutionMode.SIMULATE, simulation_result=True)
    assert reverted.value.message == reason
