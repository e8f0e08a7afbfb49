"""Admission's sender recovery from the raw bytes equals py-evm's (sequencer/txpool/senders.py)."""

from __future__ import annotations

import random

import pytest
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
