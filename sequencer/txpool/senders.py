"""Sender recovery at admission from the raw bytes the client sent.

py-evm recovers a sender by re-encoding the transaction's unsigned fields through rlp's
generic ``Serializable`` machinery (``get_message_for_signing``) and wrapping the
signature in ``eth_keys`` objects: on the node that Python was two thirds of recovering a
sender, the elliptic-curve step itself a third. The signed message is a prefix of what
the client sent, so :func:`recover_sender` slices it out of the raw bytes (for EIP-2718
typed transactions: the type and the fields before ``yParity``; for EIP-155 legacy ones:
the first six fields, the chain id and two empty strings) and recovers with coincurve
directly. The result is the transaction's sender for the rest of its life in the node
(py-evm's cached ``sender``), so the builder never recovers it again; so are the hash
and type byte of a typed transaction, taken from the raw bytes instead of re-encoding.
``tests/sequencer/test_senders.py`` checks it against py-evm's recovery.
"""

from __future__ import annotations

from coincurve import PublicKey
from eth.abc import SignedTransactionAPI
from eth.vm.forks.berlin.transactions import TypedTransaction
from eth_hash.auto import keccak
from eth_typing import Address

from ..chain.roots import rlp_int, rlp_list


def _item_end(data: bytes, pos: int) -> int:
    """Where the rlp item starting at ``pos`` ends."""
    first = data[pos]
    if first < 0x80:
        return pos + 1
    if first < 0xB8:
        return pos + 1 + first - 0x80
    if first < 0xC0:
        size = first - 0xB7
        return pos + 1 + size + int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
    if first < 0xF8:
        return pos + 1 + first - 0xC0
    size = first - 0xF7
    return pos + 1 + size + int.from_bytes(data[pos + 1 : pos + 1 + size], "big")


def _fields(data: bytes, pos: int) -> list[int]:
    """The start offsets of the items of the rlp list at ``pos``, and its end."""
    first = data[pos]
    start = pos + 1 + (first - 0xF7 if first >= 0xF8 else 0)
    end = _item_end(data, pos)
    offsets = []
    while start < end:
        offsets.append(start)
        start = _item_end(data, start)
    offsets.append(end)
    return offsets


def signing_message(raw: bytes, tx: SignedTransactionAPI) -> bytes:
    """What the sender signed (its keccak is the signed hash), for a transaction ``tx``
    decoded from ``raw``: py-evm's ``tx.get_message_for_signing()``."""
    if raw[0] >= 0xC0:  # legacy, EIP-155 (admission refuses unprotected ones)
        offsets = _fields(raw, 0)
        chain_id = tx.chain_id
        assert chain_id is not None
        head = raw[offsets[0] : offsets[6]]
        return rlp_list(head + rlp_int(chain_id) + b"\x80\x80")
    offsets = _fields(raw, 1)
    return raw[:1] + rlp_list(raw[offsets[0] : offsets[-4]])  # less yParity, r, s


def recover_sender(raw: bytes, tx: SignedTransactionAPI) -> Address:
    """The sender of ``tx`` (decoded from ``raw``, its signature fields already checked by
    ``tx.validate()``), remembered on ``tx`` as py-evm's ``sender``. Raises ``ValueError``
    when no public key matches the signature."""
    signature = tx.r.to_bytes(32, "big") + tx.s.to_bytes(32, "big") + bytes((tx.y_parity,))
    digest = keccak(signing_message(raw, tx))
    public = PublicKey.from_signature_and_message(signature, digest, hasher=None)  # ValueError
    sender = Address(keccak(public.format(compressed=False)[1:])[12:])
    tx.__dict__["sender"] = sender  # py-evm's cached_property: the builder reuses it
    if isinstance(tx, TypedTransaction):
        # py-evm's cached hash and type byte, from the bytes it would re-encode: the decoder
        # accepts only the canonical encoding, so ``tx.encode() == raw``
        tx.__dict__["hash"] = keccak(raw)
        tx.__dict__["_type_byte"] = raw[:1]
    return sender
