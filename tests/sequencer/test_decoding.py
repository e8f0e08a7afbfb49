"""Admission's transaction decoder gives py-evm's objects and errors (sequencer/txpool/decoding.py)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sequencer.chain.fork import NeuroVM
from sequencer.txpool.decoding import fast_decoder

from .test_senders import signed

DECODE = NeuroVM.get_transaction_builder().decode
FAST = fast_decoder(DECODE)


def outcome(decode: Any, raw: bytes) -> tuple[Any, ...]:
    """What a caller can see of decoding ``raw``: the error, or the transaction's class,
    fields, encodings (the cached ones too) and hash."""
    try:
        tx = decode(raw)
    except Exception as exc:  # noqa: BLE001 — the error is the outcome compared
        return ("error", type(exc), str(exc))
    inner = getattr(tx, "_inner", tx)
    return (
        type(tx), type(inner), tuple(inner), tx.type_id, tx.encode(), tx.hash,
        inner._cached_rlp, tx.intrinsic_gas,
    )  # fmt: skip


def test_the_fast_path_is_taken_for_the_node_fork() -> None:
    assert FAST is not DECODE


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_valid_transactions_decode_as_py_evm_does(kind: int) -> None:
    rng = random.Random(100 + kind)
    for _ in range(60):
        raw = signed(rng, kind)
        assert outcome(FAST, raw) == outcome(DECODE, raw)
        assert FAST(raw).encode() == raw


def test_invalid_mangled_transactions_fail_as_in_py_evm() -> None:
    """Flipped, dropped, inserted and appended bytes, truncations, other type bytes: the
    same error (class and text) or the same transaction."""
    rng = random.Random(7)
    originals = [signed(rng, i % 3) for i in range(60)]
    decoded = 0
    for i in range(1500):
        raw = originals[i % len(originals)]
        choice = rng.randrange(6)
        at = rng.randrange(len(raw))
        mangled = bytearray(raw)
        if choice == 0:
            mangled[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            del mangled[at]
        elif choice == 2:
            mangled.insert(at, rng.randrange(256))
        elif choice == 3:
            mangled += bytes(rng.randrange(1, 3))
        elif choice == 4:
            mangled = mangled[:at]
        else:
            mangled[0] = rng.choice([0, 1, 2, 3, 4, 5, 0x7F, 0x80, 0xC0, 0xF8, 0xFF])
        ours, theirs = outcome(FAST, bytes(mangled)), outcome(DECODE, bytes(mangled))
        assert ours == theirs, bytes(mangled).hex()
        decoded += ours[0] != "error"
    assert decoded > 20  # some mangled inputs still decode (a changed value, another type)
