"""The tensor data model of the inference precompile (DESIGN.md section 4).

Plain frozen dataclasses mirroring the Solidity structs field by field. Sequences are
stored as tuples (lists given to the constructors are converted) so every value is
hashable and immutable. ``NumberTensor`` checks that its shape matches its values; the
ranges of ``Number`` fields (int128) are checked when encoding, not here, because a tensor
may hold a million numbers and the check would dominate construction time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ..errors import InvalidTensor

INT128_MIN = -(2**127)
INT128_MAX = 2**127 - 1
UINT32_MAX = 2**32 - 1
MAX_TENSOR_ELEMENTS = 1_000_000
"""Most elements one tensor may hold; larger tensors are rejected with InvalidTensor."""


@dataclass(frozen=True, slots=True)
class Number:
    """``struct Number { int128 value; int128 decimals; }``: the real ``value · 10^-decimals``."""

    value: int
    decimals: int


@dataclass(frozen=True, slots=True)
class NumberTensor:
    """``struct NumberTensor { string name; Number[] values; uint32[] shape; }``, row-major.

    An empty ``shape`` is a scalar (one value).
    """

    name: str
    values: tuple[Number, ...]
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        # numpy integers are accepted as dimensions and stored as ints
        shape = tuple(int(d) if isinstance(d, np.integer) else d for d in self.shape)
        object.__setattr__(self, "shape", shape)
        check_shape(self.name, self.shape, len(self.values))


@dataclass(frozen=True, slots=True)
class StringTensor:
    """``struct StringTensor { string name; string[] values; }`` (flat: no shape on chain)."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if len(self.values) > MAX_TENSOR_ELEMENTS:
            raise InvalidTensor(
                f"tensor {self.name!r} has {len(self.values)} strings; "
                f"at most {MAX_TENSOR_ELEMENTS} are allowed"
            )


@dataclass(frozen=True, slots=True)
class JsonTensor:
    """``struct JsonTensor { string name; string value; }``: a JSON document as text."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ModelInput:
    """``struct ModelInput { NumberTensor[] numbers; StringTensor[] strings; }``."""

    numbers: tuple[NumberTensor, ...] = ()
    strings: tuple[StringTensor, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", tuple(self.numbers))
        object.__setattr__(self, "strings", tuple(self.strings))


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """``struct ModelOutput { NumberTensor[] numbers; StringTensor[] strings;
    JsonTensor[] jsons; bool is_simulation_result; }``."""

    numbers: tuple[NumberTensor, ...] = ()
    strings: tuple[StringTensor, ...] = ()
    jsons: tuple[JsonTensor, ...] = field(default=())
    is_simulation_result: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", tuple(self.numbers))
        object.__setattr__(self, "strings", tuple(self.strings))
        object.__setattr__(self, "jsons", tuple(self.jsons))


def check_shape(name: str, shape: tuple[int, ...], count: int) -> None:
    """Raise InvalidTensor unless ``shape`` is a valid uint32 shape holding ``count`` values."""
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or not 0 <= dim <= UINT32_MAX:
            raise InvalidTensor(
                f"tensor {name!r} has shape {list(shape)}: dimensions must be integers "
                f"from 0 to {UINT32_MAX}"
            )
    size = math.prod(shape)
    if size != count:
        raise InvalidTensor(
            f"tensor {name!r} has shape {list(shape)} ({size} elements) but {count} values; "
            "give exactly one value per element, row-major"
        )
    if size > MAX_TENSOR_ELEMENTS:
        raise InvalidTensor(
            f"tensor {name!r} has {size} elements; at most {MAX_TENSOR_ELEMENTS} are allowed"
        )


def number_to_decimal(n: Number) -> Decimal:
    """The exact value of a :class:`Number` as a ``Decimal`` (no rounding)."""
    # Built from the tuple form: Decimal arithmetic (scaleb, *) would round to the
    # context's 28 digits, and int128 values have up to 39.
    sign, digits, exp = Decimal(n.value).as_tuple()
    return Decimal((sign, digits, int(exp) - n.decimals))
