"""JSON forms of ``ModelInput``/``ModelOutput`` for the hub HTTP API, CLI files and the SDK.

Two input forms are read:

- friendly: ``{"x": [[1.5, 2.0]], "labels": ["a", "b"]}``. Nested lists give the shape;
  ints are exact with 0 decimals; a float is the shortest decimal that reads back as the
  same float (``0.1`` → ``Number(1, 1)``); bools are 0/1; numeric strings among numbers
  (``"1.25"``) are exact decimals; lists of only strings are string tensors.
- canonical: ``{"numbers": [{"name", "values": [{"value": "15", "decimals": "1"}], "shape"}],
  "strings": [{"name", "values"}]}`` with integers as decimal strings (JSON readers lose
  precision beyond 2^53). A top-level object whose only keys are ``numbers``/``strings``
  holding lists of objects with a ``name`` is read as canonical.

Only the canonical form is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from ..errors import InvalidTensor
from .arrays import array_to_tensor
from .model import (
    INT128_MAX,
    INT128_MIN,
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
)

_MAX_DIGITS = 39  # int128 has at most 39 decimal digits
MAX_RANK = 32
"""Deepest list nesting read from JSON (ONNX models rarely exceed rank 8)."""


def decimal_to_number(d: Decimal, where: str = "value") -> Number:
    """An exact Decimal as a Number: positive exponents are folded into ``value`` when it
    stays within int128 (``1e3`` → ``Number(1000, 0)``), else kept as negative decimals."""
    if not d.is_finite():
        raise InvalidTensor(f"{where} is {d}; only finite numbers can be sent")
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)  # finite
    digits_text = "".join(map(str, digits)).lstrip("0") or "0"
    if len(digits_text) > _MAX_DIGITS:
        raise InvalidTensor(f"{where} has more than {_MAX_DIGITS} significant digits")
    value = -int(digits_text) if sign else int(digits_text)
    if value == 0:
        return Number(0, max(-exp, 0))
    if 0 < exp <= _MAX_DIGITS and INT128_MIN <= value * 10**exp <= INT128_MAX:
        return Number(value * 10**exp, 0)
    if not INT128_MIN <= -exp <= INT128_MAX:
        raise InvalidTensor(f"{where} has an exponent out of range")
    return Number(value, -exp)


def float_to_shortest_number(x: float | np.floating, where: str = "value") -> Number:
    """A float as the shortest decimal that reads back as the same value in its own dtype."""
    if isinstance(x, np.floating):
        text = np.format_float_scientific(x, unique=True)
    else:
        text = repr(float(x))
    if text in ("nan", "inf", "-inf"):
        raise InvalidTensor(f"{where} is {text}; only finite numbers can be sent")
    return decimal_to_number(Decimal(text).normalize(), where)


def _leaf_number(leaf: Any, where: str) -> Number:
    if isinstance(leaf, (bool, np.bool_)):
        return Number(int(leaf), 0)
    if isinstance(leaf, (int, np.integer)):
        if not INT128_MIN <= int(leaf) <= INT128_MAX:
            raise InvalidTensor(f"{where} ({int(leaf)}) does not fit int128")
        return Number(int(leaf), 0)
    if isinstance(leaf, (float, np.floating)):
        return float_to_shortest_number(leaf, where)
    if isinstance(leaf, str):
        try:
            return decimal_to_number(Decimal(leaf), where)
        except InvalidOperation:
            raise InvalidTensor(
                f"{where} is {leaf!r}, not a number; a tensor holds numbers or strings, not both"
            ) from None
    raise InvalidTensor(f"{where} is a {type(leaf).__name__}; expected a number or a string")


def _flatten(name: str, value: Any, depth: int = 0) -> tuple[list[Any], tuple[int, ...]]:
    if not isinstance(value, (list, tuple)):
        return [value], ()
    if depth >= MAX_RANK:
        raise InvalidTensor(f"input {name!r} is nested deeper than {MAX_RANK} levels")
    if not value:
        return [], (0,)
    parts = [_flatten(name, v, depth + 1) for v in value]
    inner = parts[0][1]
    if any(p[1] != inner for p in parts):
        raise InvalidTensor(f"input {name!r} is ragged: nested lists must all have the same length")
    return [leaf for p in parts for leaf in p[0]], (len(value), *inner)


def _friendly_tensor(name: str, value: Any) -> NumberTensor | StringTensor:
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.kind == "f":  # exact shortest decimals in the array's own dtype
            leaves, shape = list(a.ravel()), tuple(a.shape)
        else:
            return array_to_tensor(name, a)
    else:
        leaves, shape = _flatten(name, value)
    if leaves and all(isinstance(v, str) for v in leaves):
        return StringTensor(name, tuple(leaves))
    numbers = tuple(_leaf_number(v, f"input {name!r} element {i}") for i, v in enumerate(leaves))
    return NumberTensor(name, numbers, shape)


def model_input_from_mapping(values: Mapping[str, Any]) -> ModelInput:
    """A ModelInput from input names to numpy arrays, nested lists or scalars (friendly rules)."""
    if not isinstance(values, Mapping):
        raise InvalidTensor("input must be an object mapping input names to values")
    numbers: list[NumberTensor] = []
    strings: list[StringTensor] = []
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise InvalidTensor(f"input names must be non-empty strings, got {name!r}")
        t = _friendly_tensor(name, value)
        if isinstance(t, NumberTensor):
            numbers.append(t)
        else:
            strings.append(t)
    return ModelInput(tuple(numbers), tuple(strings))


def _is_canonical(obj: Mapping[str, Any]) -> bool:
    return (
        bool(obj)
        and set(obj) <= {"numbers", "strings"}
        and all(
            isinstance(v, list) and all(isinstance(e, Mapping) and "name" in e for e in v)
            for v in obj.values()
        )
    )


def model_input_from_json(obj: Any) -> ModelInput:
    """A ModelInput from its friendly or canonical JSON form (parsed JSON, not text)."""
    if not isinstance(obj, Mapping):
        raise InvalidTensor(
            f'input must be a JSON object such as {{"x": [[1.5, 2.0]]}}, got {type(obj).__name__}'
        )
    if not _is_canonical(obj):
        return model_input_from_mapping(obj)
    return ModelInput(
        tuple(_read_number_tensor(t) for t in obj.get("numbers", [])),
        tuple(_read_string_tensor(t) for t in obj.get("strings", [])),
    )


def _read_int(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise InvalidTensor(f"{where} must be an integer or a decimal string, got {raw!r}")
    try:
        return int(raw)
    except ValueError:
        raise InvalidTensor(f"{where} must be an integer, got {raw!r}") from None


def _field(t: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if not isinstance(t, Mapping) or not isinstance(t.get(key), kind):
        raise InvalidTensor(f"{where} needs a {kind.__name__} field {key!r}")
    return t[key]


def _read_number_tensor(t: Mapping[str, Any]) -> NumberTensor:
    name = _field(t, "name", str, "a number tensor")
    where = f"tensor {name!r}"
    values = []
    for i, n in enumerate(_field(t, "values", list, where)):
        if not isinstance(n, Mapping) or set(n) != {"value", "decimals"}:
            raise InvalidTensor(f'{where} value {i} must be {{"value": "..", "decimals": ".."}}')
        values.append(Number(_read_int(n["value"], where), _read_int(n["decimals"], where)))
    shape = tuple(_read_int(d, f"{where} shape") for d in _field(t, "shape", list, where))
    return NumberTensor(name, tuple(values), shape)


def _read_string_tensor(t: Mapping[str, Any]) -> StringTensor:
    name = _field(t, "name", str, "a string tensor")
    values = _field(t, "values", list, f"tensor {name!r}")
    if not all(isinstance(v, str) for v in values):
        raise InvalidTensor(f"tensor {name!r} values must all be strings")
    return StringTensor(name, tuple(values))


def _write_number_tensor(t: NumberTensor) -> dict[str, Any]:
    return {
        "name": t.name,
        "values": [{"value": str(n.value), "decimals": str(n.decimals)} for n in t.values],
        "shape": list(t.shape),
    }


def model_input_to_json(inp: ModelInput) -> dict[str, Any]:
    """The canonical JSON form of an input."""
    return {
        "numbers": [_write_number_tensor(t) for t in inp.numbers],
        "strings": [{"name": s.name, "values": list(s.values)} for s in inp.strings],
    }


def model_output_to_json(out: ModelOutput) -> dict[str, Any]:
    """The canonical JSON form of an output (adds ``jsons`` and ``is_simulation_result``)."""
    return {
        "numbers": [_write_number_tensor(t) for t in out.numbers],
        "strings": [{"name": s.name, "values": list(s.values)} for s in out.strings],
        "jsons": [{"name": j.name, "value": j.value} for j in out.jsons],
        "is_simulation_result": bool(out.is_simulation_result),
    }


def model_output_from_json(obj: Any) -> ModelOutput:
    """Read the canonical JSON form of an output."""
    if not isinstance(obj, Mapping):
        raise InvalidTensor("output must be a JSON object with numbers, strings and jsons")
    unknown = set(obj) - {"numbers", "strings", "jsons", "is_simulation_result"}
    if unknown:
        raise InvalidTensor(f"output has unknown fields {sorted(unknown)}")
    for key in ("numbers", "strings", "jsons"):
        if not isinstance(obj.get(key, []), list):
            raise InvalidTensor(f"output field {key!r} must be a list")
    sim = obj.get("is_simulation_result", False)
    if not isinstance(sim, bool):
        raise InvalidTensor("output field 'is_simulation_result' must be true or false")
    jsons = []
    for j in obj.get("jsons", []):
        name = _field(j, "name", str, "a JSON tensor")
        jsons.append(JsonTensor(name, _field(j, "value", str, f"JSON tensor {name!r}")))
    return ModelOutput(
        tuple(_read_number_tensor(t) for t in obj.get("numbers", [])),
        tuple(_read_string_tensor(t) for t in obj.get("strings", [])),
        tuple(jsons),
        sim,
    )
