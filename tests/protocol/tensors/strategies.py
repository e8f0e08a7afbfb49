"""Hypothesis strategies for tensors, shared by the tensor tests."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from neurostack.protocol import (
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
)

INT128 = st.integers(min_value=-(2**127), max_value=2**127 - 1)
names = st.text(min_size=1, max_size=12)
numbers = st.builds(Number, INT128, INT128)
shapes = st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=3).map(tuple)


@st.composite
def number_tensors(draw: st.DrawFn, values: st.SearchStrategy[Number] = numbers) -> NumberTensor:
    shape = draw(shapes)
    vals = draw(st.lists(values, min_size=math.prod(shape), max_size=math.prod(shape)))
    return NumberTensor(draw(names), tuple(vals), shape)


string_tensors = st.builds(
    StringTensor, names, st.lists(st.text(max_size=8), max_size=5).map(tuple)
)
model_inputs = st.builds(
    ModelInput,
    st.lists(number_tensors(), max_size=3).map(tuple),
    st.lists(string_tensors, max_size=3).map(tuple),
)
model_outputs = st.builds(
    ModelOutput,
    st.lists(number_tensors(), max_size=3).map(tuple),
    st.lists(string_tensors, max_size=2).map(tuple),
    st.lists(st.builds(JsonTensor, names, st.text(max_size=20)), max_size=2).map(tuple),
    st.booleans(),
)
