"""INeuroInference.sol has exactly the ABI the protocol layer (and OpenGradient) uses."""

from __future__ import annotations

from eth_utils import function_abi_to_4byte_selector, to_canonical_address
from eth_utils.abi import collapse_if_tuple

from neurostack.protocol.request import RUN_MODEL_INFERENCE_SELECTOR
from neurostack.protocol.tensors import INFERENCE_REQUEST_ABI, MODEL_OUTPUT_ABI
from neurostack.solidity import compile_contracts, load_artifact

PRECOMPILE = to_canonical_address("0x00000000000000000000000000000000000000F4")


def _run_model_inference(abi: list[dict]) -> dict:
    (fn,) = [e for e in abi if e.get("name") == "runModelInference"]
    return fn


def test_selector_equals_the_protocol_selector() -> None:
    fn = _run_model_inference(load_artifact("INeuroInference").abi)
    assert function_abi_to_4byte_selector(fn) == RUN_MODEL_INFERENCE_SELECTOR


def test_argument_and_result_types_equal_the_protocol_abi() -> None:
    fn = _run_model_inference(load_artifact("INeuroInference").abi)
    assert [collapse_if_tuple(i) for i in fn["inputs"]] == [INFERENCE_REQUEST_ABI]
    assert [collapse_if_tuple(o) for o in fn["outputs"]] == [MODEL_OUTPUT_ABI]
    assert fn["stateMutability"] == "nonpayable"


def test_struct_field_names_follow_the_design() -> None:
    fn = _run_model_inference(load_artifact("INeuroInference").abi)
    request = fn["inputs"][0]
    assert request["internalType"] == "struct ModelInferenceRequest"
    assert [c["name"] for c in request["components"]] == ["mode", "modelCID", "input"]
    output = fn["outputs"][0]
    assert [c["name"] for c in output["components"]] == [
        "numbers",
        "strings",
        "jsons",
        "is_simulation_result",
    ]
    number_tensor = output["components"][0]["components"]
    assert [c["name"] for c in number_tensor] == ["name", "values", "shape"]
    assert [c["name"] for c in number_tensor[1]["components"]] == ["value", "decimals"]


def test_constants_a_contract_sees() -> None:
    # Read back through a contract: the precompile address and the four mode numbers.
    src = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import "INeuroInference.sol";
contract Probe {
    function consts() external pure returns (address, uint8, uint8, uint8, uint8, uint8) {
        return (NEURO_INFERENCE_ADDRESS, MODE_VANILLA, MODE_ZK, MODE_TEE, MODE_OPTIMISTIC,
                uint8(ModelInferenceMode.TEE));
    }
}"""
    from tests.contracts.devchain import DevChain

    probe = DevChain().deploy(compile_contracts({"Probe.sol": src})["Probe"])
    address, *modes = probe.call("consts")
    assert to_canonical_address(address) == PRECOMPILE
    assert modes == [0, 1, 2, 3, 2]
