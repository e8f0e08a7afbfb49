"""Admission's sender recovery from the raw bytes equals py-evm's (sequencer/txpool/senders.py)."""

from __future__ import annotations

import random

import pytest
import rlp
from eth_account import Account
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, to_checksum_address

from sequencer.chain.fork import NeuroVM
from sequencer.txpool.senders import recover_sender, signing_message

DECODE = NeuroVM.get_transaction_builder().decode


def signed(rng: random.Random, kind: int) -> bytes:
    tx: dict[str, object] = {
        "chainId": rng.choice([1, 31337, 424242, 2**40 + 7]),
        "nonce": rng.choice([0, 1, 127, 128, 2**32]),
        "gas": rng.choice([21_000, 100_000, 2**30]),
        "value": rng.choice([0, 1, 10**18, 2**200]),
        "data": rng.randbytes(rng.choice([0, 1, 31, 56, 300])),
    }
    if rng.random() < 0.9:
        tx["to"] = to_checksum_address(rng.randbytes(20))
    if kind == 2:
        tx.update(type=2, maxFeePerGas=rng.choice([1, 10**10]), maxPriorityFeePerGas=1)
    else:
        tx["gasPrice"] = rng.choice([1, 10**9, 2**64])
        if kind == 1:
            tx["type"] = 1
    if kind and rng.random() < 0.5:
        tx["accessList"] = [
            {"address": to_checksum_address(rng.randbytes(20)),
             "storageKeys": ["0x" + rng.randbytes(32).hex() for _ in range(rng.randint(0, 3))]}
            for _ in range(rng.randint(1, 3))
        ]  # fmt: skip
    key = rng.randbytes(32)
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_recovered_sender_is_py_evms(kind: int) -> None:
    rng = random.Random(kind)
    for _ in range(60):
        raw = signed(rng, kind)
        theirs = DECODE(raw)
        assert signing_message(raw, theirs) == theirs.get_message_for_signing()
        ours = DECODE(raw)
        assert recover_sender(raw, ours) == theirs.sender
        assert ours.sender == theirs.sender  # remembered on the transaction


def test_a_changed_signature_gives_another_sender_or_none() -> None:
    rng = random.Random(9)
    for kind in (0, 2):
        raw = signed(rng, kind)
        tx = DECODE(raw)
        # the same transaction with another r: py-evm and admission agree on the result
        other = DECODE(raw)
        forged = other.copy(r=(tx.r + 1))
        raw_forged = forged.encode()
        again = DECODE(raw_forged)
        try:
            expected = DECODE(raw_forged).sender
        except (BadSignature, ValidationError):  # no public key matches
            with pytest.raises(ValueError):
                recover_sender(raw_forged, again)
        else:
            assert recover_sender(raw_forged, again) == expected != tx.sender


def test_only_canonical_encodings_decode() -> None:
    """The message is sliced from the raw bytes, py-evm's re-encoded: they agree because a
    non-canonical encoding does not decode (or admission would recover another sender
    than the block's re-encoded transaction gives)."""
    raw = signed(random.Random(11), 2)
    items = rlp.decode(raw[1:])
    encoded = [rlp.encode(item) for item in items]

    def typed(fields: list[bytes]) -> bytes:
        payload = b"".join(fields)
        size = len(payload).to_bytes(2 if len(payload) > 255 else 1, "big")
        return raw[:1] + bytes((0xF7 + len(size),)) + size + payload

    assert typed(encoded) == raw
    short_as_long = b"\xb8" + bytes((len(items[5]),)) + items[5]  # `to`, 20 bytes
    assert encoded[2] == encoded[3] == b"\x01"  # the fees of signed(Random(11), 2)
    variants = [
        typed([*encoded[:2], b"\x81\x01", *encoded[3:]]),  # a byte < 0x80 as a string
        typed([*encoded[:5], short_as_long, *encoded[6:]]),  # long prefix, short string
        typed([*encoded[:3], b"\x82\x00\x01", *encoded[4:]]),  # a leading zero
        typed([*encoded[:2], b"\x00", *encoded[3:]]),  # integer 0 as a zero byte
        raw + b"\x00",  # trailing bytes
    ]
    for variant in variants:
        with pytest.raises((rlp.exceptions.RLPException, ValueError)):
            DECODE(variant)
