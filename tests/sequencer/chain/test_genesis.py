"""Genesis from the chain config: premine, header fields, hooks, determinism."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth.db.atomic import AtomicDB
from eth_keys.backends import CoinCurveECCBackend, get_backend

from sequencer.chain.genesis import GENESIS_HOOKS, create_genesis, genesis_hash
from sequencer.config import Allocation, ChainConfig

from ..helpers import CHAIN_ID, make_config

EXTRA = "0x" + "ab" * 20


def test_genesis_header_and_premine(tmp_path: Path) -> None:
    config = make_config(tmp_path, gas_limit=12_345_678, base_fee="2 gwei")
    config = config.model_copy(update={"alloc": [Allocation(address=EXTRA, balance="5 ether")]})
    chain = create_genesis(config, AtomicDB())
    header = chain.get_canonical_head()
    assert header.block_number == 0
    assert header.gas_limit == 12_345_678
    assert header.base_fee_per_gas == 2 * 10**9
    assert header.extra_data == b"\x00" * 32  # inferenceRoot of no receipts
    assert header.timestamp == 0
    assert chain.chain_id == CHAIN_ID
    state = chain.get_vm().state
    for account in config.dev_accounts():
        assert state.get_balance(bytes.fromhex(account.address[2:])) == config.dev.balance
    assert state.get_balance(bytes.fromhex(EXTRA[2:])) == 5 * 10**18


def test_genesis_is_a_function_of_the_config(tmp_path: Path) -> None:
    assert genesis_hash(make_config(tmp_path)) == genesis_hash(make_config(tmp_path / "other"))
    assert genesis_hash(make_config(tmp_path)) != genesis_hash(
        make_config(tmp_path, gas_limit=10**7)
    )


@pytest.fixture
def system_contract_hook() -> Iterator[None]:
    def add_system_contract(config: ChainConfig, state: dict) -> None:
        state[b"\x00" * 19 + b"\xf5"] = {
            "balance": 0,
            "nonce": 1,
            "code": b"\x60\x00",
            "storage": {7: 42},
        }

    GENESIS_HOOKS.append(add_system_contract)
    yield
    GENESIS_HOOKS.remove(add_system_contract)


def test_genesis_hook_adds_system_state(tmp_path: Path, system_contract_hook: None) -> None:
    chain = create_genesis(make_config(tmp_path), AtomicDB())
    state = chain.get_vm().state
    address = b"\x00" * 19 + b"\xf5"
    assert state.get_code(address) == b"\x60\x00"
    assert state.get_storage(address, 7) == 42


def test_signatures_are_recovered_with_coincurve() -> None:
    # without coincurve eth-keys falls back to pure Python: ~100x slower, capping the node
    assert isinstance(get_backend(), CoinCurveECCBackend)
