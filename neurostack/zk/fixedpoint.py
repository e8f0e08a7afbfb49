"""The fixed-point rule that ties circuit values to protocol ``Number``s (DESIGN.md section 6).

A circuit works on integers ``x`` standing for the reals ``x / 2^s`` (``s`` is the tensor's
scale). Every rule here is exact integer arithmetic, so the hub, the SDK and the chain
compute the same public inputs bit for bit:

- **Into the circuit** (inputs): the request's ``Number`` is first converted to the model's
  input dtype exactly as for VANILLA (``neurostack.protocol.tensors``: one rounding to the
  nearest float32, ties to even); that float ``f`` becomes ``x = round(f · 2^s)`` with ties
  away from zero (what ezkl's ``quantize_float`` does: ``(f · 2^s).round()`` in f64, exact
  because ``f`` is a float32 and ``2^s`` a power of two).
- **Out of the circuit** (outputs): ``x`` at scale ``s`` is exactly the decimal
  ``x · 5^s · 10^-s``, the ``Number(value = x · 5^s, decimals = s)``. This is the only
  encoding a verifier accepts (one output, one byte string, one receipt leaf).
- **Field elements**: BN254's scalar field; a negative ``x`` is ``p + x``; on the wire
  (ezkl's JSON) a field element is 32 bytes little-endian, hex without ``0x``.
"""

from __future__ import annotations

from ..protocol.tensors import Number

FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""BN254 scalar field order ``p`` (Halo2/KZG on the bn256 curve)."""
_HALF = FIELD_MODULUS // 2


def quantize(value: float, scale: int) -> int:
    """``round(value · 2^scale)``, ties away from zero, computed exactly."""
    num, den = value.as_integer_ratio()
    if scale >= 0:
        num <<= scale
    else:
        den <<= -scale
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def fixed_to_number(x: int, scale: int) -> Number:
    """The exact ``Number`` of the fixed-point value ``x`` at ``scale``: ``x·5^s`` with ``s``
    decimals (a negative scale gives ``x·2^-s`` with 0 decimals)."""
    if scale >= 0:
        return Number(x * 5**scale, scale)
    return Number(x << -scale, 0)


def number_to_fixed(n: Number, scale: int) -> int | None:
    """The ``x`` whose :func:`fixed_to_number` is exactly ``n``, or None if there is none."""
    if scale >= 0:
        if n.decimals != scale:
            return None
        x, rest = divmod(n.value, 5**scale)
        return None if rest else x
    if n.decimals != 0:
        return None
    x, rest = divmod(n.value, 1 << -scale)
    return None if rest else x


def to_field(x: int) -> int:
    """``x`` as a field element (negative numbers wrap to ``p + x``)."""
    return x % FIELD_MODULUS


def from_field(felt: int) -> int:
    """A field element as the signed integer it encodes (the upper half is negative)."""
    return felt - FIELD_MODULUS if felt > _HALF else felt


def felt_to_hex(x: int) -> str:
    """ezkl's JSON form of a field element: 32 bytes little-endian, hex without ``0x``."""
    return to_field(x).to_bytes(32, "little").hex()


def felt_from_hex(text: str) -> int:
    """The signed integer of ezkl's JSON field element (``0x`` big-endian is read too)."""
    if text.startswith("0x"):
        felt = int(text, 16)
    else:
        felt = int.from_bytes(bytes.fromhex(text), "little")
    if not 0 <= felt < FIELD_MODULUS:
        raise ValueError(f"{text!r} is not a field element")
    return from_field(felt)


__all__ = [
    "FIELD_MODULUS",
    "felt_from_hex",
    "felt_to_hex",
    "fixed_to_number",
    "from_field",
    "number_to_fixed",
    "quantize",
    "to_field",
]
