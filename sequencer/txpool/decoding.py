"""Transaction decoding at admission: py-evm's decoder, without rlp's constructor checks.

py-evm decodes a transaction with ``rlp.decode(payload, sedes=DynamicFeeTransaction)``
(and the like): rlp's strict decoder, each field's sedes (canonical integers, address
lengths, the access list's shape), then ``Serializable.deserialize``, which turns the
values into keyword arguments and back (checking them for duplicates with a
``collections.Counter``, twice) before storing them. That round trip was a fifth of
admitting a transfer. :func:`fast_decoder` does the same steps for the transaction kinds
whose py-evm decoder is exactly that one line, storing the deserialized values directly
(:func:`..chain.serializable.build`); any other input goes to py-evm's decoder. The
objects, their cached encodings and the errors are py-evm's
(``tests/sequencer/test_decoding.py`` compares both on valid and mangled transactions).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from eth.abc import SignedTransactionAPI
from eth.vm.forks.berlin.transactions import (
    AccessListPayloadDecoder,
    AccessListTransaction,
    BerlinTransactionBuilder,
    TypedTransaction,
)
from eth.vm.forks.london.transactions import DynamicFeePayloadDecoder, DynamicFeeTransaction
from rlp.codec import decode_raw
from rlp.exceptions import ListDeserializationError, ObjectDeserializationError
from rlp.sedes.serializable import make_immutable

from ..chain.serializable import build

Decode = Callable[[bytes], SignedTransactionAPI]

_PAYLOAD_CLASSES: dict[type, type] = {
    # py-evm decoders whose ``decode`` is ``rlp.decode(payload, sedes=<class>)``
    AccessListPayloadDecoder: AccessListTransaction,
    DynamicFeePayloadDecoder: DynamicFeeTransaction,
}
_BUILDER_DECODE = BerlinTransactionBuilder.decode.__func__  # type: ignore[attr-defined]
_TYPED_DECODE = TypedTransaction.decode.__func__  # type: ignore[attr-defined]


def rlp_decode(data: bytes, cls: Any) -> Any:
    """``rlp.decode(data, sedes=cls)`` for an rlp ``Serializable`` class without an
    ``__init__`` of its own (py-evm's transaction field classes)."""
    item, per_item_rlp = decode_raw(data, True, False)  # strict: no trailing bytes
    try:
        values = cls._meta.sedes.deserialize(item)
    except ListDeserializationError as exc:
        raise ObjectDeserializationError(serial=item, sedes=cls, list_exception=exc) from None
    obj = build(cls, [make_immutable(value) for value in values])
    obj._cached_rlp = per_item_rlp[0] if per_item_rlp else data
    return obj


@lru_cache(maxsize=8)
def fast_decoder(decode: Decode) -> Decode:
    """A decoder giving what ``decode`` (a py-evm transaction builder's ``decode``) gives,
    faster for legacy, EIP-2930 and EIP-1559 transactions; ``decode`` itself when the
    builder is not one whose steps are known here."""
    builder = getattr(decode, "__self__", None)
    if not (
        isinstance(builder, type)
        and issubclass(builder, BerlinTransactionBuilder)
        and getattr(builder.decode, "__func__", None) is _BUILDER_DECODE
        and getattr(builder.typed_transaction.decode, "__func__", None) is _TYPED_DECODE
    ):
        return decode
    typed = builder.typed_transaction
    legacy = builder.legacy_signed
    if "__init__" in vars(legacy) or any("__init__" in vars(c) for c in _PAYLOAD_CLASSES.values()):
        return decode
    payload_classes = {
        type_id: _PAYLOAD_CLASSES[codec]
        for type_id, codec in typed.decoders.items()
        if codec in _PAYLOAD_CLASSES
    }

    def fast(raw: bytes) -> SignedTransactionAPI:
        if not raw:
            return decode(raw)  # py-evm's error
        first = raw[0]
        payload_class = payload_classes.get(first)
        if payload_class is not None:
            return typed(first, rlp_decode(raw[1:], payload_class))  # type: ignore[no-any-return]
        if first >= 0x80:  # not an EIP-2718 type byte: a legacy transaction's rlp list
            return rlp_decode(raw, legacy)  # type: ignore[no-any-return]
        return decode(raw)

    return fast
