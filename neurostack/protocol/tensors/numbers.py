"""Exact conversion between ``Number`` values and machine numbers (docs/protocol.md "Numbers").

- Into floats: the exact decimal ``value · 10^-decimals`` is rounded once to the nearest
  float of the target dtype, ties to even (IEEE 754 default), never twice.
- Into integers and bool: the decimal must be a whole number in the dtype's range.
- Out of floats: the float's exact binary value times ``10^OUTPUT_DECIMALS``, rounded half
  to even, as an int128 ``value`` with ``decimals = OUTPUT_DECIMALS``.

Everything here is element-wise over Python sequences; the array-level API is ``arrays.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ..errors import InvalidTensor
from .model import INT128_MAX, INT128_MIN, Number

OUTPUT_DECIMALS = 18
"""Decimals of every ``Number`` made from a float output."""

_SCALE = 10**OUTPUT_DECIMALS
# |value| < 2**127 < 10**39: below 10**-400 every Number rounds to zero in float64 and
# above 10**400 every non-zero one overflows, so larger |decimals| never need big powers.
_FAR = 400


def _exact(n: Number) -> Fraction:
    if n.decimals >= 0:
        return Fraction(n.value, 10**n.decimals)
    return Fraction(n.value * 10 ** (-n.decimals))


def numbers_to_float64(name: str, values: Sequence[Number]) -> list[float]:
    """Each Number as the nearest float64 (correctly rounded: CPython's int division is)."""
    out: list[float] = []
    append = out.append
    for i, n in enumerate(values):
        v, d = n.value, n.decimals
        try:
            if d == 0:
                append(float(v))
            elif d > 0:
                append(v / 10**d if d <= _FAR else math.copysign(0.0, v))
            elif v == 0:
                append(0.0)
            elif d < -_FAR:
                raise OverflowError
            else:
                append(float(v * 10 ** (-d)))
        except OverflowError:
            raise InvalidTensor(
                f"tensor {name!r} element {i} ({v}e{-d}) is too large for a float"
            ) from None
    return out


def numbers_to_float(name: str, values: Sequence[Number], dtype: np.dtype) -> np.ndarray:
    """Each Number rounded once to the nearest ``dtype`` float (float16/32/64), ties to even."""
    wide = np.array(numbers_to_float64(name, values), dtype=np.float64)
    if dtype == np.float64:
        return wide
    with np.errstate(over="ignore"):
        narrow = wide.astype(dtype)
    # Rounding to float64 first is exact enough unless it lands exactly on the midpoint
    # between two narrow floats (or on the overflow threshold): resolve those few exactly.
    back = narrow.astype(np.float64)
    finite = np.isfinite(narrow)
    diff = np.where(finite, wide - back, 0.0)  # exact (Sterbenz) where finite
    toward = np.where(diff > 0, np.inf, -np.inf).astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        neighbour = np.nextafter(narrow, toward)
        half = (neighbour.astype(np.float64) - back) / 2
    ties = np.flatnonzero(finite & (diff != 0) & (diff == half))
    overflow = np.flatnonzero(~finite)
    for i in ties.tolist():
        narrow[i] = _nearest_of(_exact(values[i]), narrow[i], neighbour[i])
    if overflow.size:
        _resolve_overflow(name, values, narrow, overflow, dtype)
    return narrow


def _nearest_of(q: Fraction, a: np.floating, b: np.floating) -> np.floating:
    da, db = abs(q - Fraction(float(a))), abs(q - Fraction(float(b)))
    if da != db:
        return a if da < db else b
    bits = np.dtype(f"u{a.dtype.itemsize}")
    return a if int(np.array(a).view(bits)) % 2 == 0 else b


def _resolve_overflow(
    name: str, values: Sequence[Number], narrow: np.ndarray, idx: np.ndarray, dtype: np.dtype
) -> None:
    info = np.finfo(dtype)
    top = Fraction(float(info.max))
    ulp = top - Fraction(float(np.nextafter(info.max, dtype.type(0))))
    threshold = top + ulp / 2  # at or beyond it, round-to-nearest gives infinity
    for i in idx.tolist():
        q = _exact(values[i])
        if abs(q) >= threshold:
            raise InvalidTensor(
                f"tensor {name!r} element {i} ({float(q):.6g}) is out of range of {dtype.name}; "
                f"the largest finite value is {float(info.max):.6g}"
            )
        narrow[i] = info.max if q > 0 else -info.max


def numbers_to_ints(name: str, values: Sequence[Number], dtype: np.dtype) -> np.ndarray:
    """Each Number as a whole number of ``dtype`` (an integer dtype or bool)."""
    if dtype == np.bool_:
        lo, hi = 0, 1
    else:
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
    out: list[int] = []
    for i, n in enumerate(values):
        v, d = n.value, n.decimals
        if v == 0 or d == 0:
            x = v
        elif d > 0:
            x, rest = divmod(v, 10**d) if d <= _FAR else (0, v)
            if rest:
                raise InvalidTensor(
                    f"tensor {name!r} element {i} ({v}e{-d}) is not a whole number, "
                    f"but the model input is {dtype.name}; round it before sending"
                )
        else:
            x = v * 10 ** (-d) if d >= -_FAR else hi + 1
        if not lo <= x <= hi:
            raise InvalidTensor(
                f"tensor {name!r} element {i} ({v}e{-d}) is out of range of {dtype.name} "
                f"[{lo}, {hi}]"
            )
        out.append(x)
    return np.array(out, dtype=dtype)


def float_to_number(x: float) -> Number:
    """A finite float as a Number with OUTPUT_DECIMALS decimals (exact value, half-even)."""
    num, den = x.as_integer_ratio()  # exact; den is a power of two
    q, r = divmod(num * _SCALE, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return Number(q, OUTPUT_DECIMALS)


def floats_to_numbers(name: str, arr: np.ndarray) -> tuple[Number, ...]:
    """A float array's elements (any float dtype) as Numbers; NaN/inf/overflow raise."""
    flat = arr.ravel()
    if not np.all(np.isfinite(flat)):
        bad = int(np.flatnonzero(~np.isfinite(flat))[0])
        raise InvalidTensor(
            f"output {name!r} element {bad} is {flat[bad]}; NaN and infinity cannot be "
            "represented as a Number"
        )
    out = tuple(float_to_number(x) for x in flat.astype(np.float64).tolist())
    for i, n in enumerate(out):
        if not INT128_MIN <= n.value <= INT128_MAX:
            raise InvalidTensor(
                f"output {name!r} element {i} ({float(flat[i]):.6g}) is too large: with "
                f"{OUTPUT_DECIMALS} decimals a Number holds magnitudes below about 1.7e20"
            )
    return out
