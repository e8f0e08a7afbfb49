"""The example contracts, deployed from the committed artifacts on a bare Prague py-evm chain."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import (
    ModelInput,
    Number,
    NumberTensor,
    encode_model_input,
)
from neurostack.solidity import load_artifact
from tests.contracts.devchain import CHAIN_ID, SENDER, DevChain, error_selector
from tests.contracts.fakeinference import PRECOMPILE_ADDRESS, FakeInference

LINEAR = "bafkreilinear"  # the fake precompile only needs distinct names
DOUBLE = "bafkreidouble"


def linear(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    x = feeds["X"]
    return {"variable": (x.sum(axis=1, keepdims=True) * 2 + 0.5).astype(np.float32)}


def double(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"doubled": (feeds["X"] * 2).astype(np.float32)}


def total(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"sum": feeds["h"].sum(axis=1, keepdims=True).astype(np.float64)}


def as_18_decimals(x: float) -> int:
    # docs/protocol.md: a float output is its exact binary value * 10^18, half-even
    return int((Decimal(float(x)) * 10**18).to_integral_value(rounding="ROUND_HALF_EVEN"))


@pytest.fixture
def fake() -> FakeInference:
    return FakeInference({LINEAR: linear, DOUBLE: double, "bafkreisum": total})


@pytest.fixture
def chain(fake: FakeInference) -> DevChain:
    return DevChain({PRECOMPILE_ADDRESS: fake})


def test_simple_storage_deploys_and_runs_on_prague_py_evm() -> None:
    chain = DevChain()
    art = load_artifact("SimpleStorage")
    storage = chain.deploy(art, 7)
    assert chain.code_at(storage.address) == art.deployed_bytecode
    assert storage.call("get") == 7
    result = storage.transact("set", 42)
    assert result.success
    assert storage.call("value") == 42
    ((topics, values),) = storage.events(result, "ValueChanged")
    assert topics[1] == int.from_bytes(SENDER, "big") and values == (7, 42)
    assert storage.transact("setNote", "héllo").success
    assert storage.call("note") == "héllo"


def test_counter_counts_and_reverts_three_ways() -> None:
    chain = DevChain()
    counter = chain.deploy(load_artifact("Counter"))
    assert counter.transact("increment").success and counter.call("count") == 1
    assert counter.transact("decrement").success
    underflow = counter.transact("decrement")
    assert not underflow.success
    assert underflow.output[:4] == error_selector("Underflow(uint256)")
    reason = chain.call(counter.address, counter.encode_call("failWithReason"))
    assert reason.output[:4] == error_selector("Error(string)")
    assert b"Counter: always fails" in reason.output
    panic = chain.call(counter.address, counter.encode_call("failWithPanic"))
    assert panic.output == error_selector("Panic(uint256)") + (1).to_bytes(32, "big")


def test_model_consumer_sends_a_row_and_stores_the_answer(
    chain: DevChain, fake: FakeInference
) -> None:
    consumer = chain.deploy(load_artifact("ModelConsumer"), "X", int(InferenceMode.VANILLA))
    result = consumer.transact("predict", LINEAR, [15, -5, 25], 1)  # 1.5, -0.5, 2.5
    assert result.success, result.output.hex()

    (call,) = fake.calls
    assert call.mode is InferenceMode.VANILLA and call.model_cid == LINEAR
    expected_input = ModelInput(
        numbers=(NumberTensor("X", (Number(15, 1), Number(-5, 1), Number(25, 1)), (1, 3)),)
    )
    assert call.model_input == expected_input

    expected = as_18_decimals(np.float32((1.5 - 0.5 + 2.5) * 2 + 0.5))
    assert consumer.call("lastValue") == expected
    assert consumer.call("lastDecimals") == 18
    assert consumer.call("predictionCount") == 1

    ((topics, values),) = consumer.events(result, "Prediction")
    key = request_id(CHAIN_ID, LINEAR, InferenceMode.VANILLA, encode_model_input(expected_input))
    assert topics[1].to_bytes(32, "big") == key  # the contract computes the protocol's id
    assert consumer.call("lastRequestKey") == key
    assert values == (expected, 18)


def test_model_consumer_passes_optimistic_mode_as_uint8(
    chain: DevChain, fake: FakeInference
) -> None:
    consumer = chain.deploy(load_artifact("ModelConsumer"), "X", int(InferenceMode.OPTIMISTIC))
    assert consumer.transact("predict", LINEAR, [1], 0).success
    assert fake.calls[0].mode is InferenceMode.OPTIMISTIC


def test_invalid_prediction_reverts_when_the_precompile_fails(
    chain: DevChain, fake: FakeInference
) -> None:
    consumer = chain.deploy(load_artifact("ModelConsumer"), "X", 0)
    result = consumer.transact("predict", "bafkreiunknown", [1, 2], 0)
    assert not result.success
    # the precompile's Error(string) bubbles up through the contract unchanged
    assert result.output[:4] == error_selector("Error(string)")
    assert b"unknown model bafkreiunknown" in result.output
    assert consumer.call("predictionCount") == 0 and consumer.call("lastValue") == 0
    assert len(fake.calls) == 1


def test_invalid_prediction_reverts_without_an_inference_precompile() -> None:
    # On a chain without 0xF4 the call returns no data: decoding fails, nothing is stored.
    chain = DevChain()
    consumer = chain.deploy(load_artifact("ModelConsumer"), "X", 0)
    assert not consumer.transact("predict", LINEAR, [1], 0).success
    assert consumer.call("predictionCount") == 0


def test_chained_models_feed_the_first_output_to_the_second(
    chain: DevChain, fake: FakeInference
) -> None:
    chained = chain.deploy(load_artifact("ChainedModels"), "X", "h", 0)
    result = chained.transact("run", DOUBLE, "bafkreisum", [125, 250], 2)  # 1.25, 2.5
    assert result.success, result.output.hex()

    first, second = fake.calls
    assert (first.model_cid, second.model_cid) == (DOUBLE, "bafkreisum")
    (carried,) = second.model_input.numbers
    assert carried.name == "h" and carried.shape == (1, 2)
    assert [n.value for n in carried.values] == [as_18_decimals(2.5), as_18_decimals(5.0)]
    assert chained.call("lastIntermediate") == as_18_decimals(2.5)
    assert chained.call("lastValue") == as_18_decimals(7.5)

    ((topics, values),) = chained.events(result, "Chained")
    assert topics[1].to_bytes(32, "big") == request_id(CHAIN_ID, DOUBLE, 0, first.input_abi)
    assert topics[2].to_bytes(32, "big") == request_id(CHAIN_ID, "bafkreisum", 0, second.input_abi)
    assert values == (as_18_decimals(7.5), 18)
