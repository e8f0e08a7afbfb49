"""eth_getLogs and polled filters against a real node, with the Counter contract's events."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from sequencer.rpc.errors import ServerError
from sequencer.rpc.filters import FilterRegistry

from .conftest import Rpc, deploy_counter, sign

pytestmark = pytest.mark.slow

INCREMENTED = "0x" + Web3.keccak(text="Incremented(address,uint256,string)").hex()


def topic_of(value: int | str) -> str:
    if isinstance(value, str):  # an address
        return "0x" + "00" * 12 + value[2:].lower()
    return "0x" + value.to_bytes(32, "big").hex()


@pytest.fixture(scope="module")
def counter(rpc: Rpc, counter_artifact: dict[str, Any]) -> Contract:
    return deploy_counter(rpc, counter_artifact)


def increment(rpc: Rpc, counter: Contract, account_index: int, note: str) -> bytes:
    account = rpc.accounts[account_index]
    data = counter.encode_abi("increment", [note])
    return rpc.w3.eth.send_raw_transaction(
        sign(rpc, account, to=counter.address, value=0, data=data)
    )


def test_get_logs_filters_by_address_topics_or_lists_and_block_hash(
    rpc: Rpc, counter: Contract
) -> None:
    first = rpc.w3.eth.block_number + 1
    increment(rpc, counter, 0, "a")
    increment(rpc, counter, 1, "b")
    block = rpc.mine()
    increment(rpc, counter, 2, "c")
    rpc.mine()
    a0, a1, a2 = (a.address for a in rpc.accounts[:3])

    def logs(**spec: Any) -> list[dict[str, Any]]:
        spec.setdefault("fromBlock", hex(first))
        reply = rpc.request("eth_getLogs", [spec])
        assert "result" in reply, reply
        return reply["result"]

    everything = logs(address=counter.address)
    assert len(everything) == 3
    assert [int(entry["topics"][2], 16) for entry in everything] == [1, 2, 3]
    assert [entry["logIndex"] for entry in everything[:2]] == ["0x0", "0x1"]  # block-wide index
    assert len(logs(topics=[INCREMENTED, topic_of(a1)])) == 1
    assert len(logs(topics=[None, [topic_of(a0), topic_of(a2)]])) == 2
    assert len(logs(topics=[None, None, topic_of(3)])) == 1
    assert logs(topics=[None, topic_of(Account.create().address)]) == []
    assert logs(address=Account.create().address) == []
    by_hash = rpc.request(
        "eth_getLogs", [{"blockHash": "0x" + rpc.w3.eth.get_block(block)["hash"].hex()}]
    )
    assert len(by_hash["result"]) == 2
    # web3's own API parses the same logs
    events = counter.events.Incremented().get_logs(from_block=first)
    assert [e["args"]["note"] for e in events] == ["a", "b", "c"]


def test_invalid_log_range_past_the_cap(rpc_factory: Any) -> None:
    small = rpc_factory(rpc={"max_logs_range": 2})
    for _ in range(3):
        small.mine()
    error = small.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])["error"]
    assert error["code"] == -32005
    assert "at most 2" in error["message"] and "max_logs_range" in error["message"]
    assert small.request("eth_getLogs", [{"fromBlock": "0x2", "toBlock": "0x3"}])["result"] == []
    error = small.request("eth_getLogs", [{"fromBlock": "0x3", "toBlock": "0x1"}])["error"]
    assert error["code"] == -32602


def test_filters_report_changes_once(rpc: Rpc, counter: Contract) -> None:
    w3 = rpc.w3
    log_filter = rpc.request("eth_newFilter", [{"address": counter.address}])["result"]
    block_filter = rpc.request("eth_newBlockFilter")["result"]
    pending_filter = rpc.request("eth_newPendingTransactionFilter")["result"]

    tx_hash = increment(rpc, counter, 0, "filtered")
    assert rpc.request("eth_getFilterChanges", [pending_filter])["result"] == ["0x" + tx_hash.hex()]
    block = rpc.mine()

    changes = rpc.request("eth_getFilterChanges", [log_filter])["result"]
    assert [c["transactionHash"] for c in changes] == ["0x" + tx_hash.hex()]
    blocks = rpc.request("eth_getFilterChanges", [block_filter])["result"]
    assert blocks == ["0x" + w3.eth.get_block(block)["hash"].hex()]
    for filter_id in (log_filter, block_filter, pending_filter):  # nothing new: empty
        assert rpc.request("eth_getFilterChanges", [filter_id])["result"] == []
    all_logs = rpc.request("eth_getFilterLogs", [log_filter])["result"]
    assert len(all_logs) == 1  # the filter's fromBlock is "latest"

    assert rpc.request("eth_uninstallFilter", [log_filter])["result"] is True
    assert rpc.request("eth_uninstallFilter", [log_filter])["result"] is False
    gone = rpc.request("eth_getFilterChanges", [log_filter])["error"]
    assert gone == {"code": -32000, "message": "filter not found"}


def test_web3_filter_api(rpc: Rpc, counter: Contract) -> None:
    event_filter = counter.events.Incremented().create_filter(from_block="latest")
    increment(rpc, counter, 3, "via web3 filter")
    rpc.mine()
    entries = event_filter.get_new_entries()
    assert [e["args"]["note"] for e in entries] == ["via web3 filter"]


def test_invalid_idle_filter_expires(rpc: Rpc) -> None:
    registry = FilterRegistry(rpc.node, max_logs_range=10, timeout=0.05)
    filter_id = registry.new_block_filter()
    assert registry.changes(filter_id) == []
    time.sleep(0.1)
    with pytest.raises(ServerError, match="filter not found"):
        registry.changes(filter_id)


def test_block_receipts_number_logs_across_the_block_as_each_receipt_does(
    rpc: Rpc, counter: Contract
) -> None:
    hashes = [increment(rpc, counter, i, f"note {i}") for i in range(2)]
    rpc.w3.eth.send_raw_transaction(  # a transfer without logs between them
        sign(rpc, rpc.accounts[2], to=rpc.accounts[0].address, value=1)
    )
    hashes.append(increment(rpc, counter, 3, "last"))
    number = rpc.mine()
    receipts = rpc.request("eth_getBlockReceipts", [hex(number)])["result"]
    log_indexes = [int(log["logIndex"], 16) for r in receipts for log in r["logs"]]
    assert log_indexes == list(range(3))  # one event per increment, numbered in the block
    for tx_hash in hashes:
        one = rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])["result"]
        assert one in receipts
