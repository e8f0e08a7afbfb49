"""What an uploaded ONNX model may contain: only its own bytes and the standard operators.

The hub is multi-tenant: whoever uploads a model must not be able to make the hub or a
sprinter read, reveal or probe anything outside the uploaded file. ONNX has three ways
of reaching outside a file, and :func:`check_self_contained` refuses all of them, in
every place a model can hold them (graph initializers, sparse initializers, tensors in
node attributes, subgraphs of ``If``/``Loop``/``Scan``, model-local functions, training
graphs):

- external data: a tensor whose bytes live in another file (``data_location =
  EXTERNAL`` or any ``external_data`` entry), and any ``location`` key anywhere;
- operators outside the standard sets ``ai.onnx`` and ``ai.onnx.ml``: custom-op domains
  need a native library, and onnxruntime's own ``com.microsoft`` domain has operators
  that open files (``EPContext`` caches). Model-local functions are allowed: their
  bodies are checked with the same rule (and may not call themselves);
- nothing else in the standard sets touches a file or the network.

The check reads the parsed protobuf only; it never looks at the filesystem, so its answer
(and its message) is the same whether a referenced path exists or not. It runs before
``onnx.checker``, which would otherwise probe external-data paths and say which exist.
"""

from __future__ import annotations

from collections.abc import Iterator

import onnx
from google.protobuf.message import Message

from .errors import InvalidModel

#: Operator sets a model may use (the empty string is ``ai.onnx``'s usual spelling).
ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})

SELF_CONTAINED_HINT = (
    "the hub serves only self-contained models: save the weights inside the .onnx file "
    "(onnx.save_model(model, path, save_as_external_data=False)) and upload again"
)


class ModelNotSelfContained(InvalidModel):
    """The model refers to something outside its own bytes, or to non-standard operators."""


def _messages(message: Message) -> Iterator[Message]:
    """Every protobuf message inside ``message`` (itself included), depth first."""
    stack = [message]
    while stack:
        current = stack.pop()
        yield current
        for field, value in current.ListFields():
            if field.message_type is None:
                continue
            if isinstance(value, Message):
                stack.append(value)
            else:  # a repeated field of messages
                stack.extend(value)


def _node_label(node: onnx.NodeProto) -> str:
    return f"operator {node.op_type!r}" + (f" (node {node.name!r})" if node.name else "")


def _function_calls(function: onnx.FunctionProto) -> set[tuple[str, str]]:
    return {(m.domain, m.op_type) for m in _messages(function) if isinstance(m, onnx.NodeProto)}


def _check_no_recursion(functions: dict[tuple[str, str], onnx.FunctionProto]) -> None:
    calls = {key: _function_calls(f) & functions.keys() for key, f in functions.items()}
    done: set[tuple[str, str]] = set()

    def visit(key: tuple[str, str], path: tuple[tuple[str, str], ...]) -> None:
        if key in path:
            raise ModelNotSelfContained(
                f"model-local function {key[1]!r} calls itself; inline it or export "
                "the model without recursive functions"
            )
        if key in done:
            return
        for callee in calls[key]:
            visit(callee, (*path, key))
        done.add(key)

    for key in functions:
        visit(key, ())


def check_self_contained(model: onnx.ModelProto) -> None:
    """Refuse a model that reaches outside its own bytes (see the module docstring).

    Raises :class:`ModelNotSelfContained` (an :class:`InvalidModel`, HTTP 422)."""
    functions = {(f.domain, f.name): f for f in model.functions}
    for message in _messages(model):
        if isinstance(message, onnx.TensorProto):
            if message.data_location == onnx.TensorProto.EXTERNAL or len(message.external_data):
                name = f"tensor {message.name!r}" if message.name else "a tensor"
                raise ModelNotSelfContained(
                    f"{name} keeps its data outside the model file (external data); "
                    + SELF_CONTAINED_HINT
                )
        elif isinstance(message, onnx.StringStringEntryProto):
            if message.key.strip().lower() == "location":
                raise ModelNotSelfContained(
                    "the model has a 'location' entry (a reference to another file); "
                    + SELF_CONTAINED_HINT
                )
        elif isinstance(message, onnx.NodeProto):
            if message.domain in ALLOWED_DOMAINS:
                continue
            if (message.domain, message.op_type) in functions:
                continue
            raise ModelNotSelfContained(
                f"{_node_label(message)} is from the domain {message.domain!r}; "
                "the hub runs only the standard operator sets ai.onnx and ai.onnx.ml "
                "(custom-op libraries and onnxruntime's com.microsoft operators are not "
                "loaded): export the model with standard operators"
            )
    _check_no_recursion(functions)


def parse_model(data: bytes) -> onnx.ModelProto:
    """Parse model bytes (never resolving external data); :class:`InvalidModel` if not ONNX."""
    try:
        return onnx.load_model_from_string(data)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning, ...
        raise InvalidModel(
            f"the file is not an ONNX model ({type(exc).__name__}: {exc}); "
            "upload a .onnx file exported by your framework"
        ) from None


__all__ = [
    "ALLOWED_DOMAINS",
    "ModelNotSelfContained",
    "check_self_contained",
    "parse_model",
]
