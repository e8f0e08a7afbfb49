"""The whole conversion path around a real onnxruntime session.

JSON input → ModelInput → ABI bytes (what a contract sends) → feeds → onnxruntime →
ModelOutput → ABI bytes (what the contract receives) → arrays: equal to running the
model directly on the same numbers.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from neurostack.protocol import (
    InvalidTensor,
    decode_model_input,
    decode_model_output,
    encode_model_input,
    encode_model_output,
    model_input_from_json,
    model_input_to_feeds,
    model_output_to_arrays,
    outputs_to_model_output,
)


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    label = helper.make_tensor_value_info("label", TensorProto.STRING, ["batch", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    n = helper.make_tensor_value_info("n", TensorProto.INT64, ["batch", 3])
    same = helper.make_tensor_value_info("same", TensorProto.STRING, ["batch", 1])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [3], [0.1, -3.0, 1e-7])
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "scale"], ["y"]),
            helper.make_node("Cast", ["x"], ["n"], to=TensorProto.INT64),
            helper.make_node("Identity", ["label"], ["same"]),
        ],
        "probe",
        [x, label],
        [y, n, same],
        initializer=[scale],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def specs(session: ort.InferenceSession) -> dict:
    return {i.name: (i.type, tuple(i.shape)) for i in session.get_inputs()}


def test_round_trip_through_onnxruntime_equals_a_direct_run(session: ort.InferenceSession) -> None:
    inp = model_input_from_json({"x": [[1.5, 2.0, 0.1], [-7, 1e6, 3.25]], "label": ["a", "b"]})
    feeds = model_input_to_feeds(decode_model_input(encode_model_input(inp)), specs(session))
    direct_x = np.array([[1.5, 2.0, 0.1], [-7, 1e6, 3.25]], dtype=np.float32)
    np.testing.assert_array_equal(feeds["x"], direct_x)

    names = [o.name for o in session.get_outputs()]
    raw = dict(zip(names, session.run(None, feeds), strict=True))
    output = decode_model_output(encode_model_output(outputs_to_model_output(raw)))
    arrays = model_output_to_arrays(output)

    direct = session.run(None, {"x": direct_x, "label": np.array([["a"], ["b"]], dtype=object)})
    np.testing.assert_allclose(arrays["y"], direct[0].astype(np.float64), rtol=0, atol=1e-18)
    assert arrays["y"].astype(np.float32).tobytes() == direct[0].tobytes()  # bit-exact
    assert arrays["n"].tolist() == direct[1].tolist()
    assert arrays["same"].tolist() == ["a", "b"]
    assert [t.name for t in output.numbers] == ["y", "n"]


def test_invalid_tensor_before_onnxruntime_sees_a_wrong_input(
    session: ort.InferenceSession,
) -> None:
    inp = model_input_from_json({"x": [[1.5, 2.0]], "label": ["a"]})
    with pytest.raises(InvalidTensor, match=r"shape \[1, 2\].*float32 \[\?, 3\]"):
        model_input_to_feeds(inp, specs(session))
