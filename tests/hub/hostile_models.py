"""ONNX models an attacker would upload, built with ``onnx.helper``.

Two families: models that try to reach outside their own bytes (external data in every
place ONNX allows a tensor, custom and unknown operators), and models that are valid but
try to exhaust a sprinter (a Loop that never ends, outputs sized by an input value).
Every model takes float32 ``x`` [1, 4] and answers float32 ``y``, like the honest sample,
and uses IR version 8 / opset 17, which the workers' onnxruntime loads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8


def _model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto] | None = None,
    *,
    inputs: list[onnx.ValueInfoProto] | None = None,
    output_shape: list[int | str] | None = None,
    domains: dict[str, int] | None = None,
    **fields: object,
) -> bytes:
    graph = helper.make_graph(
        nodes,
        "hostile",
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [
            helper.make_tensor_value_info(
                "y", TensorProto.FLOAT, [1, 4] if output_shape is None else output_shape
            )
        ],
        initializers or [],
    )
    opsets = [helper.make_opsetid("", OPSET)] + [
        helper.make_opsetid(d, v) for d, v in (domains or {}).items()
    ]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION, **fields)
    return model.SerializeToString()


def external_tensor(name: str, location: str, dims: tuple[int, ...] = (1, 4)) -> onnx.TensorProto:
    """A float tensor whose bytes are said to live in the file ``location``."""
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(dims))
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def external_initializer(location: str) -> bytes:
    """``y = x + w`` with ``w`` read from ``location``: the output would reveal the file."""
    return _model([helper.make_node("Add", ["x", "w"], ["y"])], [external_tensor("w", location)])


def external_constant_attribute(location: str) -> bytes:
    """The same through a ``Constant`` node's ``value`` attribute."""
    constant = helper.make_node("Constant", [], ["w"], value=external_tensor("value", location))
    return _model([constant, helper.make_node("Add", ["x", "w"], ["y"])])


def external_in_subgraph(location: str) -> bytes:
    """An ``If`` whose branch holds an initializer with external data."""
    then_out = helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])
    then_graph = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["t"])], "then", [], [then_out],
        [external_tensor("w", location)],
    )  # fmt: skip
    else_graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["e"])], "else", [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])],
    )  # fmt: skip
    cond = numpy_helper.from_array(np.array(True), "cond")
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_graph, else_branch=else_graph)
    return _model([node], [cond])


def external_sparse_initializer(location: str) -> bytes:
    """A sparse initializer whose values live in another file."""
    values = external_tensor("w", location, (4,))
    indices = numpy_helper.from_array(np.array([0, 1, 2, 3], dtype=np.int64), "w_indices")
    sparse = helper.make_sparse_tensor(values, indices, [1, 4])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        sparse_initializer=[sparse],
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    return model.SerializeToString()


def custom_domain_op() -> bytes:
    """An operator from a custom domain (would need a native custom-op library)."""
    node = helper.make_node("ReadFile", ["x"], ["y"], domain="com.evil", path="/etc/passwd")
    return _model([node], domains={"com.evil": 1})


def ep_context_op(location: str) -> bytes:
    """onnxruntime's ``com.microsoft`` ``EPContext``, which loads a cache file by path."""
    node = helper.make_node(
        "EPContext", ["x"], ["y"], domain="com.microsoft", embed_mode=0, ep_cache_context=location
    )
    return _model([node], domains={"com.microsoft": 1})


def function_with_custom_op() -> bytes:
    """A model-local function that hides a custom-domain operator in its body."""
    body = [helper.make_node("ReadFile", ["a"], ["b"], domain="com.evil")]
    function = helper.make_function(
        "local", "Wrap", ["a"], ["b"], body,
        [helper.make_opsetid("", OPSET), helper.make_opsetid("com.evil", 1)],
    )  # fmt: skip
    node = helper.make_node("Wrap", ["x"], ["y"], domain="local")
    return _model([node], domains={"local": 1, "com.evil": 1}, functions=[function])


def unknown_standard_op() -> bytes:
    """An operator name that does not exist in the standard domain."""
    return _model([helper.make_node("ReadFile", ["x"], ["y"])])


def metadata_location(location: str) -> bytes:
    """A ``location`` entry in the model's metadata."""
    model = onnx.load_model_from_string(_model([helper.make_node("Identity", ["x"], ["y"])]))
    helper.set_model_props(model, {"location": location})
    return model.SerializeToString()


def reaching_outside(store_dir: Path, key_file: Path) -> dict[str, bytes]:
    """Every model above that points outside its own bytes, by a name saying how."""
    link = store_dir / "models" / "key-link"
    link.unlink(missing_ok=True)
    link.symlink_to(key_file)
    return {
        "relative ../../keys/sprinter-0.key": external_initializer("../../keys/sprinter-0.key"),
        "/etc/passwd": external_initializer("/etc/passwd"),
        "absolute path of a real key file": external_initializer(str(key_file)),
        "symlink in the store dir": external_initializer("key-link"),
        "nonexistent path": external_initializer("no/such/file.bin"),
        "constant attribute": external_constant_attribute(str(key_file)),
        "initializer in an If branch": external_in_subgraph("../../keys/sprinter-0.key"),
        "sparse initializer": external_sparse_initializer(str(key_file)),
        "metadata location": metadata_location(str(key_file)),
        "custom-op domain": custom_domain_op(),
        "EPContext cache file": ep_context_op(str(key_file)),
        "custom op inside a local function": function_with_custom_op(),
        "unknown operator": unknown_standard_op(),
    }


# -- models that are valid but try to exhaust a sprinter ------------------------------


def endless_loop() -> bytes:
    """A ``Loop`` with a trip count of 2^62 and a body that always continues."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1, 4]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1, 4]),
        ],
        [numpy_helper.from_array(np.ones((1, 4), np.float32), "one")],
    )
    trips = numpy_helper.from_array(np.array(2**62, dtype=np.int64), "trips")
    cond = numpy_helper.from_array(np.array(True), "cond")
    loop = helper.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)
    return _model([loop], [trips, cond])


def allocation_sized_by_input() -> bytes:
    """``ConstantOfShape`` whose shape is computed from the input's values: an input of
    ``[[1e9, 1e9, 1, 1]]`` asks for 10^18 floats; ``[[1, 1, 1, 1]]`` is honest."""
    cast = helper.make_node("Cast", ["x"], ["dims"], to=TensorProto.INT64)
    flat = helper.make_node("Reshape", ["dims", "minus_one"], ["shape"])
    fill = helper.make_node("ConstantOfShape", ["shape"], ["big"], value=helper.make_tensor(
        "v", TensorProto.FLOAT, [1], [1.0]
    ))  # fmt: skip
    total = helper.make_node("ReduceSum", ["big"], ["y"], keepdims=0)
    minus_one = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one")
    return _model([cast, flat, fill, total], [minus_one], output_shape=[])


def expand_sized_by_input() -> bytes:
    """``Expand`` to a shape read from the input (the same attack with another operator)."""
    cast = helper.make_node("Cast", ["x"], ["dims"], to=TensorProto.INT64)
    flat = helper.make_node("Reshape", ["dims", "minus_one"], ["shape"])
    expand = helper.make_node("Expand", ["one", "shape"], ["big"])
    total = helper.make_node("ReduceSum", ["big"], ["y"], keepdims=0)
    minus_one = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one")
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    return _model([cast, flat, expand, total], [minus_one, one], output_shape=[])


def output_sized_by_input() -> bytes:
    """``Tile`` of the input by its own first two values: ``[[1000, 1000, 0, 0]]`` asks for
    4 million output values, ``[[1, 1, 0, 0]]`` is honest."""
    starts = numpy_helper.from_array(np.array([0, 0], dtype=np.int64), "starts")
    ends = numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "ends")
    minus_one = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one")
    nodes = [
        helper.make_node("Slice", ["x", "starts", "ends"], ["head"]),
        helper.make_node("Cast", ["head"], ["head64"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["head64", "minus_one"], ["reps"]),
        helper.make_node("Tile", ["x", "reps"], ["y"]),
    ]
    return _model(nodes, [starts, ends, minus_one], output_shape=["rows", "cols"])
