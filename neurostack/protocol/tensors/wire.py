"""A fast, strict ABI codec for exactly the precompile's structs.

eth-abi is general and correct but slow for these shapes (about 50 µs to encode and
60 µs to decode each ``Number``: a 784-pixel image took ~100 ms per round). The layouts
here are fixed, so this module writes them directly and reads back *only the canonical
encoding* (every offset where ``abi.encode`` puts it, zero padding, no trailing bytes).
Accepting only canonical bytes keeps ``decode → encode`` the identity, so hashes taken
over the bytes are unambiguous. The tests check this codec against eth-abi on random
values and on mutated encodings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InvalidTensor
from .model import (
    INT128_MAX,
    INT128_MIN,
    MAX_TENSOR_ELEMENTS,
    UINT32_MAX,
    JsonTensor,
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    StringTensor,
)

_ZERO = bytes(32)
_FF = b"\xff" * 16
_Z16 = bytes(16)

# ---------------------------------------------------------------- encoding


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _string(s: str, what: str) -> bytes:
    if not isinstance(s, str):
        raise InvalidTensor(f"{what} must be a string, got {type(s).__name__}")
    b = s.encode("utf-8")
    return _word(len(b)) + b + bytes(-len(b) % 32)


def _tuple(parts: Sequence[bytes | tuple[bytes]]) -> bytes:
    """Head/tail layout: ``bytes`` parts are dynamic (offset in head), 1-tuples static."""
    head_size = 32 * len(parts)  # every static part here is a single word
    heads, tails, offset = [], [], head_size
    for part in parts:
        if isinstance(part, tuple):
            heads.append(part[0])
        else:
            heads.append(_word(offset))
            tails.append(part)
            offset += len(part)
    return b"".join(heads) + b"".join(tails)


def _dyn_array(items: Sequence[bytes]) -> bytes:
    return _word(len(items)) + _tuple(items)


def _numbers(name: str, values: Sequence[Number]) -> bytes:
    out = [_word(len(values))]
    try:
        for n in values:
            if not (INT128_MIN <= n.value <= INT128_MAX and INT128_MIN <= n.decimals <= INT128_MAX):
                raise OverflowError
            out.append(n.value.to_bytes(32, "big", signed=True))
            out.append(n.decimals.to_bytes(32, "big", signed=True))
    except (OverflowError, AttributeError, TypeError):
        raise InvalidTensor(
            f"cannot ABI-encode tensor {name!r}: Number value and decimals must be int128 integers"
        ) from None
    return b"".join(out)


def _number_tensor(t: NumberTensor) -> bytes:
    shape = _word(len(t.shape)) + b"".join(_word(d) for d in t.shape)  # checked by the model
    return _tuple([_string(t.name, "a tensor name"), _numbers(t.name, t.values), shape])


def _string_tensor(t: StringTensor) -> bytes:
    values = [_string(v, f"tensor {t.name!r} values") for v in t.values]
    return _tuple([_string(t.name, "a tensor name"), _dyn_array(values)])


def model_input_body(inp: ModelInput) -> bytes:
    """The tuple encoding of a ModelInput (without the leading offset word)."""
    return _tuple(
        [
            _dyn_array([_number_tensor(t) for t in inp.numbers]),
            _dyn_array([_string_tensor(t) for t in inp.strings]),
        ]
    )


def encode_input(inp: ModelInput) -> bytes:
    """``abi.encode(ModelInput)``."""
    return _word(32) + model_input_body(inp)


def encode_output(out: ModelOutput) -> bytes:
    """``abi.encode(ModelOutput)``."""
    jsons = [
        _tuple([_string(j.name, "a JSON tensor name"), _string(j.value, "a JSON tensor value")])
        for j in out.jsons
    ]
    body = _tuple(
        [
            _dyn_array([_number_tensor(t) for t in out.numbers]),
            _dyn_array([_string_tensor(t) for t in out.strings]),
            _dyn_array(jsons),
            (_word(1 if out.is_simulation_result else 0),),
        ]
    )
    return _word(32) + body


SIMULATION_FLAG_WORD = slice(128, 160)
"""Where ``is_simulation_result`` sits in canonical ``abi.encode(ModelOutput)``: after the
leading offset word, the fourth word of the struct's head (three offsets, then the bool)."""


def with_simulation_flag(output: bytes, flag: bool) -> bytes:
    """Canonical ``abi.encode(ModelOutput)`` bytes ``output`` with ``is_simulation_result``
    set to ``flag``; every other byte unchanged. ``output`` must already be canonical
    (``decode_output`` accepts it), which is what the word position relies on."""
    if len(output) < SIMULATION_FLAG_WORD.stop:
        raise InvalidTensor(f"{len(output)} bytes are too short to be an encoded ModelOutput")
    start, stop = SIMULATION_FLAG_WORD.start, SIMULATION_FLAG_WORD.stop
    return output[:start] + _word(int(flag)) + output[stop:]


def encode_request(mode: int, model_cid: str, inp: ModelInput) -> bytes:
    """``abi.encode(ModelInferenceRequest(mode, modelCID, input))``."""
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 255:
        raise InvalidTensor(f"mode must be a uint8, got {mode!r}")
    body = _tuple([(_word(mode),), _string(model_cid, "the model CID"), model_input_body(inp)])
    return _word(32) + body


# ---------------------------------------------------------------- decoding


class _NotCanonical(Exception):
    """Raised inside the reader; turned into InvalidTensor by the entry points."""


Reader = Callable[[memoryview, int], tuple[Any, int]]  # (data, position) -> (value, size)


def _read_word(data: memoryview, pos: int) -> int:
    if pos + 32 > len(data):
        raise _NotCanonical(f"data ends at byte {len(data)}, a word at {pos} is missing")
    return int.from_bytes(data[pos : pos + 32], "big")


def _read_string(data: memoryview, pos: int) -> tuple[str, int]:
    n = _read_word(data, pos)
    padded = n + (-n % 32)
    if pos + 32 + padded > len(data):
        raise _NotCanonical(f"a string of {n} bytes at {pos} runs past the end")
    end = pos + 32 + n
    if any(data[end : pos + 32 + padded]):
        raise _NotCanonical(f"non-zero padding after the string at {pos}")
    try:
        text = bytes(data[pos + 32 : end]).decode("utf-8")
    except UnicodeDecodeError:
        raise _NotCanonical(f"the string at {pos} is not UTF-8") from None
    return text, 32 + padded


def _read_tuple(
    data: memoryview, pos: int, readers: Sequence[Reader | None]
) -> tuple[list[Any], int]:
    """Read a head/tail tuple; ``None`` readers are single static words (returned raw)."""
    expected = 32 * len(readers)
    values: list[Any] = []
    for i, reader in enumerate(readers):
        word = _read_word(data, pos + 32 * i)
        if reader is None:
            values.append(word)
            continue
        if word != expected:
            raise _NotCanonical(f"offset {word} at byte {pos + 32 * i}, canonical is {expected}")
        value, size = reader(data, pos + expected)
        values.append(value)
        expected += size
    return values, expected


def _read_count(data: memoryview, pos: int, item_size: int) -> int:
    n = _read_word(data, pos)
    if n > (len(data) - pos - 32) // item_size:
        raise _NotCanonical(f"an array at {pos} claims {n} items, more than the data holds")
    return n


def _dyn_array_reader(item: Reader) -> Reader:
    def read(data: memoryview, pos: int) -> tuple[list[Any], int]:
        n = _read_count(data, pos, 32)
        values, size = _read_tuple(data, pos + 32, [item] * n)
        return values, 32 + size

    return read


def _read_numbers(data: memoryview, pos: int) -> tuple[list[Number], int]:
    n = _read_count(data, pos, 64)
    if n > MAX_TENSOR_ELEMENTS:
        raise InvalidTensor(f"a tensor has {n} values; at most {MAX_TENSOR_ELEMENTS} are allowed")
    start = pos + 32
    raw = bytes(data[start : start + 64 * n])
    out = []
    for i in range(0, 64 * n, 32 * 2):
        out.append(Number(_int128(raw, i, start), _int128(raw, i + 32, start)))
    return out, 32 + 64 * n


def _int128(raw: bytes, i: int, base: int) -> int:
    high, low = raw[i : i + 16], raw[i + 16 : i + 32]
    if high == _Z16 and low[0] < 0x80:
        return int.from_bytes(low, "big")
    if high == _FF and low[0] >= 0x80:
        return int.from_bytes(low, "big", signed=True)
    raise _NotCanonical(f"the word at {base + i} is not a sign-extended int128")


def _read_shape(data: memoryview, pos: int) -> tuple[list[int], int]:
    n = _read_count(data, pos, 32)
    dims = [_read_word(data, pos + 32 + 32 * i) for i in range(n)]
    if any(d > UINT32_MAX for d in dims):
        raise _NotCanonical(f"a shape at {pos} has a dimension above uint32")
    return dims, 32 + 32 * n


def _read_number_tensor(data: memoryview, pos: int) -> tuple[NumberTensor, int]:
    (name, values, shape), size = _read_tuple(data, pos, [_read_string, _read_numbers, _read_shape])
    return NumberTensor(name, tuple(values), tuple(shape)), size


_read_strings = _dyn_array_reader(_read_string)


def _read_string_tensor(data: memoryview, pos: int) -> tuple[StringTensor, int]:
    (name, values), size = _read_tuple(data, pos, [_read_string, _read_strings])
    return StringTensor(name, tuple(values)), size


def _read_json_tensor(data: memoryview, pos: int) -> tuple[JsonTensor, int]:
    (name, value), size = _read_tuple(data, pos, [_read_string, _read_string])
    return JsonTensor(name, value), size


_INPUT_READERS: list[Reader | None] = [
    _dyn_array_reader(_read_number_tensor),
    _dyn_array_reader(_read_string_tensor),
]


def _read_input(data: memoryview, pos: int) -> tuple[ModelInput, int]:
    (numbers, strings), size = _read_tuple(data, pos, _INPUT_READERS)
    return ModelInput(tuple(numbers), tuple(strings)), size


_OUTPUT_READERS: list[Reader | None] = [*_INPUT_READERS, _dyn_array_reader(_read_json_tensor), None]


def _read_output(data: memoryview, pos: int) -> tuple[ModelOutput, int]:
    (numbers, strings, jsons, sim), size = _read_tuple(data, pos, _OUTPUT_READERS)
    if sim > 1:
        raise _NotCanonical(f"is_simulation_result is {sim}, not a bool")
    return ModelOutput(tuple(numbers), tuple(strings), tuple(jsons), bool(sim)), size


def _read_request(data: memoryview, pos: int) -> tuple[tuple[int, str, ModelInput], int]:
    (mode, cid, inp), size = _read_tuple(data, pos, [None, _read_string, _read_input])
    if mode > 255:
        raise _NotCanonical(f"mode {mode} is not a uint8")
    return (mode, cid, inp), size


def _decode_single(data: bytes, reader: Reader, what: str) -> Any:
    view = memoryview(data)
    try:
        if _read_word(view, 0) != 32:
            raise _NotCanonical("the first word must be the offset 32")
        value, size = reader(view, 32)
        if 32 + size != len(view):
            raise _NotCanonical(f"{len(view) - 32 - size} bytes after the end of the {what}")
    except _NotCanonical as exc:
        raise InvalidTensor(
            f"data is not the canonical ABI encoding of a {what}: {exc}; "
            "send abi.encode of the struct"
        ) from None
    return value


def decode_input(data: bytes) -> ModelInput:
    """Decode canonical ``abi.encode(ModelInput)``."""
    return _decode_single(data, _read_input, "ModelInput")


def decode_output(data: bytes) -> ModelOutput:
    """Decode canonical ``abi.encode(ModelOutput)``."""
    return _decode_single(data, _read_output, "ModelOutput")


def decode_request(data: bytes) -> tuple[int, str, ModelInput]:
    """Decode canonical ``abi.encode(ModelInferenceRequest)``."""
    return _decode_single(data, _read_request, "ModelInferenceRequest")
