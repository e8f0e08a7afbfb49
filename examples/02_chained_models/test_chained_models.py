"""Example 02 against the shared devnet: the second model is fed the first model's output."""

from __future__ import annotations

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example
from neurostack.protocol import ModelInput, encode_model_input, request_id
from neurostack.protocol.modes import InferenceMode

pytestmark = pytest.mark.slow


def test_two_models_in_one_transaction_the_second_fed_by_the_first(
    devnet: _kit.Devnet,
) -> None:
    result = run_example(devnet, "02_chained_models")
    module = load("02_chained_models")

    weather_call, demand_call = result.receipt.inferences
    # Both answers are what onnxruntime computes for the chain of models, exactly.
    assert (result.temperature, result.demand) == (result.local_temperature, result.local_demand)
    # The second request's input is the first model's output tensor, exactly as the chain
    # encoded it: recompute its request id from the local weather output.
    weather = _kit.local_output(module.WEATHER, _kit.row("x", module.TODAY, 3))
    second_input = encode_model_input(ModelInput(numbers=weather.numbers))
    expected = request_id(
        devnet.rollup.chain_id(), demand_call.model_cid, InferenceMode.VANILLA, second_input
    )
    assert demand_call.request_id == "0x" + bytes(expected).hex()
    # Both receipts are committed by the one block that used them.
    witness = devnet.rollup.inference_witness(result.receipt.block_number)
    ids = ["0x" + bytes(r.request_id).hex() for r in witness.receipts]
    assert weather_call.request_id in ids and demand_call.request_id in ids
    forecast = devnet.rollup.contract(result.contract, module.ARTIFACT)
    assert forecast.call("temperature") == result.temperature.value
    assert forecast.call("demand") == result.demand.value
    assert_gas_as_catalogued("02_chained_models", {
        "deploy": result.deployment.gas_used, "forecast (2 models)": result.receipt.gas_used,
    })  # fmt: skip
