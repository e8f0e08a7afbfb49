"""keccak256 and fixed-width integer encodings used by the protocol's hashes."""

from __future__ import annotations

from eth_hash.auto import keccak as _keccak

from .types import Hash32


def keccak(data: bytes) -> Hash32:
    """keccak256 (Ethereum's, not SHA3-256)."""
    return Hash32(_keccak(data))


def uint_bytes(value: int, size: int, what: str) -> bytes:
    """``value`` big-endian in ``size`` bytes; ValueError naming ``what`` if it does not fit."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** (8 * size):
        raise ValueError(f"{what} must be an integer from 0 to 2**{8 * size}-1, got {value!r}")
    return value.to_bytes(size, "big")


def check_bytes(value: object, size: int, what: str) -> bytes:
    """``value`` if it is exactly ``size`` bytes, else ValueError naming ``what``."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise ValueError(f"{what} must be {size} bytes, got {value!r:.80}")
    return bytes(value)
