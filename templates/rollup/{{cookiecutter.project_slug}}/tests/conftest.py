"""Fixtures for testing against this chain's running devnet (`neurostack up`)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def chain_config() -> dict[str, Any]:
    """This project's chain.toml, as plain TOML."""
    return tomllib.loads((ROOT / "chain.toml").read_text())


@pytest.fixture(scope="session")
def w3(chain_config: dict[str, Any]) -> Web3:
    """A web3.py client of the devnet; fails with advice when nothing answers."""
    rpc = chain_config.get("rpc", {})
    host = rpc.get("host", "127.0.0.1")
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    url = os.environ.get("NEUROSTACK_RPC_URL") or f"http://{host}:{rpc.get('port', 8545)}"
    client = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    if not client.is_connected():
        pytest.fail(f"no devnet answers at {url}: run `neurostack up` in {ROOT} first")
    return client


@pytest.fixture(scope="session")
def dev_accounts(chain_config: dict[str, Any]) -> list[LocalAccount]:
    """The funded dev accounts, derived from [dev].mnemonic like anvil does."""
    dev = chain_config.get("dev", {})
    mnemonic = dev.get("mnemonic", "test test test test test test test test test test test junk")
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(dev.get("accounts", 10))
    ]


@pytest.fixture(scope="session")
def storage_artifact() -> dict[str, Any]:
    """The compiled example contract (abi and bytecode)."""
    return json.loads((ROOT / "contracts" / "artifacts" / "Storage.json").read_text())


@pytest.fixture(scope="session")
def send(w3: Web3, chain_config: dict[str, Any]) -> Callable[[LocalAccount, dict[str, Any]], Any]:
    """``send(account, tx)``: sign, send and return the receipt once mined."""
    block_time = chain_config.get("chain", {}).get("block_time", 1.0)

    def _send(account: LocalAccount, tx: dict[str, Any]) -> Any:
        tx = {
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
            "maxPriorityFeePerGas": 10**9,
            **tx,
        }
        if "gas" not in tx:
            tx["gas"] = w3.eth.estimate_gas({**tx, "from": account.address})
        tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        if block_time == 0:  # a chain that mines on demand only
            w3.provider.make_request("evm_mine", [])
        return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)

    return _send
