"""Genesis from the chain spec: premine, header fields, the registry seeded explicitly,
determinism, and the same genesis hash as before the spec existed."""

from __future__ import annotations

from pathlib import Path

from eth.db.atomic import AtomicDB
from eth_keys.backends import CoinCurveECCBackend, get_backend

from sequencer.chain.genesis import create_genesis, genesis_hash, genesis_state
from sequencer.chain.inference.constants import REGISTRY_ADDRESS, REGISTRY_CODE
from sequencer.chain.inference.registry import chain_owner, registry_from_storage
from sequencer.chainspec import chain_spec
from sequencer.config import Allocation

from ..helpers import CHAIN_ID, make_config

EXTRA = "0x" + "ab" * 20
OWNER = "0x" + "cd" * 20


def test_genesis_header_and_premine(tmp_path: Path) -> None:
    config = make_config(tmp_path, gas_limit=12_345_678, base_fee="2 gwei")
    config = config.model_copy(update={"alloc": [Allocation(address=EXTRA, balance="5 ether")]})
    chain = create_genesis(chain_spec(config), AtomicDB())
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


def test_genesis_is_a_function_of_the_spec(tmp_path: Path) -> None:
    assert genesis_hash(chain_spec(make_config(tmp_path))) == genesis_hash(
        chain_spec(make_config(tmp_path / "other"))
    )
    assert genesis_hash(chain_spec(make_config(tmp_path))) != genesis_hash(
        chain_spec(make_config(tmp_path, gas_limit=10**7))
    )


def test_genesis_hash_is_unchanged_for_existing_projects(tmp_path: Path) -> None:
    # computed by the node before the chain spec existed (config-driven genesis hooks)
    assert genesis_hash(chain_spec(make_config(tmp_path))).hex() == (
        "9c2af876d8e935a4239ecac69ff26cb3b1f35bc16649c730e577ef749edd90fb"
    )
    assert genesis_hash(chain_spec(make_config(tmp_path, gas_limit=12_345_678, base_fee="2 gwei"))).hex() == (
        "8f77e643c3253bb45775101f4390d9b2c2d000a648fbda3f243abcd724e7559f"
    )  # fmt: skip


def test_registry_is_seeded_by_an_explicit_genesis_step(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.sequencer.address = OWNER
    state = genesis_state(chain_spec(config))
    registry = state[REGISTRY_ADDRESS]
    assert (registry["nonce"], registry["code"]) == (1, REGISTRY_CODE)
    assert chain_owner(registry_from_storage(registry["storage"])) == bytes.fromhex(OWNER[2:])
    chain = create_genesis(chain_spec(config), AtomicDB())
    assert chain.get_vm().state.get_code(REGISTRY_ADDRESS) == REGISTRY_CODE


def test_signatures_are_recovered_with_coincurve() -> None:
    # without coincurve eth-keys falls back to pure Python: ~100x slower, capping the node
    assert isinstance(get_backend(), CoinCurveECCBackend)
