"""Receipts, header updates and accounts built directly equal py-evm's (sequencer/chain/receipts.py)."""

from __future__ import annotations

import random

import pytest
from eth.rlp.receipts import Receipt
from eth.vm.forks.prague import PragueVM
from eth_utils import ValidationError

from sequencer.chain.fork import NeuroVM
from sequencer.chain.receipts import copy_header, encode_receipt, make_receipt

from ..test_senders import DECODE, signed


def log_entries(rng: random.Random) -> tuple[tuple[bytes, tuple[int, ...], bytes], ...]:
    return tuple(
        (
            rng.randbytes(20),
            tuple(rng.getrandbits(rng.choice((1, 8, 256))) for _ in range(rng.randint(0, 4))),
            rng.randbytes(rng.choice((0, 1, 32, 55, 56, 300))),
        )
        for _ in range(rng.choice((0, 0, 1, 3)))
    )


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_receipts_equal_py_evms(kind: int) -> None:
    rng = random.Random(kind)
    for _ in range(80):
        tx = DECODE(signed(rng, kind))
        status = rng.choice((b"", b"\x01"))
        gas_used = rng.choice((0, 21_000, 2**24, 2**63))
        entries = log_entries(rng)
        ours, theirs = (
            make_receipt(tx, status, gas_used, entries),
            tx.make_receipt(status, gas_used, entries),
        )
        assert type(ours) is type(theirs)
        assert ours == theirs and ours.bloom == theirs.bloom
        assert encode_receipt(ours) == encode_receipt(theirs) == theirs.encode() == ours.encode()
        assert type(theirs.decode(encode_receipt(ours))) is type(theirs)


def test_a_receipt_of_another_kind_is_encoded_by_py_evm() -> None:
    class Other(Receipt):
        pass

    receipt = Other(b"\x01", 21_000, [])
    assert encode_receipt(receipt) == receipt.encode()


def test_header_updates_equal_py_evms() -> None:
    header = NeuroVM.create_genesis_header(
        gas_limit=30_000_000, difficulty=0, timestamp=1, extra_data=b"x" * 32
    )
    rng = random.Random(5)
    for _ in range(50):
        fields = {"bloom": rng.getrandbits(2048), "gas_used": rng.getrandbits(24)}
        ours, theirs = copy_header(header, **fields), header.copy(**fields)
        assert type(ours) is type(theirs) and ours == theirs
        assert ours.hash == theirs.hash != header.hash
        header = ours
    with pytest.raises(TypeError):
        copy_header(header, no_such_field=1)


def test_the_fork_adds_receipts_to_headers_as_byzantium() -> None:
    header = NeuroVM.create_genesis_header(gas_limit=30_000_000, difficulty=0, timestamp=1)
    rng = random.Random(6)
    for _ in range(20):
        receipt = make_receipt(DECODE(signed(rng, 2)), b"\x01", 50_000, log_entries(rng))
        ours = NeuroVM.add_receipt_to_header(NeuroVM, header, receipt)  # type: ignore[arg-type]
        theirs = PragueVM.add_receipt_to_header(PragueVM, header, receipt)  # type: ignore[arg-type]
        assert ours == theirs and ours.hash == theirs.hash
        header = ours
    with pytest.raises(ValidationError):
        NeuroVM.validate_receipt(make_receipt(DECODE(signed(rng, 2)), b"\x02", 1, ()))
