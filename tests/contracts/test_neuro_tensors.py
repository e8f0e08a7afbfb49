"""NeuroTensors.sol, exercised through a harness contract on py-evm and checked against
neurostack.protocol (the same encoding the hub and the chain use)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import (
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
    encode_model_input,
)
from neurostack.protocol.tensors.abi import model_input_tuple, model_output_tuple
from neurostack.solidity import compile_contracts
from tests.contracts.devchain import CHAIN_ID, Contract, DevChain, error_selector

HARNESS = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import "NeuroTensors.sol";

contract Harness {
    function toFixed(int128 value, int128 decimals, uint8 target) external pure returns (int256) {
        return NeuroTensors.toFixed(Number(value, decimals), target);
    }
    function row(string memory name, int256[] memory values, int128 decimals)
        external pure returns (NumberTensor memory) {
        return NeuroTensors.rowTensor(name, values, decimals);
    }
    function flat(string memory name, int256[] memory values, int128 decimals)
        external pure returns (NumberTensor memory) {
        return NeuroTensors.numberTensor1D(name, values, decimals);
    }
    function getNumber(ModelOutput memory out, string memory name, uint256 i)
        external pure returns (Number memory) {
        return NeuroTensors.getNumber(out, name, i);
    }
    function getString(ModelOutput memory out, string memory name, uint256 i)
        external pure returns (string memory) {
        return NeuroTensors.getString(out, name, i);
    }
    function getJson(ModelOutput memory out, string memory name) external pure returns (string memory) {
        return NeuroTensors.getJson(out, name);
    }
    function has(ModelOutput memory out, string memory name) external pure returns (bool) {
        return NeuroTensors.hasNumberTensor(out, name);
    }
    function requestId(uint8 mode, string memory cid, ModelInput memory input)
        external view returns (bytes32) {
        return NeuroTensors.requestId(mode, cid, input);
    }
    function strings(string memory name, string[] memory values) external pure returns (ModelInput memory) {
        return NeuroTensors.singleInput(NeuroTensors.stringTensor(name, values));
    }
}
"""

INT128 = st.integers(-(2**127), 2**127 - 1)
INT256_MAX, INT256_MIN = 2**255 - 1, -(2**255)


@pytest.fixture(scope="module")
def harness() -> Contract:
    return DevChain().deploy(compile_contracts({"Harness.sol": HARNESS})["Harness"])


def reference_to_fixed(value: int, decimals: int, target: int) -> int | None:
    """value * 10^(target - decimals), truncated toward zero; None when it overflows int256."""
    shift = target - decimals
    if shift >= 0:
        result = value * 10**shift
        return result if INT256_MIN <= result <= INT256_MAX else None
    magnitude = abs(value) // 10**-shift
    return magnitude if value >= 0 else -magnitude


def revert_data(harness: Contract, fn: str, *args: object) -> bytes:
    result = harness.chain.call(harness.address, harness.encode_call(fn, *args))
    assert not result.success
    return result.output


@pytest.mark.parametrize(
    ("value", "decimals", "target", "expected"),
    [
        (199, 2, 0, 1),  # 1.99 -> 1: truncation, not rounding
        (-199, 2, 0, -1),  # toward zero, not toward -infinity
        (15, 1, 18, 15 * 10**17),
        (5, -3, 0, 5000),  # negative decimals scale up
        (2**127 - 1, 0, 38, (2**127 - 1) * 10**38),
        (123, 200, 18, 0),
        (0, -(2**127), 255, 0),
    ],
)
def test_to_fixed_examples(
    harness: Contract, value: int, decimals: int, target: int, expected: int
) -> None:
    assert harness.call("toFixed", value, decimals, target) == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=INT128, decimals=st.integers(-120, 120), target=st.integers(0, 255))
def test_to_fixed_matches_the_reference(
    harness: Contract, value: int, decimals: int, target: int
) -> None:
    expected = reference_to_fixed(value, decimals, target)
    if expected is None:
        output = revert_data(harness, "toFixed", value, decimals, target)
        assert output[:4] == error_selector("FixedPointOverflow(int128,int128,uint8)")
    else:
        assert harness.call("toFixed", value, decimals, target) == expected


def test_invalid_to_fixed_overflow_has_a_named_error(harness: Contract) -> None:
    output = revert_data(harness, "toFixed", 2**127 - 1, 0, 39)
    assert output[:4] == error_selector("FixedPointOverflow(int128,int128,uint8)")


def test_row_and_flat_tensors_have_the_expected_shape(harness: Contract) -> None:
    assert harness.call("row", "x", [1, -2, 3], 1) == ("x", ((1, 1), (-2, 1), (3, 1)), (1, 3))
    assert harness.call("flat", "x", [7, 8], 0) == ("x", ((7, 0), (8, 0)), (2,))


def test_invalid_value_outside_int128_is_refused(harness: Contract) -> None:
    output = revert_data(harness, "row", "x", [2**127], 0)
    assert output[:4] == error_selector("NumberOutOfRange(int256)")


OUTPUT = ModelOutput(
    numbers=(
        NumberTensor("scores", (Number(1, 0), Number(25, 1)), (2,)),
        NumberTensor("variable", (Number(7 * 10**18, 18),), (1, 1)),
    ),
    strings=(StringTensor("label", ("cat", "dog")),),
    jsons=(JsonTensor("meta", '{"k": 1}'),),
)


def test_reading_outputs_by_name(harness: Contract) -> None:
    out = model_output_tuple(OUTPUT)
    assert harness.call("getNumber", out, "variable", 0) == (7 * 10**18, 18)
    assert harness.call("getNumber", out, "scores", 1) == (25, 1)
    assert harness.call("getString", out, "label", 1) == "dog"
    assert harness.call("getJson", out, "meta") == '{"k": 1}'
    assert harness.call("has", out, "scores") is True
    assert harness.call("has", out, "label") is False  # a string tensor, not a number one


def test_invalid_reads_revert_with_named_errors(harness: Contract) -> None:
    out = model_output_tuple(OUTPUT)
    missing = revert_data(harness, "getNumber", out, "nope", 0)
    assert missing[:4] == error_selector("TensorNotFound(string)")
    past_end = revert_data(harness, "getString", out, "label", 2)
    assert past_end[:4] == error_selector("TensorIndexOutOfRange(string,uint256,uint256)")
    assert revert_data(harness, "getJson", out, "other")[:4] == error_selector(
        "TensorNotFound(string)"
    )


NAMES = st.text(max_size=8)
NUMBER_TENSORS = st.builds(
    lambda name, values: NumberTensor(name, tuple(values), (len(values),)),
    NAMES,
    st.lists(st.builds(Number, INT128, st.integers(-30, 30)), max_size=4),
)
STRING_TENSORS = st.builds(
    lambda name, values: StringTensor(name, tuple(values)), NAMES, st.lists(NAMES, max_size=3)
)
INPUTS = st.builds(
    lambda n, s: ModelInput(tuple(n), tuple(s)),
    st.lists(NUMBER_TENSORS, max_size=2),
    st.lists(STRING_TENSORS, max_size=2),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(model_input=INPUTS, mode=st.integers(0, 3), cid=NAMES)
def test_request_id_in_solidity_equals_the_protocol(
    harness: Contract, model_input: ModelInput, mode: int, cid: str
) -> None:
    expected = request_id(CHAIN_ID, cid, mode, encode_model_input(model_input))
    assert harness.call("requestId", mode, cid, model_input_tuple(model_input)) == expected


def test_string_input_helper(harness: Contract) -> None:
    built = harness.call("strings", "text", ["a", "b"])
    assert built == ((), (("text", ("a", "b")),))
