"""ModelInput → onnxruntime feeds, onnxruntime outputs → ModelOutput, and back to arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurostack.protocol import (
    MAX_TENSOR_ELEMENTS,
    InvalidTensor,
    JsonTensor,
    ModelInput,
    Number,
    NumberTensor,
    StringTensor,
    decode_model_output,
    encode_model_output,
    model_input_from_json,
    model_input_from_mapping,
    model_input_to_feeds,
    model_output_to_arrays,
    outputs_to_model_output,
)

SPECS = {"x": ("float32", (None, 3)), "label": ("str", (None, 1))}


def test_feeds_have_the_model_dtypes_and_shapes() -> None:
    inp = model_input_from_json({"x": [[0.1, 2, -3.5]], "label": ["a", "b"]})
    feeds = model_input_to_feeds(inp, SPECS)
    assert list(feeds) == ["x", "label"]
    assert feeds["x"].dtype == np.float32 and feeds["x"].shape == (1, 3)
    assert feeds["x"].tolist() == [[float(np.float32(0.1)), 2.0, -3.5]]
    assert feeds["label"].dtype == object and feeds["label"].tolist() == [["a"], ["b"]]


def test_onnx_type_strings_and_symbolic_dims_are_accepted() -> None:
    inp = model_input_from_json({"x": [[1, 2, 3], [4, 5, 6]]})
    feeds = model_input_to_feeds(inp, {"x": ("tensor(int64)", ("batch", 3))})
    assert feeds["x"].dtype == np.int64 and feeds["x"].shape == (2, 3)


def test_a_missing_leading_batch_dimension_of_one_is_added() -> None:
    inp = model_input_from_json({"x": [1.0, 2.0, 3.0]})
    assert model_input_to_feeds(inp, {"x": ("float64", (None, 3))})["x"].shape == (1, 3)


def test_invalid_tensor_for_unknown_input_name_lists_the_expected_ones() -> None:
    inp = model_input_from_json({"x": [[1, 2, 3]], "label": ["a"], "extra": [1]})
    with pytest.raises(InvalidTensor, match=r"unknown input 'extra'.*x \(float32 \[\?, 3\]\)"):
        model_input_to_feeds(inp, SPECS)


def test_invalid_tensor_for_missing_input() -> None:
    with pytest.raises(InvalidTensor, match="missing input 'label'"):
        model_input_to_feeds(model_input_from_json({"x": [[1, 2, 3]]}), SPECS)


def test_invalid_tensor_for_wrong_shape() -> None:
    inp = model_input_from_json({"x": [[1, 2]], "label": ["a"]})
    with pytest.raises(InvalidTensor, match=r"shape \[1, 2\].*float32 \[\?, 3\]"):
        model_input_to_feeds(inp, SPECS)


def test_invalid_tensor_for_wrong_kind() -> None:
    inp = model_input_from_json({"x": ["a", "b", "c"], "label": ["a"]})
    with pytest.raises(InvalidTensor, match="holds strings"):
        model_input_to_feeds(inp, SPECS)
    inp = model_input_from_json({"x": [[1, 2, 3]], "label": [1]})
    with pytest.raises(InvalidTensor, match="holds numbers"):
        model_input_to_feeds(inp, SPECS)


def test_invalid_tensor_for_strings_that_do_not_fill_the_shape() -> None:
    inp = model_input_from_json({"s": ["a", "b", "c"]})
    with pytest.raises(InvalidTensor, match="do not fill"):
        model_input_to_feeds(inp, {"s": ("str", (None, 2))})


def test_invalid_tensor_for_duplicate_names() -> None:
    inp = ModelInput((NumberTensor("x", (Number(1, 0),), ()),), (StringTensor("x", ("a",)),))
    with pytest.raises(InvalidTensor, match="twice"):
        model_input_to_feeds(inp, {"x": ("int64", ())})


def test_invalid_tensor_for_too_many_elements() -> None:
    with pytest.raises(InvalidTensor, match="at most"):
        model_input_from_mapping({"x": np.zeros(MAX_TENSOR_ELEMENTS + 1, dtype=np.int8)})
    with pytest.raises(InvalidTensor, match="at most"):
        StringTensor("s", ("",) * (MAX_TENSOR_ELEMENTS + 1))


def test_outputs_keep_their_order_and_kinds() -> None:
    outputs = {
        "label": np.array(["cat", "dog"]),
        "scores": np.array([[0.25, 0.75]], dtype=np.float32),
        "count": np.array([2], dtype=np.int64),
        "probabilities": [{"cat": np.float32(0.25), "dog": np.float32(0.75)}],
    }
    out = outputs_to_model_output(outputs)
    assert [t.name for t in out.numbers] == ["scores", "count"]
    assert out.strings == (StringTensor("label", ("cat", "dog")),)
    assert out.jsons == (JsonTensor("probabilities", '[{"cat":0.25,"dog":0.75}]'),)
    assert out.numbers[0].values[1] == Number(75 * 10**16, 18)
    arrays = model_output_to_arrays(decode_model_output(encode_model_output(out)))
    assert arrays["scores"].dtype == np.float64 and arrays["scores"].tolist() == [[0.25, 0.75]]
    assert arrays["count"].dtype == np.int64 and arrays["count"].tolist() == [2]
    assert arrays["label"].tolist() == ["cat", "dog"]


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
        elements={"allow_nan": False, "allow_infinity": False, "min_value": -1e6, "max_value": 1e6},
    )
)
def test_float_arrays_survive_output_and_input_conversion(arr: np.ndarray) -> None:
    # Output path: exact to 1e-18, so float64 arrays come back within 1e-18 absolute.
    back = model_output_to_arrays(outputs_to_model_output({"y": arr}))["y"]
    assert back.shape == arr.shape
    assert np.all(np.abs(back - arr.astype(np.float64)) <= 1e-18 + 1e-15 * np.abs(arr))
    # Input path: shortest decimals in the array's own dtype read back bit for bit.
    inp = model_input_from_mapping({"x": arr})
    spec = {"x": (arr.dtype.name, arr.shape)}
    # (-0.0 becomes 0.0: a Number has no negative zero; adding 0.0 folds both.)
    assert (model_input_to_feeds(inp, spec)["x"] + 0.0).tobytes() == (arr + 0.0).tobytes()


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint64, np.bool_]),
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
    )
)
def test_integer_arrays_round_trip_exactly(arr: np.ndarray) -> None:
    inp = model_input_from_mapping({"x": arr})
    feeds = model_input_to_feeds(inp, {"x": (arr.dtype.name, arr.shape)})
    assert feeds["x"].dtype == arr.dtype and np.array_equal(feeds["x"], arr)
    back = model_output_to_arrays(outputs_to_model_output({"y": arr}))["y"]
    assert back.dtype.kind in "iu" and back.tolist() == arr.tolist()


def test_invalid_tensor_for_output_json_that_cannot_be_written() -> None:
    with pytest.raises(InvalidTensor, match="JSON"):
        outputs_to_model_output({"m": [{"a": float("nan")}]})


def test_numpy_integer_dimensions_are_accepted() -> None:
    t = NumberTensor("x", (Number(1, 0), Number(2, 0)), np.array([1, 2]))
    assert t.shape == (1, 2) and all(type(d) is int for d in t.shape)
    inp = ModelInput((t,))
    feeds = model_input_to_feeds(inp, {"x": ("int64", (np.int64(1), np.int64(2)))})
    assert feeds["x"].tolist() == [[1, 2]]
