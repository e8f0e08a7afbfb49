"""The fixed-point rule of ZK public inputs and receipt outputs (neurostack.zk.fixedpoint)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurostack.protocol.tensors import Number
from neurostack.zk.fixedpoint import (
    FIELD_MODULUS,
    felt_from_hex,
    felt_to_hex,
    fixed_to_number,
    number_to_fixed,
    quantize,
)


def test_quantize_rounds_ties_away_from_zero() -> None:
    # 2^-14 at scale 13 is exactly half a unit: ezkl's (x * 2^s).round() goes away from zero
    assert quantize(2.0**-14, 13) == 1
    assert quantize(-(2.0**-14), 13) == -1
    assert quantize(3 * 2.0**-14, 13) == 2
    assert quantize(0.5, 13) == 4096
    assert quantize(-1.0, 0) == -1
    assert quantize(2.5, 0) == 3
    assert quantize(7, 2) == 28


@given(st.floats(allow_nan=False, allow_infinity=False, width=32, min_value=-1e6, max_value=1e6))
def test_quantize_matches_ezkl_float_to_felt(x: float) -> None:
    ezkl = pytest.importorskip("ezkl")
    for scale in (0, 7, 13):
        felt = ezkl.float_to_felt(x, scale, ezkl.PyInputType.F32)
        assert felt_from_hex(felt) == quantize(x, scale)


@given(st.integers(min_value=-(2**100), max_value=2**100), st.integers(min_value=-8, max_value=20))
def test_number_is_exactly_x_over_2_to_the_scale(x: int, scale: int) -> None:
    n = fixed_to_number(x, scale)
    assert Fraction(n.value, 10**n.decimals) == Fraction(x) / Fraction(2) ** scale
    assert number_to_fixed(n, scale) == x


def test_circuit_output_encoding_example() -> None:
    # -2.3731689453125 = -19441 / 2^13 is the sample MLP's circuit output
    assert fixed_to_number(-19441, 13) == Number(-23731689453125, 13)


def test_invalid_non_canonical_numbers_have_no_fixed_point_value() -> None:
    assert number_to_fixed(Number(-23731689453125, 13), 13) == -19441
    assert number_to_fixed(Number(-237316894531250, 14), 13) is None  # same value, other form
    assert number_to_fixed(Number(-23731689453126, 13), 13) is None  # not a multiple of 5^13
    assert number_to_fixed(Number(5, 0), -1) is None  # odd: not x * 2


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_field_elements_round_trip(x: int) -> None:
    text = felt_to_hex(x)
    assert len(bytes.fromhex(text)) == 32
    assert felt_from_hex(text) == x
    assert felt_from_hex(hex(x % FIELD_MODULUS)) == x


def test_invalid_field_element_out_of_range() -> None:
    with pytest.raises(ValueError, match="not a field element"):
        felt_from_hex((FIELD_MODULUS).to_bytes(32, "little").hex())


def test_float32_inputs_quantise_like_the_feed() -> None:
    value = float(np.float32(0.1))  # the float32 the protocol makes of Number(1, 1)
    assert quantize(value, 13) == round(0.1 * 8192)
