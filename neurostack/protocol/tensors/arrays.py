"""Tensors ⇄ numpy arrays, and ``ModelInput`` → onnxruntime feeds.

The hub's sprinters and the chain (re-checking outputs) use this same code, so an input
becomes the same array and an output the same ``ModelOutput`` everywhere.
Supported dtypes: float16/32/64, int8..int64, uint8..uint64, bool and strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidTensor
from .model import (
    MAX_TENSOR_ELEMENTS,
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
)
from .numbers import floats_to_numbers, numbers_to_float, numbers_to_float64, numbers_to_ints

Dim = int | None
InputSpecs = Mapping[str, tuple[str, Sequence[Any]]]
"""ONNX input name → (dtype name, shape); a dimension that is not a non-negative int
(None, a symbolic name, -1) is dynamic."""

_ONNX_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32",
    "tensor(int64)": "int64", "tensor(uint8)": "uint8", "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32", "tensor(uint64)": "uint64", "tensor(bool)": "bool",
    "tensor(string)": "str",
}  # fmt: skip
_STRING_NAMES = {"str", "string", "object", "o", "u"}
_NUMERIC = {
    "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool",
}  # fmt: skip


def resolve_dtype(dtype: np.dtype | str | type) -> np.dtype | None:
    """A supported numpy dtype, or None for strings; InvalidTensor for anything else.

    Accepts numpy dtypes and names ("float32") and ONNX type strings ("tensor(float)").
    """
    key: object
    if isinstance(dtype, str):
        key = _ONNX_TYPES.get(dtype.strip().lower(), dtype.strip().lower())
        if key in _STRING_NAMES:
            return None
    else:
        key = dtype
    try:
        resolved = np.dtype(key)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved is not None and resolved.kind in "OUS":
        return None
    if resolved is None or resolved.name not in _NUMERIC:
        raise InvalidTensor(
            f"unsupported tensor dtype {dtype!r}; supported: {sorted(_NUMERIC)} and strings"
        )
    return resolved


def number_tensor_to_array(t: NumberTensor, dtype: np.dtype | str) -> np.ndarray:
    """The tensor as an array of ``dtype`` and the tensor's shape, converted exactly."""
    dt = resolve_dtype(dtype)
    if dt is None:
        raise InvalidTensor(
            f"tensor {t.name!r} holds numbers but {dtype!r} is a string dtype; "
            "send it as a string tensor"
        )
    if dt.kind == "f":
        flat = numbers_to_float(t.name, t.values, dt)
    else:
        flat = numbers_to_ints(t.name, t.values, dt)
    return flat.reshape(t.shape)


def string_tensor_to_array(t: StringTensor) -> np.ndarray:
    """The tensor as a 1-D numpy array of dtype object holding ``str``."""
    arr = np.empty(len(t.values), dtype=object)
    arr[:] = list(t.values)
    return arr


def array_to_tensor(name: str, arr: Any) -> NumberTensor | StringTensor:
    """An array as a tensor: floats get ``OUTPUT_DECIMALS`` decimals, ints and bools 0,
    strings (str, bytes as UTF-8, object arrays of str) become a flat StringTensor."""
    a = np.asarray(arr)
    if a.size > MAX_TENSOR_ELEMENTS:
        raise InvalidTensor(
            f"tensor {name!r} has {a.size} elements; at most {MAX_TENSOR_ELEMENTS} are allowed"
        )
    shape = tuple(int(d) for d in a.shape)
    if a.dtype.kind == "f":
        return NumberTensor(name, floats_to_numbers(name, a), shape)
    if a.dtype.kind in "iub":
        return NumberTensor(name, tuple(Number(int(x), 0) for x in a.ravel().tolist()), shape)
    if a.dtype.kind in "USO":
        return StringTensor(name, tuple(_as_str(name, x) for x in a.ravel().tolist()))
    raise InvalidTensor(f"tensor {name!r} has dtype {a.dtype}, which has no Number form")


def _as_str(name: str, x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, bytes):
        try:
            return x.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidTensor(f"tensor {name!r} holds bytes that are not UTF-8") from None
    raise InvalidTensor(
        f"tensor {name!r} mixes strings with {type(x).__name__} values; use one kind"
    )


def _describe(dtype: str, shape: Sequence[Any]) -> str:
    dims = ", ".join(str(d) if _fixed(d) else "?" for d in shape)
    return f"{_ONNX_TYPES.get(str(dtype), dtype)} [{dims}]"


def _fixed(dim: Any) -> bool:
    return isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and bool(dim >= 0)


def _fit_shape(
    name: str, shape: tuple[int, ...], spec: Sequence[Any], dtype: str
) -> tuple[int, ...]:
    # One leading batch dimension of 1 may be left out ({"x": [1.5, 2.0]} for [?, 2]).
    if len(shape) == len(spec) - 1 and (not _fixed(spec[0]) or spec[0] == 1):
        shape = (1, *shape)
    if len(shape) == len(spec) and all(not _fixed(s) or s == d for d, s in zip(shape, spec)):
        return shape
    raise InvalidTensor(
        f"input {name!r} has shape {list(shape)} but the model expects "
        f"{_describe(dtype, spec)} (? = any size)"
    )


def _string_shape(name: str, count: int, spec: Sequence[Any]) -> tuple[int, ...]:
    # StringTensor is flat on chain: the model's shape decides the layout. The first
    # dynamic dimension takes what the fixed ones leave; further dynamic ones are 1.
    fixed = math.prod(d for d in spec if _fixed(d))
    dynamic = [i for i, d in enumerate(spec) if not _fixed(d)]
    if dynamic and fixed and count % fixed == 0:
        rest = count // fixed
        return tuple(
            d if _fixed(d) else (rest if i == dynamic[0] else 1) for i, d in enumerate(spec)
        )
    if not dynamic and fixed == count:
        return tuple(spec)
    raise InvalidTensor(
        f"input {name!r} has {count} strings, which do not fill the model's shape "
        f"{_describe('str', spec)}"
    )


def model_input_to_feeds(inp: ModelInput, specs: InputSpecs) -> dict[str, np.ndarray]:
    """The onnxruntime feeds for ``inp``, in ``specs`` order, checked against the model."""
    given: dict[str, NumberTensor | StringTensor] = {}
    tensors: list[NumberTensor | StringTensor] = [*inp.numbers, *inp.strings]
    for t in tensors:
        if t.name in given:
            raise InvalidTensor(f"input {t.name!r} is given twice; give each input once")
        given[t.name] = t
    expected = ", ".join(f"{n} ({_describe(d, s)})" for n, (d, s) in specs.items())
    unknown = [n for n in given if n not in specs]
    if unknown:
        raise InvalidTensor(f"unknown input {unknown[0]!r}; the model expects {expected}")
    missing = [n for n in specs if n not in given]
    if missing:
        raise InvalidTensor(f"missing input {missing[0]!r}; the model expects {expected}")
    feeds: dict[str, np.ndarray] = {}
    for name, (dtype, spec) in specs.items():
        t, dt = given[name], resolve_dtype(dtype)
        if isinstance(t, StringTensor):
            if dt is not None:
                raise InvalidTensor(
                    f"input {name!r} holds strings but the model expects {_describe(dtype, spec)}"
                )
            feeds[name] = string_tensor_to_array(t).reshape(
                _string_shape(name, len(t.values), spec)
            )
        else:
            if dt is None:
                raise InvalidTensor(f"input {name!r} holds numbers but the model expects strings")
            shape = _fit_shape(name, t.shape, spec, dtype)
            feeds[name] = number_tensor_to_array(t, dt).reshape(shape)
    return feeds


def outputs_to_model_output(outputs: Mapping[str, Any]) -> ModelOutput:
    """onnxruntime outputs as a ModelOutput, keeping their order.

    Arrays become number or string tensors; other values (lists of dicts such as
    scikit-learn's ZipMap probabilities) become JSON tensors with sorted keys.
    """
    numbers: list[NumberTensor] = []
    strings: list[StringTensor] = []
    jsons: list[JsonTensor] = []
    for name, value in outputs.items():
        if isinstance(value, (np.ndarray, np.generic)):
            t = array_to_tensor(name, value)
            if isinstance(t, NumberTensor):
                numbers.append(t)
            else:
                strings.append(t)
        else:
            jsons.append(JsonTensor(name, _to_json_text(name, value)))
    return ModelOutput(tuple(numbers), tuple(strings), tuple(jsons))


def _to_json_text(name: str, value: Any) -> str:
    def plain(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"{type(x).__name__} is not JSON")

    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=plain
        )
    except (TypeError, ValueError) as exc:
        raise InvalidTensor(f"output {name!r} cannot be written as JSON: {exc}") from None


def model_output_to_arrays(out: ModelOutput) -> dict[str, np.ndarray]:
    """Arrays of an output: number tensors whose values all have 0 decimals as int64 (uint64
    if they only fit there), others as float64 (nearest float); strings as 1-D object
    arrays; JSON tensors as 0-d object arrays holding the JSON text."""
    arrays: dict[str, np.ndarray] = {}
    for t in out.numbers:
        arrays[t.name] = _number_array(t)
    for s in out.strings:
        arrays[s.name] = string_tensor_to_array(s)
    for j in out.jsons:
        arrays[j.name] = np.array(j.value, dtype=object)
    return arrays


def _number_array(t: NumberTensor) -> np.ndarray:
    if all(n.decimals == 0 for n in t.values):
        ints = [n.value for n in t.values]
        for dtype in (np.int64, np.uint64):
            info = np.iinfo(dtype)
            if all(info.min <= v <= info.max for v in ints):
                return np.array(ints, dtype=dtype).reshape(t.shape)
    return np.array(numbers_to_float64(t.name, t.values), dtype=np.float64).reshape(t.shape)
