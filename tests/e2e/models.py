"""Models of the end-to-end tests: the shipped MLP sample and a tiny affine model built
here (``y = 2·x + 1`` on a [N, 1] input) to feed the MLP's [N, 1] output into a second
model. Reference outputs come from direct onnxruntime runs, encoded as the chain does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from neurostack.hub.samples import sample_model_path
from neurostack.protocol import array_to_tensor
from tests.hub.helpers import run_onnx

FEATURES = [500, -1250, 2000, 125]  # with 3 decimals: 0.5, -1.25, 2.0, 0.125 (exact in float32)
DECIMALS = 3


def build_affine(path: Path) -> Path:
    """Write ``y = 2·x + 1`` (float32 [N, 1] -> [N, 1]) to ``path``."""
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "two"], ["twice"]),
            helper.make_node("Add", ["twice", "one"], ["y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(np.array([2.0], np.float32), "two"),
            numpy_helper.from_array(np.array([1.0], np.float32), "one"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path


def mlp_output(features: list[int], decimals: int = DECIMALS) -> np.ndarray:
    x = np.array([[f / 10**decimals for f in features]], dtype=np.float32)
    return run_onnx(sample_model_path("mlp_regressor"), {"x": x})["y"]


def chain_value(y: np.ndarray) -> tuple[int, int]:
    """(value, decimals) of the first number of ``y`` as the chain encodes float outputs."""
    first = array_to_tensor("y", y).values[0]  # type: ignore[union-attr]
    return first.value, first.decimals
