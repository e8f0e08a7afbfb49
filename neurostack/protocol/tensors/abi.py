"""ABI encoding of ``ModelInput`` and ``ModelOutput`` (Solidity structs as tuples).

``encode_*`` produce ``abi.encode(value)`` of the single struct, which is also the return
data of ``runModelInference``; ``decode_*`` accept exactly that and raise
:class:`InvalidTensor` on anything else (bad padding, odd offsets, trailing bytes,
shape/value mismatch). The work is done by ``wire`` (a fixed-layout codec about 50x
faster than eth-abi here); the ABI type strings and the eth-abi tuple forms below are the
reference it is tested against.
"""

from __future__ import annotations

from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError

from ..errors import InvalidTensor
from . import wire
from .model import (
    MAX_TENSOR_ELEMENTS,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
)

NUMBER_ABI = "(int128,int128)"
NUMBER_TENSOR_ABI = f"(string,{NUMBER_ABI}[],uint32[])"
STRING_TENSOR_ABI = "(string,string[])"
JSON_TENSOR_ABI = "(string,string)"
MODEL_INPUT_ABI = f"({NUMBER_TENSOR_ABI}[],{STRING_TENSOR_ABI}[])"
MODEL_OUTPUT_ABI = f"({NUMBER_TENSOR_ABI}[],{STRING_TENSOR_ABI}[],{JSON_TENSOR_ABI}[],bool)"
INFERENCE_REQUEST_ABI = f"(uint8,string,{MODEL_INPUT_ABI})"
"""``struct ModelInferenceRequest { uint8 mode; string modelCID; ModelInput input; }``."""


def _number_tensor_tuple(t: NumberTensor) -> tuple[Any, ...]:
    return (t.name, [(n.value, n.decimals) for n in t.values], list(t.shape))


def _string_tensor_tuple(t: StringTensor) -> tuple[Any, ...]:
    return (t.name, list(t.values))


def model_input_tuple(inp: ModelInput) -> tuple[Any, ...]:
    """``inp`` as the nested tuple eth-abi encodes for :data:`MODEL_INPUT_ABI`."""
    return (
        [_number_tensor_tuple(t) for t in inp.numbers],
        [_string_tensor_tuple(t) for t in inp.strings],
    )


def model_output_tuple(out: ModelOutput) -> tuple[Any, ...]:
    """``out`` as the nested tuple eth-abi encodes for :data:`MODEL_OUTPUT_ABI`."""
    return (
        [_number_tensor_tuple(t) for t in out.numbers],
        [_string_tensor_tuple(t) for t in out.strings],
        [(j.name, j.value) for j in out.jsons],
        bool(out.is_simulation_result),
    )


def _number_tensor(raw: Any) -> NumberTensor:
    name, values, shape = raw
    if len(values) > MAX_TENSOR_ELEMENTS:
        raise InvalidTensor(
            f"tensor {name!r} has {len(values)} values; at most {MAX_TENSOR_ELEMENTS} are allowed"
        )
    return NumberTensor(name, tuple(Number(v, d) for v, d in values), tuple(shape))


def model_input_from_tuple(raw: Any) -> ModelInput:
    """The inverse of :func:`model_input_tuple` (checks shapes)."""
    numbers, strings = raw
    return ModelInput(
        tuple(_number_tensor(t) for t in numbers),
        tuple(StringTensor(name, tuple(values)) for name, values in strings),
    )


def encode_model_input(inp: ModelInput) -> bytes:
    """``abi.encode(ModelInput)``: the bytes hashed into ``inputHash``."""
    return wire.encode_input(inp)


def decode_model_input(data: bytes) -> ModelInput:
    """Decode ``abi.encode(ModelInput)``; InvalidTensor on malformed or non-canonical data."""
    return wire.decode_input(_as_bytes(data, "ModelInput"))


def encode_model_output(out: ModelOutput) -> bytes:
    """``abi.encode(ModelOutput)``: the precompile's return data, hashed into ``outputHash``."""
    return wire.encode_output(out)


def decode_model_output(data: bytes) -> ModelOutput:
    """Decode ``abi.encode(ModelOutput)``; InvalidTensor on malformed or non-canonical data."""
    return wire.decode_output(_as_bytes(data, "ModelOutput"))


def _as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidTensor(f"{what} data must be bytes, got {type(data).__name__}")
    return bytes(data)


def decode_lenient(abi_type: str, data: bytes, what: str) -> Any:
    """eth-abi's decoding, which also accepts non-canonical layouts (used for calldata,
    which Solidity accepts in any valid layout); InvalidTensor on malformed data."""
    try:
        (raw,) = eth_abi.decode([abi_type], bytes(data), strict=True)
    except (DecodingError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidTensor(f"malformed {what}: {exc}") from None
    return raw
