"""JSON forms of inputs and outputs (hub HTTP API, CLI input files, SDK)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurostack.protocol import (
    InvalidTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
    model_input_from_json,
    model_input_from_mapping,
    model_input_to_json,
    model_output_from_json,
    model_output_to_json,
)

from .strategies import model_inputs, model_outputs


def test_friendly_form_gives_shapes_and_exact_decimals() -> None:
    inp = model_input_from_json(
        {"x": [[1.5, 2.0], [0.1, 7]], "flag": True, "big": ["123456789012345678901234567890.5", 1],
         "labels": ["a", "b"]}
    )  # fmt: skip
    assert inp.numbers == (
        NumberTensor("x", (Number(15, 1), Number(2, 0), Number(1, 1), Number(7, 0)), (2, 2)),
        NumberTensor("flag", (Number(1, 0),), ()),
        NumberTensor("big", (Number(1234567890123456789012345678905, 1), Number(1, 0)), (2,)),
    )
    assert inp.strings == (StringTensor("labels", ("a", "b")),)


@pytest.mark.parametrize(
    ("value", "number"),
    [(0.1, Number(1, 1)), (1e20, Number(10**20, 0)), (1e-7, Number(1, 7)), (-2.5, Number(-25, 1)),
     (1e300, Number(1, -300)), ("1.250", Number(1250, 3)), ("-0", Number(0, 0)), (0.0, Number(0, 0)),
     (2**100, Number(2**100, 0))],
)  # fmt: skip
def test_friendly_numbers(value: object, number: Number) -> None:
    (t,) = model_input_from_json({"x": [value, 1]}).numbers
    assert t.values[0] == number


def test_numeric_strings_among_numbers_are_decimals_but_string_lists_stay_strings() -> None:
    assert model_input_from_json({"x": [1, "2.5"]}).numbers[0].values[1] == Number(25, 1)
    assert model_input_from_json({"x": ["1", "2"]}).strings == (StringTensor("x", ("1", "2")),)


def test_numpy_float32_values_use_their_own_shortest_decimal() -> None:
    inp = model_input_from_mapping({"x": np.array([0.1, 1 / 3], dtype=np.float32)})
    assert inp.numbers[0].values == (Number(1, 1), Number(33333334, 8))


def test_canonical_form_is_read_and_written() -> None:
    canonical = {
        "numbers": [{"name": "x", "values": [{"value": "15", "decimals": "1"}], "shape": [1]}],
        "strings": [{"name": "s", "values": ["a"]}],
    }
    inp = model_input_from_json(canonical)
    assert inp == ModelInput(
        (NumberTensor("x", (Number(15, 1),), (1,)),), (StringTensor("s", ("a",)),)
    )
    assert model_input_to_json(inp) == canonical


@settings(max_examples=100, deadline=None)
@given(model_inputs)
def test_canonical_input_json_round_trips_through_text(inp: ModelInput) -> None:
    text = json.dumps(model_input_to_json(inp))
    assert model_input_from_json(json.loads(text)) == inp


@settings(max_examples=100, deadline=None)
@given(model_outputs)
def test_output_json_round_trips_through_text(out: ModelOutput) -> None:
    text = json.dumps(model_output_to_json(out))
    assert model_output_from_json(json.loads(text)) == out


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6))
def test_friendly_floats_read_back_as_the_same_float64(xs: list[float]) -> None:
    from neurostack.protocol import number_tensor_to_array

    (t,) = model_input_from_json({"x": xs}).numbers
    assert number_tensor_to_array(t, "float64").tolist() == xs


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "JSON object"),
        ({"x": [[1, 2], [3]]}, "ragged"),
        ({"x": [1, "abc"]}, "not a number"),
        ({"x": [float("nan")]}, "finite"),
        ({"x": [float("inf")]}, "finite"),
        ({"x": [{"a": 1}]}, "expected a number"),
        ({"x": [None]}, "expected a number"),
        ({"": [1]}, "non-empty"),
        ({"x": ["1" * 50, 1]}, "significant digits"),
        ({"x": [2**127]}, "does not fit int128"),
        ({"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, "deeper"),
        ({"x": ["1e99999999999999999999999999999999999999999", 1]}, "not a number"),
        ({"numbers": [{"name": "x", "values": [{"value": 1.5, "decimals": 0}], "shape": []}]},
         "integer"),
        ({"numbers": [{"name": "x", "values": [{"value": "1"}], "shape": []}]}, "decimals"),
        ({"numbers": [{"name": "x", "values": [], "shape": [2]}]}, "shape"),
        ({"numbers": [{"name": "x", "values": []}]}, "shape"),
        ({"strings": [{"name": "s", "values": [1]}]}, "strings"),
    ],
)  # fmt: skip
def test_invalid_tensor_for_bad_input_json(obj: object, message: str) -> None:
    with pytest.raises(InvalidTensor, match=message):
        model_input_from_json(obj)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ("x", "JSON object"),
        ({"numbers": [], "extra": 1}, "unknown fields"),
        ({"numbers": {}}, "must be a list"),
        ({"is_simulation_result": "yes"}, "true or false"),
        ({"jsons": [{"name": "j"}]}, "value"),
    ],
)
def test_invalid_tensor_for_bad_output_json(obj: object, message: str) -> None:
    with pytest.raises(InvalidTensor, match=message):
        model_output_from_json(obj)
