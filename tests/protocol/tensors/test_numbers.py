"""Exact Number ⇄ float/int conversion (docs/protocol.md "Numbers").

The oracle below rounds with integer arithmetic on exact fractions, independently of the
implementation's float64-then-narrow strategy.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from neurostack.protocol import (
    OUTPUT_DECIMALS,
    InvalidTensor,
    Number,
    NumberTensor,
    array_to_tensor,
    number_tensor_to_array,
)

FORMATS = {  # dtype: (mantissa bits incl. hidden, min normal exponent, max exponent)
    "float16": (11, -14, 15),
    "float32": (24, -126, 127),
    "float64": (53, -1022, 1023),
}


def nearest_float(q: Fraction, dtype: str) -> float:
    """Round q to the nearest float of dtype, ties to even (None-free: inf on overflow)."""
    p, emin, emax = FORMATS[dtype]
    if q == 0:
        return 0.0
    sign, a = (-1 if q < 0 else 1), abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, emin)  # subnormals share the smallest exponent
    ulp = Fraction(2) ** (e - p + 1)
    m = round(a / ulp)  # Fraction.__round__ is half-to-even
    value = m * ulp
    top = (2 - Fraction(2) ** (1 - p)) * Fraction(2) ** emax
    if value > top:
        return sign * float("inf")
    return sign * float(value)


def exact(n: Number) -> Fraction:
    return Fraction(n.value) / Fraction(10) ** n.decimals


small_numbers = st.builds(
    Number,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-10, max_value=45),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(small_numbers, min_size=1, max_size=8), st.sampled_from(list(FORMATS)))
def test_decimals_round_once_to_the_nearest_float(values: list[Number], dtype: str) -> None:
    expected = [nearest_float(exact(n), dtype) for n in values]
    assume(all(np.isfinite(expected)))
    got = number_tensor_to_array(NumberTensor("x", tuple(values), (len(values),)), dtype)
    assert got.dtype == np.dtype(dtype)
    assert got.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32).filter(lambda x: x != 0),
    st.sampled_from([-1, 1]),
)
def test_float32_ties_go_to_even_even_next_to_a_float64_trap(x: float, side: int) -> None:
    lo = np.float32(x)
    hi = np.nextafter(lo, np.float32(np.inf * side))
    flo, fhi = Fraction(float(lo)), Fraction(float(hi))
    mid = (flo + fhi) / 2
    # The midpoint itself: ties to the float32 with the even bit pattern.
    even = lo if int(np.array(lo).view(np.uint32)) % 2 == 0 else hi
    # A hair beyond the midpoint: float64 rounds it onto the midpoint, so converting via
    # float64 and then to float32 would tie wrongly; one correct rounding does not.
    hair = (fhi - mid) / 10**12
    for q, want in ((mid, even), (mid + hair, hi), (mid - hair, lo)):
        n = _as_number(q)
        assume(n is not None)
        got = number_tensor_to_array(NumberTensor("x", (n,), ()), "float32")
        assert got.item() == float(want)


def _as_number(q: Fraction) -> Number | None:
    # q has a power-of-two-times-10^-k denominator here; write it with enough decimals.
    for decimals in range(60):
        scaled = q * 10**decimals
        if scaled.denominator == 1:
            if abs(scaled.numerator) >= 2**127:
                return None
            return Number(scaled.numerator, decimals)
    return None


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_float32_output_round_trips_exactly(x: float) -> None:
    # 18 decimals resolve every float32 from about 1e-10 up (its spacing there is 1e-17).
    assume(x == 0 or 1e-10 <= abs(x) < 1e20)
    t = array_to_tensor("y", np.array([x], dtype=np.float32))
    (n,) = t.values
    assert n.decimals == OUTPUT_DECIMALS
    # value is the exact binary value times 1e18, rounded half to even.
    assert n.value == round(Fraction(x) * 10**OUTPUT_DECIMALS)
    assert number_tensor_to_array(t, "float32").item() == x


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float64_output_value_is_exact_times_1e18_half_even(x: float) -> None:
    assume(abs(x) < 1.7e20)
    (n,) = array_to_tensor("y", np.array([x])).values
    assert n.value == round(Fraction(x) * 10**OUTPUT_DECIMALS)


def test_output_rounding_is_half_even_at_the_18th_decimal() -> None:
    # m * 2^-19 with m odd is exactly k + 1/2 at the 1e-18 scale: a true tie.
    ties = np.array([2.0**-19, 3 * 2.0**-19, -(2.0**-19)])
    values = [n.value for n in array_to_tensor("y", ties).values]
    assert values == [1907348632812, 5722045898438, -1907348632812]  # .5 each: to even
    (a, b) = array_to_tensor("y", np.array([2.0**-60, 2.0**-61])).values
    assert (a.value, b.value) == (1, 0)  # 0.867 -> 1, 0.434 -> 0


def test_integer_and_bool_outputs_have_zero_decimals() -> None:
    t = array_to_tensor("y", np.array([[3, -4]], dtype=np.int64))
    assert t.values == (Number(3, 0), Number(-4, 0)) and t.shape == (1, 2)
    t = array_to_tensor("b", np.array([True, False]))
    assert t.values == (Number(1, 0), Number(0, 0))


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint64", "bool"])
def test_whole_decimals_become_integers(dtype: str) -> None:
    values = (Number(100, 2), Number(0, 5), Number(1, 0))  # 1.00, 0.00000, 1
    got = number_tensor_to_array(NumberTensor("x", values, (3,)), dtype)
    assert got.dtype == np.dtype(dtype) and got.tolist() == [1, 0, 1]


def test_negative_decimals_scale_up() -> None:
    got = number_tensor_to_array(NumberTensor("x", (Number(-3, -2),), ()), "int32")
    assert got.item() == -300


def test_int64_bounds_are_exact() -> None:
    values = (Number(2**63 - 1, 0), Number(-(2**63), 0))
    got = number_tensor_to_array(NumberTensor("x", values, (2,)), "int64")
    assert got.tolist() == [2**63 - 1, -(2**63)]


def test_invalid_tensor_for_fractional_integer_input() -> None:
    with pytest.raises(InvalidTensor, match="not a whole number"):
        number_tensor_to_array(NumberTensor("x", (Number(15, 1),), ()), "int64")


@pytest.mark.parametrize(
    ("n", "dtype"),
    [(Number(128, 0), "int8"), (Number(-1, 0), "uint8"), (Number(2, 0), "bool"),
     (Number(2**63, 0), "int64"), (Number(1, -40), "int64")],
)  # fmt: skip
def test_invalid_tensor_for_integer_out_of_range(n: Number, dtype: str) -> None:
    with pytest.raises(InvalidTensor, match="out of range"):
        number_tensor_to_array(NumberTensor("x", (n,), ()), dtype)


@pytest.mark.parametrize(
    ("n", "dtype"), [(Number(65520, 0), "float16"), (Number(4, -38), "float32"),
                     (Number(1, -309), "float64"), (Number(1, -10**6), "float64")],
)  # fmt: skip
def test_invalid_tensor_for_float_overflow(n: Number, dtype: str) -> None:
    with pytest.raises(InvalidTensor, match="out of range|too large"):
        number_tensor_to_array(NumberTensor("x", (n,), ()), dtype)


def test_largest_finite_float16_is_kept_just_below_the_threshold() -> None:
    # 65519.99 rounds to 65504 (max); only 65520 and above overflow.
    got = number_tensor_to_array(NumberTensor("x", (Number(6551999, 2),), ()), "float16")
    assert got.item() == 65504.0


def test_tiny_values_underflow_to_signed_zero() -> None:
    got = number_tensor_to_array(NumberTensor("x", (Number(-1, 10**6),), ()), "float32")
    assert got.item() == 0.0 and np.signbit(got)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_invalid_tensor_for_nan_and_infinite_outputs(bad: float) -> None:
    with pytest.raises(InvalidTensor, match="NaN and infinity"):
        array_to_tensor("y", np.array([1.0, bad], dtype=np.float32))


def test_invalid_tensor_for_output_too_large_for_int128() -> None:
    with pytest.raises(InvalidTensor, match="too large"):
        array_to_tensor("y", np.array([1e21]))


def test_invalid_tensor_for_unsupported_dtype() -> None:
    with pytest.raises(InvalidTensor, match="unsupported"):
        number_tensor_to_array(NumberTensor("x", (Number(1, 0),), ()), "complex64")
    with pytest.raises(InvalidTensor, match="no Number form"):
        array_to_tensor("y", np.array([1j]))
