"""web3.py deploys and uses a solc-js-compiled contract through the node's RPC.

Transactions go through web3's local-signing middleware, so web3 itself fills nonce,
gas (eth_estimateGas) and fees (eth_maxPriorityFeePerGas, the block's base fee): the
path a dApp script takes.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.middleware import SignAndSendRawMiddlewareBuilder

from .conftest import Rpc

pytestmark = pytest.mark.slow


def send_and_mine(rpc: Rpc, fn: Any) -> Any:
    tx_hash = fn.transact({"from": rpc.accounts[0].address})
    rpc.mine()
    return rpc.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)


@pytest.fixture(scope="module")
def counter(rpc: Rpc, counter_artifact: dict[str, Any]) -> Contract:
    w3 = rpc.w3
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(rpc.accounts[0]), layer=0)
    factory = w3.eth.contract(abi=counter_artifact["abi"], bytecode=counter_artifact["bytecode"])
    receipt = send_and_mine(rpc, factory.constructor(5))
    assert receipt["status"] == 1 and receipt["contractAddress"]
    return w3.eth.contract(address=receipt["contractAddress"], abi=counter_artifact["abi"])


def test_deployed_code_state_and_calls(
    rpc: Rpc, counter: Contract, counter_artifact: dict[str, Any]
) -> None:
    w3 = rpc.w3
    runtime = bytes.fromhex(counter_artifact["deployedBytecode"][2:])
    assert bytes(w3.eth.get_code(counter.address)) == runtime
    assert counter.functions.count().call() == 5
    assert counter.functions.owner().call() == rpc.accounts[0].address
    assert int.from_bytes(w3.eth.get_storage_at(counter.address, 0), "big") == 5
    assert w3.eth.get_code(Account.create().address) == b""


def test_transaction_emits_a_log_in_its_receipt(rpc: Rpc, counter: Contract) -> None:
    receipt = send_and_mine(rpc, counter.functions.increment("hello"))
    assert receipt["status"] == 1
    (event,) = counter.events.Incremented().process_receipt(receipt)
    assert event["args"]["by"] == rpc.accounts[0].address
    assert event["args"]["newCount"] == 6 and event["args"]["note"] == "hello"
    (log,) = receipt["logs"]
    assert log["logIndex"] == 0 and log["transactionIndex"] == 0 and log["removed"] is False
    assert log["blockHash"] == receipt["blockHash"]
    assert counter.functions.count().call() == 6
    # the state read at the previous block still shows the old value
    assert counter.functions.count().call(block_identifier=receipt["blockNumber"] - 1) == 5


def test_estimate_gas_covers_the_real_cost(rpc: Rpc, counter: Contract) -> None:
    estimate = counter.functions.increment("estimate").estimate_gas(
        {"from": rpc.accounts[0].address}
    )
    receipt = send_and_mine(rpc, counter.functions.increment("estimate"))
    assert receipt["gasUsed"] <= estimate <= receipt["gasUsed"] * 2


def test_revert_reason_reaches_web3(rpc: Rpc, counter: Contract) -> None:
    with pytest.raises(ContractLogicError) as info:
        counter.functions.fail().call()
    assert "always fails" in str(info.value)
    raw = rpc.request(
        "eth_call", [{"to": counter.address, "data": counter.encode_abi("fail")}, "latest"]
    )
    assert raw["error"]["code"] == 3
    assert raw["error"]["message"] == "execution reverted: always fails"
    assert raw["error"]["data"].startswith("0x08c379a0")
    estimate = rpc.request(
        "eth_estimateGas", [{"to": counter.address, "data": counter.encode_abi("fail")}]
    )
    assert estimate["error"]["code"] == 3 and "always fails" in estimate["error"]["message"]


def test_custom_error_and_panic_carry_their_data(rpc: Rpc, counter: Contract) -> None:
    stranger = Account.create().address
    with pytest.raises(ContractCustomError) as info:
        counter.functions.ownerOnly().call({"from": stranger})
    selector = Web3.keccak(text="NotOwner(address)")[:4]
    expected = selector + encode(["address"], [stranger])
    assert info.value.data == "0x" + expected.hex()
    with pytest.raises(ContractPanicError):
        counter.functions.add(2**256 - 1).call()


def test_invalid_call_to_code_less_address_returns_empty(rpc: Rpc) -> None:
    result = rpc.request("eth_call", [{"to": Account.create().address, "data": "0x12345678"}])
    assert result["result"] == "0x"
