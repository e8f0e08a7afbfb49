"""Parameter parsers: JSON values -> Python values, with geth's error wording.

Each parser takes one JSON value and returns the decoded value or raises
:class:`ArgumentError` with the text geth would put after ``invalid argument N:``.
The dispatcher adds the argument index. Parsers are plain functions so the hot
path (``eth_sendRawTransaction``) costs a few string operations, no model validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BLOCK_TAGS = ("latest", "pending", "safe", "finalized", "earliest")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class ArgumentError(ValueError):
    """One argument is malformed; the message is geth's text for that case."""


Parser = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block named by tag, number or hash (EIP-1898 object form included)."""

    tag: str | None = None
    number: int | None = None
    hash: bytes | None = None


def _hex_body(value: Any, go_type: str) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"json: cannot unmarshal non-string into Go value of type {go_type}")
    if not value.startswith(("0x", "0X")):
        raise ArgumentError("hex string without 0x prefix")
    return value[2:]


def quantity(value: Any) -> int:
    """A hex quantity (``"0x1a"``): no leading zeros, at most 256 bits."""
    body = _hex_body(value, "hexutil.Big")
    if not body:
        raise ArgumentError('hex string "0x"')
    if len(body) > 1 and body[0] == "0":
        raise ArgumentError("hex number with leading zero digits")
    if not _HEX_DIGITS.issuperset(body):
        raise ArgumentError("invalid hex string")
    if len(body) > 64:
        raise ArgumentError("hex number > 256 bits")
    return int(body, 16)


def uint64(value: Any) -> int:
    """A quantity that must fit in 64 bits (gas, nonce)."""
    number = quantity(value)
    if number >= 1 << 64:
        raise ArgumentError("hex number > 64 bits")
    return number


def int_or_quantity(value: Any) -> int:
    """A count given either as a JSON number or as a hex quantity (eth_feeHistory)."""
    if isinstance(value, bool):
        raise ArgumentError("json: cannot unmarshal bool into Go value of type math.HexOrDecimal64")
    if isinstance(value, int):
        if value < 0:
            raise ArgumentError("negative count")
        return value
    if isinstance(value, str) and not value.startswith(("0x", "0X")):
        if value.isdigit():
            return int(value)
        raise ArgumentError(f"invalid count {value!r}: give a number or 0x-hex")
    return quantity(value)


def data(value: Any) -> bytes:
    """Hex-encoded bytes (``"0x"`` is empty)."""
    body = _hex_body(value, "hexutil.Bytes")
    if len(body) % 2:
        raise ArgumentError("hex string of odd length")
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise ArgumentError("invalid hex string") from None


def _fixed(value: Any, size: int, go_type: str) -> bytes:
    body = _hex_body(value, go_type)
    if len(body) != 2 * size:
        raise ArgumentError(f"hex string has length {len(body)}, want {2 * size} for {go_type}")
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise ArgumentError("invalid hex string") from None


def address(value: Any) -> bytes:
    """A 20-byte address; checksum case is accepted but not required, as in geth."""
    return _fixed(value, 20, "common.Address")


def hash32(value: Any) -> bytes:
    return _fixed(value, 32, "common.Hash")


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError("json: cannot unmarshal non-bool into Go value of type bool")
    return value


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise ArgumentError("json: cannot unmarshal non-string into Go value of type string")
    return value


def filter_id(value: Any) -> str:
    """A filter id, canonicalised: ids are hex quantities, and a client may send one back
    with leading zeros or in upper case. A string that is not hex stays as it is (and is
    then ``filter not found``)."""
    text = string(value)
    body = text[2:] if text.startswith(("0x", "0X")) else ""
    if body and len(body) <= 64 and _HEX_DIGITS.issuperset(body):
        return hex(int(body, 16))
    return text


def block_number(value: Any) -> BlockRef:
    """A block tag or number (no hash): eth_getBlockByNumber, filter ranges."""
    if isinstance(value, str) and value in BLOCK_TAGS:
        return BlockRef(tag=value)
    if isinstance(value, str) and not value.startswith(("0x", "0X")):
        raise ArgumentError(
            f"invalid block tag {value!r}: use a 0x-hex number or one of {', '.join(BLOCK_TAGS)}"
        )
    number = quantity(value)
    if number >= 1 << 63:
        raise ArgumentError("block number larger than int64")
    return BlockRef(number=number)


def block_ref(value: Any) -> BlockRef:
    """A tag, number, hash or EIP-1898 object ``{blockHash}`` / ``{blockNumber}``."""
    if isinstance(value, dict):
        if "blockHash" in value and "blockNumber" in value:
            raise ArgumentError(
                "cannot specify both BlockHash and BlockNumber, choose one or the other"
            )
        if "blockHash" in value:
            return BlockRef(hash=hash32(value["blockHash"]))
        if "blockNumber" in value:
            return block_number(value["blockNumber"])
        raise ArgumentError("block object needs blockHash or blockNumber")
    if isinstance(value, str) and len(value) == 66:
        return BlockRef(hash=hash32(value))
    return block_number(value)


def percentiles(value: Any) -> list[float]:
    """eth_feeHistory reward percentiles: increasing numbers in [0, 100]."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) for p in value
    ):
        raise ArgumentError("json: cannot unmarshal into Go value of type []float64")
    out = [float(p) for p in value]
    for i, p in enumerate(out):
        if not 0 <= p <= 100:
            raise ArgumentError(f"invalid reward percentile: {p}")
        if i and p < out[i - 1]:
            raise ArgumentError(f"invalid reward percentile: #{i - 1}:{out[i - 1]} > #{i}:{p}")
    return out


def access_list(value: Any) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    """An EIP-2930 access list: ``[{"address": ..., "storageKeys": [...]}, ...]``."""
    if not isinstance(value, list):
        raise ArgumentError(
            "json: cannot unmarshal non-array into Go value of type types.AccessList"
        )
    out = []
    for entry in value:
        item = obj(entry, "types.AccessTuple")
        keys = item.get("storageKeys") or []
        if not isinstance(keys, list):
            raise ArgumentError(
                "json: cannot unmarshal non-array into Go value of type []common.Hash"
            )
        out.append(
            (address(item.get("address")), tuple(int.from_bytes(hash32(k), "big") for k in keys))
        )
    return tuple(out)


def obj(value: Any, go_type: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ArgumentError(f"json: cannot unmarshal non-object into Go value of type {go_type}")
    return value


def field(struct: dict[str, Any], name: str, parser: Parser, go_type: str) -> Any:
    """Parse one optional field of an object; errors name the field like geth does."""
    value = struct.get(name)
    if value is None:
        return None
    try:
        return parser(value)
    except ArgumentError as exc:
        raise ArgumentError(f"{exc} (field {name} of {go_type})") from None
