"""The protocol's ABI, hashes and calldata agree byte for byte with Solidity.

A contract compiled with solc-js and run on py-evm builds the same input, hashes it with
the documented request-id formula, decodes our output bytes and answers our calldata.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurostack.protocol import (
    InferenceMode,
    JsonTensor,
    ModelOutput,
    decode_model_output,
    encode_inference_call,
    encode_model_input,
    encode_model_output,
    model_cid,
    model_input_from_json,
    outputs_to_model_output,
    request_id,
)
from neurostack.solidity import compile_contracts

pytestmark = pytest.mark.slow

SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;
import "INeuroInference.sol";

contract ProtocolProbe {
    function input() internal pure returns (ModelInput memory inp) {
        inp.numbers = new NumberTensor[](1);
        inp.numbers[0].name = "x";
        inp.numbers[0].values = new Number[](2);
        inp.numbers[0].values[0] = Number(15, 1);
        inp.numbers[0].values[1] = Number(2, 0);
        inp.numbers[0].shape = new uint32[](2);
        inp.numbers[0].shape[0] = 1;
        inp.numbers[0].shape[1] = 2;
        inp.strings = new StringTensor[](1);
        inp.strings[0].name = "labels";
        inp.strings[0].values = new string[](2);
        inp.strings[0].values[0] = "a";
        inp.strings[0].values[1] = "b";
    }

    function encodedInput() external pure returns (bytes memory) {
        return abi.encode(input());
    }

    function requestId(uint256 chainId, string calldata cid, uint8 mode)
        external pure returns (bytes32)
    {
        return keccak256(abi.encodePacked(
            chainId, keccak256(bytes(cid)), mode, keccak256(abi.encode(input()))));
    }

    function reencode(bytes calldata data) external pure returns (ModelOutput memory) {
        return abi.decode(data, (ModelOutput));
    }

    // Shaped like the precompile: echoes parts of the request into an output.
    function runModelInference(ModelInferenceRequest calldata req)
        external pure returns (ModelOutput memory out)
    {
        out.numbers = req.input.numbers;
        out.strings = req.input.strings;
        out.jsons = new JsonTensor[](1);
        out.jsons[0] = JsonTensor(req.modelCID, "{}");
        out.is_simulation_result = req.mode == MODE_OPTIMISTIC;
    }
}
"""

INPUT = model_input_from_json({"x": [[1.5, 2.0]], "labels": ["a", "b"]})
CID = model_cid(b"hello")


@pytest.fixture(scope="module")
def probe():  # type: ignore[no-untyped-def]
    from tests.contracts.devchain import DevChain

    compiled = compile_contracts({"ProtocolProbe.sol": SOURCE})["ProtocolProbe"]
    return DevChain().deploy(compiled)


def test_solidity_abi_encode_of_the_input_equals_ours(probe) -> None:  # type: ignore[no-untyped-def]
    assert probe.call("encodedInput") == encode_model_input(INPUT)


def test_solidity_request_id_equals_ours(probe) -> None:  # type: ignore[no-untyped-def]
    for chain_id, mode in ((1337, 0), (1, 3)):
        got = probe.call("requestId", chain_id, CID, mode)
        assert got == request_id(chain_id, CID, mode, encode_model_input(INPUT))


def test_solidity_decodes_our_output_bytes_and_returns_them_unchanged(probe) -> None:  # type: ignore[no-untyped-def]
    out = outputs_to_model_output(
        {"y": np.array([[0.1, -2.5]], dtype=np.float32), "label": np.array(["cat"])}
    )
    out = ModelOutput(out.numbers, out.strings, (JsonTensor("j", '{"a":1}'),), True)
    data = encode_model_output(out)
    result = probe.chain.call(probe.address, probe.encode_call("reencode", data))
    assert result.success and result.output == data
    assert decode_model_output(result.output) == out


def test_solidity_reads_our_calldata(probe) -> None:  # type: ignore[no-untyped-def]
    calldata = encode_inference_call(InferenceMode.OPTIMISTIC, CID, INPUT)
    result = probe.chain.call(probe.address, calldata)
    assert result.success
    out = decode_model_output(result.output)
    assert out.numbers == INPUT.numbers and out.strings == INPUT.strings
    assert out.jsons == (JsonTensor(CID, "{}"),) and out.is_simulation_result
