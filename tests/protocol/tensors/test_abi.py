"""ABI codec of ModelInput/ModelOutput: round trips, Solidity layout, malformed bytes."""

from __future__ import annotations

import eth_abi
import pytest
from hypothesis import given, settings

from neurostack.protocol import (
    InvalidTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
    decode_model_input,
    decode_model_output,
    encode_model_input,
    encode_model_output,
)
from neurostack.protocol.tensors import MODEL_INPUT_ABI

from .strategies import model_inputs, model_outputs


@settings(max_examples=150, deadline=None)
@given(model_inputs)
def test_model_input_round_trips(inp: ModelInput) -> None:
    assert decode_model_input(encode_model_input(inp)) == inp


@settings(max_examples=150, deadline=None)
@given(model_outputs)
def test_model_output_round_trips(out: ModelOutput) -> None:
    assert decode_model_output(encode_model_output(out)) == out


def test_encoding_is_abi_encode_of_the_struct() -> None:
    # What Solidity's abi.encode(input) gives: one head word (offset 0x20) then the tuple.
    inp = ModelInput((NumberTensor("x", (Number(15, 1),), (1,)),), (StringTensor("s", ("a",)),))
    data = encode_model_input(inp)
    assert data[:32] == (32).to_bytes(32, "big")
    assert eth_abi.decode([MODEL_INPUT_ABI], data) == (
        (((("x", ((15, 1),), (1,)),), (("s", ("a",)),))),
    )


def test_empty_input_encoding_is_fixed() -> None:
    # abi.encode(ModelInput({numbers: [], strings: []})) in Solidity.
    words = [0x20, 0x40, 0x60, 0, 0]
    assert encode_model_input(ModelInput()) == b"".join(w.to_bytes(32, "big") for w in words)


def test_invalid_tensor_on_garbage_bytes() -> None:
    for data in (b"", b"\x01" * 5, b"\xff" * 64, bytes(range(256))):
        with pytest.raises(InvalidTensor):
            decode_model_input(data)
        with pytest.raises(InvalidTensor):
            decode_model_output(data)


def test_invalid_tensor_on_trailing_bytes() -> None:
    data = encode_model_input(ModelInput())
    with pytest.raises(InvalidTensor, match="canonical"):
        decode_model_input(data + b"\x00" * 32)


def test_invalid_tensor_on_shape_values_mismatch_in_abi() -> None:
    # Build the bytes directly: the dataclass itself refuses such a tensor.
    raw = eth_abi.encode([MODEL_INPUT_ABI], [([("x", [(1, 0), (2, 0)], [3])], [])])
    with pytest.raises(InvalidTensor, match="shape"):
        decode_model_input(raw)


def test_invalid_tensor_on_values_outside_int128() -> None:
    inp = ModelInput((NumberTensor("x", (Number(2**127, 0),), ()),))
    with pytest.raises(InvalidTensor, match="int128"):
        encode_model_input(inp)


def test_invalid_tensor_when_constructing_a_mismatched_tensor() -> None:
    with pytest.raises(InvalidTensor, match="2 values"):
        NumberTensor("x", (Number(1, 0), Number(2, 0)), (3,))
    with pytest.raises(InvalidTensor, match="dimensions"):
        NumberTensor("x", (), (-1,))


def test_invalid_tensor_when_not_bytes() -> None:
    with pytest.raises(InvalidTensor, match="bytes"):
        decode_model_input("0x00")  # type: ignore[arg-type]
