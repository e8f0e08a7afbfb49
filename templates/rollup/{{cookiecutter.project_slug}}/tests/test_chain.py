"""The devnet answers as chain.toml says: identity, token, transfers, contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

Send = Callable[[LocalAccount, dict[str, Any]], Any]


def test_chain_id_is_the_configured_one(w3: Web3, chain_config: dict[str, Any]) -> None:
    assert w3.eth.chain_id == chain_config["chain"]["chain_id"]


def test_chain_info_names_the_native_token(w3: Web3, chain_config: dict[str, Any]) -> None:
    info = w3.provider.make_request("neuro_chainInfo", [])["result"]
    assert int(str(info["chainId"]), 0) == chain_config["chain"]["chain_id"]
    assert info["token"]["name"] == chain_config["token"]["name"]
    assert info["token"]["symbol"] == chain_config["token"]["symbol"]
    assert info["token"]["decimals"] == 18


def test_dev_accounts_are_funded(w3: Web3, dev_accounts: list[LocalAccount]) -> None:
    assert dev_accounts, "chain.toml funds no dev accounts"
    assert all(w3.eth.get_balance(a.address) > 0 for a in dev_accounts)


def test_transfer_moves_native_tokens(
    w3: Web3, send: Send, dev_accounts: list[LocalAccount]
) -> None:
    recipient = Account.create().address
    amount = Web3.to_wei(1.5, "ether")

    receipt = send(dev_accounts[0], {"to": recipient, "value": amount, "gas": 21_000})

    assert receipt["status"] == 1
    assert w3.eth.get_balance(recipient) == amount


def test_example_contract_stores_a_value(
    w3: Web3, send: Send, dev_accounts: list[LocalAccount], artifact: Callable[[str], Any]
) -> None:
    storage_artifact = artifact("Storage")
    account = dev_accounts[1]
    deployed = send(account, {"data": storage_artifact["bytecode"], "gas": 500_000})
    assert deployed["status"] == 1 and deployed["contractAddress"]
    storage = w3.eth.contract(address=deployed["contractAddress"], abi=storage_artifact["abi"])

    receipt = send(account, {"to": storage.address, "data": storage.encode_abi("set", [42])})

    assert receipt["status"] == 1
    assert storage.functions.value().call() == 42
    (event,) = storage.events.ValueChanged().process_receipt(receipt)
    assert event["args"]["by"] == account.address
    assert event["args"]["value"] == 42
