"""ABI encoding of ``ModelInput`` and ``ModelOutput`` (Solidity structs as tuples).

``encode_*`` produce ``abi.encode(value)`` of the single struct, which is also the return
data of ``runModelInference``; ``decode_*`` accept exactly that and raise
:class:`InvalidTensor` on anything else (bad padding, trailing garbage, shape/value
mismatch). Encoding uses eth-abi, the maintained Python ABI codec.
"""

from __future__ import annotations

from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError, EncodingError

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


def _encode(abi_type: str, value: tuple[Any, ...], what: str) -> bytes:
    try:
        return eth_abi.encode([abi_type], [value])
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidTensor(
            f"cannot ABI-encode {what}: {exc}; Number value and decimals must fit int128, "
            "shapes uint32, names and values must be strings"
        ) from None


def _decode(abi_type: str, data: bytes, what: str) -> Any:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidTensor(f"{what} data must be bytes, got {type(data).__name__}")
    try:
        (raw,) = eth_abi.decode([abi_type], bytes(data), strict=True)
    except (DecodingError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidTensor(
            f"data is not the ABI encoding of a {what} ({exc}); send abi.encode of the struct"
        ) from None
    return raw


def encode_model_input(inp: ModelInput) -> bytes:
    """``abi.encode(ModelInput)``: the bytes hashed into ``inputHash``."""
    return _encode(MODEL_INPUT_ABI, model_input_tuple(inp), "ModelInput")


def decode_model_input(data: bytes) -> ModelInput:
    """Decode ``abi.encode(ModelInput)``; raise InvalidTensor on malformed data."""
    raw = _decode(MODEL_INPUT_ABI, data, "ModelInput")
    model_input = model_input_from_tuple(raw)
    _reject_non_canonical(data, encode_model_input(model_input), "ModelInput")
    return model_input


def encode_model_output(out: ModelOutput) -> bytes:
    """``abi.encode(ModelOutput)``: the precompile's return data, hashed into ``outputHash``."""
    return _encode(MODEL_OUTPUT_ABI, model_output_tuple(out), "ModelOutput")


def decode_model_output(data: bytes) -> ModelOutput:
    """Decode ``abi.encode(ModelOutput)``; raise InvalidTensor on malformed data."""
    numbers, strings, jsons, is_sim = _decode(MODEL_OUTPUT_ABI, data, "ModelOutput")
    out = ModelOutput(
        tuple(_number_tensor(t) for t in numbers),
        tuple(StringTensor(name, tuple(values)) for name, values in strings),
        tuple(JsonTensor(name, value) for name, value in jsons),
        is_sim,
    )
    _reject_non_canonical(data, encode_model_output(out), "ModelOutput")
    return out


def _reject_non_canonical(data: bytes, canonical: bytes, what: str) -> None:
    # The ABI admits many byte strings for one value (offsets may point anywhere, trailing
    # bytes are ignored). Hashes are taken over bytes, so only the canonical encoding is
    # accepted: otherwise one output could have many outputHashes.
    if bytes(data) != canonical:
        raise InvalidTensor(
            f"{what} bytes are not in canonical ABI form (odd offsets or trailing bytes); "
            "re-encode with abi.encode"
        )
