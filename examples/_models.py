"""How the examples build their ONNX models: scikit-learn on seeded synthetic data, skl2onnx.

Each example's ``build_model.py`` trains a small model and calls :func:`to_onnx` here;
``examples/test_catalog.py`` rebuilds every committed ``.onnx`` file and compares bytes.
Three things make the bytes reproducible:

- the data comes from ``numpy.random.default_rng(seed)`` and training runs with BLAS on
  one thread (``single_threaded``), so sums are taken in one order on every machine;
- the learned weights are rounded to ``WEIGHT_DECIMALS`` decimals before conversion, so a
  last-bit difference in a BLAS kernel of another CPU rarely reaches the file; where it
  does (OpenBLAS chooses its kernels per CPU, and many L-BFGS steps carry a rounding
  difference into the weights), the test asserts a deterministic build on that machine
  and the committed file's exact graph with other learned numbers (:func:`graph_shape`);
- what skl2onnx would vary (the graph's random name, its own version string) is fixed, and
  the opsets and IR version are pinned.

The scikit-learn and skl2onnx versions that built a file are kept in its metadata
(``built_with``); another version may lay out the graph differently, and the test says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import onnx

OPSETS = {"": 17, "ai.onnx.ml": 3}
IR_VERSION = 8
WEIGHT_DECIMALS = 6


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS and OpenMP on one thread: deterministic sums (and, on a busy 2-core machine,
    much faster than threads fighting over the cores). L-BFGS stopping at ``max_iter`` is
    part of the recipe, not a problem, so its ConvergenceWarning is not shown."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def round_weights(model: Any) -> Any:
    """Round a fitted model's parameters to ``WEIGHT_DECIMALS`` decimals: linear models,
    MLPs, scalers, and each step of a pipeline."""
    for _, step in getattr(model, "steps", ()):
        round_weights(step)
    for name in ("coef_", "intercept_", "mean_", "scale_"):
        if hasattr(model, name):
            setattr(model, name, np.round(getattr(model, name), WEIGHT_DECIMALS))
    for name in ("coefs_", "intercepts_"):
        if hasattr(model, name):
            setattr(model, name, [np.round(w, WEIGHT_DECIMALS) for w in getattr(model, name)])
    return model


def to_onnx(
    model: Any, name: str, n_features: int, *, input_name: str = "x",
    rename: dict[str, str] | None = None, classifier: bool = False,
) -> bytes:  # fmt: skip
    """Serialized ONNX of a fitted ``model`` with one float32 input ``[N, n_features]``.

    ``rename`` gives skl2onnx's outputs other names (a regressor's is ``variable``); a
    classifier gets plain ``label`` and ``probabilities`` tensors (no ZipMap: the chain
    encodes tensors, not maps)."""
    import skl2onnx
    import sklearn
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(model): {"zipmap": False}} if classifier else None
    proto = skl2onnx.convert_sklearn(
        round_weights(model), name=name,
        initial_types=[(input_name, FloatTensorType([None, n_features]))],
        target_opset=OPSETS, options=options,
    )  # fmt: skip
    width = getattr(model, "n_outputs_", 1)
    if not classifier and width > 1:
        _fix_output_width(proto, width)
    for old, new in (rename or {}).items():
        for node in proto.graph.node:
            node.output[:] = [new if o == old else o for o in node.output]
            node.input[:] = [new if i == old else i for i in node.input]
        for value in proto.graph.output:
            if value.name == old:
                value.name = new
    proto.graph.name = name
    proto.producer_name = "neurostack.examples"
    proto.producer_version = "1"
    proto.doc_string = ""
    proto.ir_version = IR_VERSION
    del proto.metadata_props[:]
    built = f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}"
    proto.metadata_props.add(key="built_with", value=built)
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString(deterministic=True)


def _fix_output_width(proto: onnx.ModelProto, width: int) -> None:
    """skl2onnx reshapes a regressor's output to [-1, 1] even when it predicts ``width``
    values per row (a [1, 3] answer would come out as [3, 1]): make it [-1, width]."""
    from onnx import numpy_helper

    outputs = {o.name for o in proto.graph.output}
    for node in proto.graph.node:
        if node.op_type == "Reshape" and node.output[0] in outputs:
            for init in proto.graph.initializer:
                if init.name == node.input[1]:
                    init.CopyFrom(
                        numpy_helper.from_array(np.array([-1, width], np.int64), init.name)
                    )
    for value in proto.graph.output:
        value.type.tensor_type.shape.dim[1].dim_value = width


def graph_shape(data: bytes) -> bytes:
    """The model with every float initializer's values zeroed: its graph, names, shapes,
    opsets and metadata, without what training learned."""
    proto = onnx.load_from_string(data)
    for tensor in proto.graph.initializer:
        if tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            array = onnx.numpy_helper.to_array(tensor)
            tensor.CopyFrom(onnx.numpy_helper.from_array(np.zeros_like(array), tensor.name))
    return proto.SerializeToString()


def built_with(path: Path) -> str:
    """The library versions recorded in a committed model."""
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return props.get("built_with", "unknown versions")


def write(folder: Path, models: dict[str, bytes]) -> list[Path]:
    """Write ``{file name: bytes}`` into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, data in models.items():
        (folder / file_name).write_bytes(data)
        paths.append(folder / file_name)
    return paths
