"""Fixtures for testing against this chain's running devnet (`neurostack up`)."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hub_client import RollupClient
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def chain_config() -> dict[str, Any]:
    """This project's chain.toml, as plain TOML."""
    return tomllib.loads((ROOT / "chain.toml").read_text())


def _url(section: dict[str, Any], default_port: int) -> str:
    host = section.get("host", "127.0.0.1")
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{section.get('port', default_port)}"


@pytest.fixture(scope="session")
def rpc_url(chain_config: dict[str, Any]) -> str:
    """The devnet's JSON-RPC: NEUROSTACK_RPC_URL, else [rpc] of chain.toml."""
    return os.environ.get("NEUROSTACK_RPC_URL") or _url(chain_config.get("rpc", {}), 8545)


@pytest.fixture(scope="session")
def hub_url(chain_config: dict[str, Any]) -> str:
    """The devnet's inference hub: NEUROSTACK_HUB_URL, else [hub] of chain.toml."""
    return os.environ.get("NEUROSTACK_HUB_URL") or _url(chain_config.get("hub", {}), 8600)


@pytest.fixture(scope="session")
def w3(rpc_url: str) -> Web3:
    """A web3.py client of the devnet; fails with advice when nothing answers."""
    client = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    if not client.is_connected():
        pytest.fail(f"no devnet answers at {rpc_url}: run `neurostack up` in {ROOT} first")
    return client


@pytest.fixture(scope="session")
def dev_accounts(chain_config: dict[str, Any]) -> list[LocalAccount]:
    """The funded dev accounts, derived from [dev].mnemonic like anvil does. A production
    chain funds none: NEUROSTACK_TEST_KEYS (comma-separated funded private keys) stands
    in for them, else the tests that send transactions are skipped."""
    dev = chain_config.get("dev", {})
    if dev.get("accounts", 10) == 0:
        keys = [k.strip() for k in os.environ.get("NEUROSTACK_TEST_KEYS", "").split(",")]
        if not any(keys):
            pytest.skip(
                "this chain funds no dev accounts (production profile): set "
                "NEUROSTACK_TEST_KEYS to funded private keys to run the tests that send "
                "transactions"
            )
        return [Account.from_key(k) for k in keys if k]
    mnemonic = dev.get("mnemonic", "test test test test test test test test test test test junk")
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(dev.get("accounts", 10))
    ]


@pytest.fixture(scope="session")
def artifact() -> Callable[[str], dict[str, Any]]:
    """``artifact(name)``: a compiled contract of contracts/ (abi, bytecode) from artifacts/."""

    def _load(name: str) -> dict[str, Any]:
        path = ROOT / "contracts" / "artifacts" / f"{name}.json"
        if not path.is_file():
            pytest.fail(f"no artifact {path.name}: run `neurostack compile` in {ROOT}")
        return json.loads(path.read_text())

    return _load


@pytest.fixture(scope="session")
def send(
    w3: Web3, rpc_url: str, chain_config: dict[str, Any]
) -> Iterator[Callable[[LocalAccount, dict[str, Any]], Any]]:
    """``send(account, tx)``: sign, send and return the receipt once mined. hub_client's
    toolkit fills in nonce, gas and EIP-1559 fees; a transaction the sequencer drops (no
    sprinter answered, ...) fails at once with its reason."""
    block_time = chain_config.get("chain", {}).get("block_time", 1.0)
    with RollupClient(rpc_url, timeout=60) as rollup:

        def _send(account: LocalAccount, tx: dict[str, Any]) -> Any:
            data = tx.get("data", b"")
            tx_hash = rollup.send_transaction(
                account, tx.get("to"), bytes.fromhex(data[2:]) if isinstance(data, str) else data,
                value=tx.get("value", 0), gas=tx.get("gas"),
            )  # fmt: skip
            if block_time == 0:  # a chain that mines on demand only
                w3.provider.make_request("evm_mine", [])
            # Generous: a transaction that calls a model waits for the model first.
            rollup.wait_for_receipt(tx_hash, timeout=60, check=False)
            return w3.eth.get_transaction_receipt(tx_hash)  # web3's form, to decode events

        yield _send
