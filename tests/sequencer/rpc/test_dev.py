"""Dev methods over RPC: evm_mine, evm_snapshot/evm_revert, evm_increaseTime, and their absence."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from .conftest import Rpc, sign

pytestmark = pytest.mark.slow


def test_mine_with_timestamp_and_increase_time(rpc: Rpc) -> None:
    head = rpc.w3.eth.get_block("latest")
    target = head["timestamp"] + 1000
    assert rpc.request("evm_mine", [target])["result"] == "0x0"
    assert rpc.w3.eth.get_block("latest")["timestamp"] == target
    offset = rpc.request("evm_increaseTime", [3600])["result"]
    assert offset >= 3600
    rpc.mine()
    assert rpc.w3.eth.get_block("latest")["timestamp"] >= target + 3600
    error = rpc.request("evm_mine", [1])["error"]  # a timestamp before the head's
    assert error["code"] == -32000 and "timestamp" in error["message"]


def test_snapshot_and_revert_rewind_the_chain(rpc: Rpc) -> None:
    w3 = rpc.w3
    recipient = Account.create().address
    snapshot = rpc.request("evm_snapshot")["result"]
    number = w3.eth.block_number
    tx_hash = w3.eth.send_raw_transaction(sign(rpc, rpc.accounts[3], to=recipient, value=10**18))
    rpc.mine()
    assert w3.eth.get_balance(recipient) == 10**18
    assert rpc.request("evm_revert", [snapshot])["result"] is True
    assert w3.eth.block_number == number
    assert w3.eth.get_balance(recipient) == 0
    assert rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])["result"] is None
    assert rpc.request("evm_revert", [snapshot])["result"] is False  # used up


@pytest.fixture(scope="module")
def production(rpc_factory: Any) -> Rpc:
    return rpc_factory(dev_methods=False)


@pytest.mark.parametrize("method", ["evm_mine", "evm_snapshot", "evm_revert", "evm_increaseTime"])
def test_invalid_dev_methods_on_a_chain_without_them(production: Rpc, method: str) -> None:
    error = production.request(
        method, ["0x1"] if method in ("evm_revert", "evm_increaseTime") else []
    )["error"]
    assert error == {
        "code": -32601,
        "message": f"the method {method} does not exist/is not available",
    }
