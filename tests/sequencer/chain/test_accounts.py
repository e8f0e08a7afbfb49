"""The account database's own account encoding equals rlp's (sequencer/chain/accounts.py)."""

from __future__ import annotations

import random

import rlp
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.rlp.accounts import Account

from sequencer.chain.accounts import NeuroAccountDB, encode_account


def test_encoding_matches_rlp() -> None:
    rng = random.Random(3)
    edges = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 2**64 - 1, 2**256 - 1]
    for _ in range(500):
        account = Account(
            rng.choice(edges + [rng.getrandbits(rng.randint(1, 64))]),
            rng.choice(edges + [rng.getrandbits(rng.randint(1, 256))]),
            rng.choice([BLANK_ROOT_HASH, rng.randbytes(32)]),
            rng.choice([EMPTY_SHA3, rng.randbytes(32)]),
        )
        assert encode_account(account) == rlp.encode(account, sedes=Account)


def test_same_state_root_as_py_evm() -> None:
    rng = random.Random(4)
    ours, theirs = NeuroAccountDB(AtomicDB()), AccountDB(AtomicDB())
    addresses = [rng.randbytes(20) for _ in range(30)]
    for _ in range(300):
        address = rng.choice(addresses)
        balance, nonce = rng.getrandbits(rng.choice((8, 64, 256))), rng.getrandbits(16)
        for db in (ours, theirs):
            db.set_balance(address, balance)
            db.set_nonce(address, nonce)
            db.increment_nonce(address)
            if nonce % 7 == 0:
                db.set_code(address, bytes(nonce % 50))
                db.set_storage(address, nonce, balance % 1000)
    assert ours.make_state_root() == theirs.make_state_root()
    for address in addresses:
        assert ours.get_balance(address) == theirs.get_balance(address)
        assert ours.get_nonce(address) == theirs.get_nonce(address)
