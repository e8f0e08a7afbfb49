"""Solidity ABI on the client side: calldata, return values, events and revert reasons.

A thin layer over ``eth-abi`` driven by a contract's JSON ABI (what solc and
``neurostack.solidity`` write): find a function, event or error by name, encode arguments,
decode results. Addresses come back EIP-55 checksummed, as web3.py and ethers return
them; ``0x``-hex strings are accepted wherever the ABI wants ``bytes``/``bytesN``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import keccak, to_checksum_address

AbiItem = Mapping[str, Any]
Abi = Sequence[AbiItem]

ERROR_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]
# Solidity's panic codes (docs.soliditylang.org, "Panic via assert and error via require").
PANIC_CODES = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function pointer",
}


def canonical_type(item: AbiItem) -> str:
    """``tuple`` parameters spelled out: ``(string,(int128,int128)[])[]``."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item["components"])
        return f"({inner}){kind[5:]}"
    return kind


def signature(item: AbiItem) -> str:
    """``name(type,...)`` of a function, event or error."""
    return f"{item['name']}({','.join(canonical_type(i) for i in item.get('inputs', ()))})"


def selector(item: AbiItem) -> bytes:
    return keccak(text=signature(item))[:4]


def find(abi: Abi, kind: str, name: str, nargs: int | None = None) -> AbiItem:
    """The ``kind`` ("function", "event", "error") called ``name`` — or with exactly that
    signature (``"set(uint256)"``); overloads are told apart by their number of arguments."""
    items = [i for i in abi if i.get("type") == kind]
    if "(" in name:
        matches = [i for i in items if signature(i) == name.replace(" ", "")]
    else:
        matches = [i for i in items if i.get("name") == name]
        if len(matches) > 1 and nargs is not None:
            matches = [i for i in matches if len(i.get("inputs", ())) == nargs]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = sorted({signature(i) for i in items})
        raise ValueError(f"the ABI has no {kind} {name!r}; it has: {', '.join(known) or 'none'}")
    options = ", ".join(signature(i) for i in matches)
    raise ValueError(f"{name!r} is overloaded ({options}): name the {kind} by its signature")


def constructor(abi: Abi) -> AbiItem:
    """The constructor's ABI entry (one without arguments if the contract declares none)."""
    return next((i for i in abi if i.get("type") == "constructor"), {"inputs": []})


def _normalize_in(item: AbiItem, value: Any) -> Any:
    """Python values as eth-abi wants them: hex strings to bytes, tuples of components."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_normalize_in(inner, v) for v in value]
    if kind == "tuple":
        components = item["components"]
        if isinstance(value, Mapping):
            value = [value[c["name"]] for c in components]
        return tuple(_normalize_in(c, v) for c, v in zip(components, value, strict=True))
    if kind.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


def _normalize_out(item: AbiItem, value: Any) -> Any:
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_normalize_out(inner, v) for v in value]
    if kind == "tuple":
        return tuple(_normalize_out(c, v) for c, v in zip(item["components"], value, strict=True))
    if kind == "address":
        return to_checksum_address(value)
    return value


def encode_args(inputs: Sequence[AbiItem], args: Sequence[Any], what: str) -> bytes:
    """ABI-encode ``args`` for the parameters ``inputs``; ``ValueError`` saying which call."""
    if len(args) != len(inputs):
        raise ValueError(f"{what} takes {len(inputs)} argument(s), got {len(args)}")
    types = [canonical_type(i) for i in inputs]
    try:
        values = [_normalize_in(i, a) for i, a in zip(inputs, args, strict=True)]
        return encode(types, values)
    except (EncodingError, TypeError, ValueError, KeyError) as exc:
        raise ValueError(
            f"{what}: cannot encode the arguments as ({','.join(types)}): {exc}"
        ) from None


def encode_call(function: AbiItem, args: Sequence[Any]) -> bytes:
    """Calldata: the selector and the encoded arguments."""
    return selector(function) + encode_args(function.get("inputs", ()), args, signature(function))


def decode_values(outputs: Sequence[AbiItem], data: bytes) -> tuple[Any, ...]:
    types = [canonical_type(o) for o in outputs]
    values = decode(types, data)
    return tuple(_normalize_out(o, v) for o, v in zip(outputs, values, strict=True))


def decode_result(function: AbiItem, data: bytes) -> Any:
    """A call's return data: one value, a tuple of several, or None when there are none."""
    outputs = function.get("outputs", ())
    try:
        values = decode_values(outputs, data)
    except (DecodingError, ValueError) as exc:
        raise ValueError(f"{signature(function)} returned 0x{data.hex()}: not its outputs ({exc})")
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def event_topic(event: AbiItem) -> bytes:
    return keccak(text=signature(event))


def decode_event(event: AbiItem, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
    """The arguments of one log of ``event``; an indexed ``string``/``bytes``/array/struct
    argument is only its keccak hash in the log, so it comes back as those 32 bytes."""
    inputs = event.get("inputs", ())
    indexed = [i for i in inputs if i.get("indexed")]
    plain = [i for i in inputs if not i.get("indexed")]
    if len(topics) != len(indexed) + 1 or topics[0] != event_topic(event):
        raise ValueError(f"the log is not a {signature(event)} event")
    args: dict[str, Any] = {}
    for item, topic in zip(indexed, topics[1:], strict=True):
        dynamic = item["type"] in ("string", "bytes") or item["type"].endswith("]")
        if dynamic or item["type"].startswith("tuple"):
            args[item["name"]] = bytes(topic)
        else:
            args[item["name"]] = decode_values([item], bytes(topic))[0]
    for item, value in zip(plain, decode_values(plain, data), strict=True):
        args[item["name"]] = value
    return {i["name"]: args[i["name"]] for i in inputs}


def topic_of(item: AbiItem, value: Any) -> str:
    """The topic an indexed argument with ``value`` has in a log (for ``eth_getLogs``)."""
    kind = canonical_type(item)
    if kind in ("string", "bytes"):
        raw = value.encode() if isinstance(value, str) and kind == "string" else value
        return "0x" + keccak(_normalize_in(item, raw)).hex()
    if kind.endswith("]") or kind.startswith("("):
        raise ValueError(f"filtering on an indexed {kind} argument is not supported")
    return "0x" + encode([kind], [_normalize_in(item, value)]).hex()


def revert_reason(data: bytes, abi: Abi = ()) -> str:
    """What revert data says: ``Error(string)``'s message, a named panic, or one of the
    ABI's custom errors as ``Name(arg, ...)``; otherwise the raw data."""
    if not data:
        return "no reason given"
    head, body = data[:4], data[4:]
    try:
        if head == ERROR_SELECTOR:
            return str(decode(["string"], body)[0])
        if head == PANIC_SELECTOR:
            code = int(decode(["uint256"], body)[0])
            return f"panic 0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic code')}"
        for item in abi:
            if item.get("type") == "error" and selector(item) == head:
                values = decode_values(item.get("inputs", ()), body)
                shown = ", ".join(_show(v) for v in values)
                return f"{item['name']}({shown})"
    except (DecodingError, ValueError):
        pass
    return f"revert data 0x{data.hex()}"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return value if value.startswith("0x") else repr(value)
    return str(value)
