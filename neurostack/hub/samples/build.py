"""Regenerate the sample ONNX models of the hub, byte for byte.

Run ``python -m neurostack.hub.samples.build`` to rewrite the ``.onnx`` files next to
this module. The weights come from a seeded numpy generator and the graphs from the
onnx helper API with pinned opsets and IR version, so the output is deterministic;
``tests/hub/test_samples.py`` regenerates them and compares bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
OPSET = 17  # ai.onnx
ML_OPSET = 3  # ai.onnx.ml, for LabelEncoder(int64 -> string)
IR_VERSION = 8
PRODUCER = "neurostack.hub.samples"
CLASS_LABELS = ("negative", "neutral", "positive")


def _weights(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.5, size=shape).astype(np.float32)


def _model(graph: onnx.GraphProto, opsets: dict[str, int]) -> onnx.ModelProto:
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets.items()],
        producer_name=PRODUCER,
        producer_version="1",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def build_mlp_regressor() -> onnx.ModelProto:
    """float32 x[N,4] -> Gemm(4x8) -> Relu -> Gemm(8x1) -> float32 y[N,1]."""
    inits = [
        numpy_helper.from_array(_weights(1, 4, 8), "W1"),
        numpy_helper.from_array(_weights(2, 8), "b1"),
        numpy_helper.from_array(_weights(3, 8, 1), "W2"),
        numpy_helper.from_array(_weights(4, 1), "b2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
        helper.make_node("Gemm", ["h_relu", "W2", "b2"], ["y"], name="dense2"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp_regressor",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        initializer=inits,
    )
    return _model(graph, {"": OPSET})


def build_text_classifier() -> onnx.ModelProto:
    """float32 x[N,4] -> linear logits[N,3] -> Softmax -> float32 probabilities[N,3];
    ArgMax -> LabelEncoder -> string label[N] (one of ``CLASS_LABELS``)."""
    inits = [
        numpy_helper.from_array(_weights(11, 4, 3), "W"),
        numpy_helper.from_array(_weights(12, 3), "b"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["logits"], name="linear"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"),
        helper.make_node("ArgMax", ["logits"], ["class_index"], axis=1, keepdims=0, name="argmax"),
        helper.make_node(
            "LabelEncoder",
            ["class_index"],
            ["label"],
            domain="ai.onnx.ml",
            keys_int64s=list(range(len(CLASS_LABELS))),
            values_strings=list(CLASS_LABELS),
            default_string="unknown",
            name="labels",
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "text_classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [
            helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 3]),
        ],
        initializer=inits,
    )
    return _model(graph, {"": OPSET, "ai.onnx.ml": ML_OPSET})


BUILDERS: dict[str, Callable[[], onnx.ModelProto]] = {
    "mlp_regressor": build_mlp_regressor,
    "text_classifier": build_text_classifier,
}


def build_bytes(name: str) -> bytes:
    """The serialized bytes of sample ``name`` (deterministic)."""
    return BUILDERS[name]().SerializeToString(deterministic=True)


def main(out_dir: Path = HERE) -> list[Path]:
    written = []
    for name in BUILDERS:
        path = Path(out_dir) / f"{name}.onnx"
        path.write_bytes(build_bytes(name))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in main():
        print(written_path)
