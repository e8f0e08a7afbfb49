"""The fast ABI codec agrees with eth-abi, and reads nothing but canonical encodings."""

from __future__ import annotations

import eth_abi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurostack.protocol import (
    RUN_MODEL_INFERENCE_SELECTOR,
    InvalidTensor,
    ModelInput,
    ModelOutput,
    decode_inference_call,
    decode_model_input,
    decode_model_output,
    encode_inference_call,
    encode_model_input,
    encode_model_output,
)
from neurostack.protocol.tensors import INFERENCE_REQUEST_ABI, MODEL_INPUT_ABI, MODEL_OUTPUT_ABI
from neurostack.protocol.tensors.abi import model_input_tuple, model_output_tuple

from .strategies import model_inputs, model_outputs


@settings(max_examples=150, deadline=None)
@given(model_inputs, st.integers(min_value=0, max_value=255), st.text(max_size=70))
def test_encodings_equal_eth_abi(inp: ModelInput, mode: int, cid: str) -> None:
    assert encode_model_input(inp) == eth_abi.encode([MODEL_INPUT_ABI], [model_input_tuple(inp)])
    request = (mode, cid, model_input_tuple(inp))
    expected = RUN_MODEL_INFERENCE_SELECTOR + eth_abi.encode([INFERENCE_REQUEST_ABI], [request])
    assert encode_inference_call(mode, cid, inp) == expected


@settings(max_examples=150, deadline=None)
@given(model_outputs)
def test_output_encoding_equals_eth_abi(out: ModelOutput) -> None:
    expected = eth_abi.encode([MODEL_OUTPUT_ABI], [model_output_tuple(out)])
    assert encode_model_output(out) == expected


def _mutate(data: bytes, how: str, where: int, byte: int) -> bytes:
    i = where % max(len(data), 1)
    if how == "set":
        return data[:i] + bytes([byte]) + data[i + 1 :]
    if how == "cut":
        return data[:i]
    return data[:i] + bytes(32) + data[i:]  # insert a zero word


@settings(max_examples=300, deadline=None)
@given(
    model_outputs,
    st.sampled_from(["set", "cut", "insert"]),
    st.integers(min_value=0),
    st.integers(min_value=0, max_value=255),
)
def test_mutated_bytes_are_rejected_or_canonical(
    out: ModelOutput, how: str, where: int, byte: int
) -> None:
    data = _mutate(encode_model_output(out), how, where, byte)
    try:
        decoded = decode_model_output(data)
    except InvalidTensor:
        return
    # Whatever is accepted is exactly what eth-abi would produce for the decoded value.
    assert eth_abi.encode([MODEL_OUTPUT_ABI], [model_output_tuple(decoded)]) == data


def test_invalid_tensor_for_a_valid_but_non_canonical_layout() -> None:
    inp = ModelInput()
    canonical = encode_model_input(inp)
    # Offset 0x40 with a spare zero word: valid ABI that Solidity would decode.
    shifted = (64).to_bytes(32, "big") + bytes(32) + canonical[32:]
    assert eth_abi.decode([MODEL_INPUT_ABI], shifted) == eth_abi.decode(
        [MODEL_INPUT_ABI], canonical
    )
    with pytest.raises(InvalidTensor, match="canonical"):
        decode_model_input(shifted)


def test_non_canonical_calldata_is_decoded_and_re_encoded() -> None:
    from neurostack.protocol import model_input_from_json

    inp = model_input_from_json({"x": [1.5, 2]})
    calldata = encode_inference_call(2, "cid", inp)
    args = calldata[4:]
    shifted = RUN_MODEL_INFERENCE_SELECTOR + (64).to_bytes(32, "big") + bytes(32) + args[32:]
    mode, cid, decoded, input_abi = decode_inference_call(shifted)
    assert (mode, cid, decoded, input_abi) == (2, "cid", inp, encode_model_input(inp))


@pytest.mark.parametrize(
    "word",
    [
        (2**127).to_bytes(32, "big"),  # int128 overflow, positive
        b"\x00" * 15 + b"\x01" + b"\x80" + b"\x00" * 15,  # not sign-extended
        b"\xff" * 16 + b"\x00" * 16,  # negative high half with a positive low half
    ],
)
def test_invalid_tensor_for_numbers_outside_int128(word: bytes) -> None:
    from neurostack.protocol import Number, NumberTensor

    data = encode_model_input(ModelInput((NumberTensor("x", (Number(7, 0),), ()),)))
    index = data.index((7).to_bytes(32, "big"))
    with pytest.raises(InvalidTensor, match="int128"):
        decode_model_input(data[:index] + word + data[index + 32 :])


def test_invalid_tensor_for_huge_claimed_lengths() -> None:
    data = bytearray(encode_model_input(ModelInput()))
    data[-32:] = (2**255).to_bytes(32, "big")  # strings array length
    with pytest.raises(InvalidTensor, match="more than the data holds"):
        decode_model_input(bytes(data))


def test_invalid_tensor_for_non_utf8_strings() -> None:
    from neurostack.protocol import StringTensor

    data = encode_model_input(ModelInput((), (StringTensor("s", ("é",)),)))
    bad = data.replace("é".encode(), b"\xff\xfe")
    with pytest.raises(InvalidTensor, match="UTF-8"):
        decode_model_input(bad)


def test_invalid_tensor_for_large_non_canonical_calldata() -> None:
    from neurostack.protocol import model_input_from_json
    from neurostack.protocol.request import LENIENT_CALLDATA_LIMIT

    inp = model_input_from_json({"x": list(range(LENIENT_CALLDATA_LIMIT // 64 + 1))})
    args = encode_inference_call(0, "cid", inp)[4:]
    shifted = RUN_MODEL_INFERENCE_SELECTOR + (64).to_bytes(32, "big") + bytes(32) + args[32:]
    with pytest.raises(InvalidTensor, match="canonical"):
        decode_inference_call(shifted)
    assert decode_inference_call(RUN_MODEL_INFERENCE_SELECTOR + args)[2] == inp
