"""web3.py (v8) against a real node over HTTP: identity, blocks, transfers, state, fees, tags."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3.exceptions import TransactionNotFound

from .conftest import CHAIN_ID, Rpc, sign

pytestmark = pytest.mark.slow

PRAGUE_BLOCK_FIELDS = {
    "hash", "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot",
    "logsBloom", "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash",
    "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas",
    "parentBeaconBlockRoot", "requestsHash", "size", "uncles", "transactions", "withdrawals",
}  # fmt: skip
RECEIPT_FIELDS = {
    "blockHash", "blockNumber", "contractAddress", "cumulativeGasUsed", "effectiveGasPrice", "from",
    "gasUsed", "logs", "logsBloom", "status", "to", "transactionHash", "transactionIndex", "type",
}  # fmt: skip


def test_identity_methods(rpc: Rpc) -> None:
    w3 = rpc.w3
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)
    assert w3.net.listening is True
    assert w3.client_version.startswith("NeuroStack/")
    assert w3.eth.syncing is False
    assert w3.eth.accounts == []
    info = rpc.request("neuro_chainInfo")["result"]
    assert info == {
        "chainId": CHAIN_ID,
        "name": "rpc-test",
        "token": {"name": "Test Neuro", "symbol": "TNEURO", "decimals": 18},
        "blockTime": 0.0,
    }


def test_block_has_geths_prague_field_set(rpc: Rpc) -> None:
    rpc.mine()
    raw = rpc.request("eth_getBlockByNumber", ["latest", False])["result"]
    assert set(raw) == PRAGUE_BLOCK_FIELDS
    assert len(bytes.fromhex(raw["logsBloom"][2:])) == 256
    assert raw["difficulty"] == "0x0" and raw["nonce"] == "0x0000000000000000"
    assert raw["withdrawals"] == [] and raw["uncles"] == []
    by_hash = rpc.request("eth_getBlockByHash", [raw["hash"], False])["result"]
    assert by_hash == raw
    block = rpc.w3.eth.get_block("latest")  # web3 parses every field
    assert block["number"] == int(raw["number"], 16) and block["baseFeePerGas"] > 0


def test_block_tags_on_a_single_sequencer(rpc: Rpc) -> None:
    head = rpc.mine()
    w3 = rpc.w3
    for tag in ("latest", "safe", "finalized", "pending"):
        assert w3.eth.get_block(tag)["number"] == head, tag
    assert w3.eth.get_block("earliest")["number"] == 0
    assert rpc.request("eth_getBlockByNumber", [hex(head + 100), False])["result"] is None
    error = rpc.request("eth_getBalance", [rpc.accounts[0].address, hex(head + 100)])["error"]
    assert error == {"code": -32000, "message": "header not found"}


def test_transfers_of_types_0_1_2_are_mined_with_receipts(rpc: Rpc) -> None:
    w3 = rpc.w3
    sender = rpc.accounts[0]
    recipient = Account.create().address
    before = w3.eth.get_balance(sender.address)
    hashes = [
        w3.eth.send_raw_transaction(sign(rpc, sender, t, to=recipient, value=10**18))
        for t in (0, 1, 2)
    ]
    number = rpc.mine()

    block = w3.eth.get_block(number, full_transactions=True)
    assert [tx["hash"] for tx in block["transactions"]] == hashes
    assert w3.eth.get_block_transaction_count(number) == 3
    spent = 0
    for index, (tx_hash, tx_type) in enumerate(zip(hashes, (0, 1, 2))):
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        raw = rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])["result"]
        assert set(raw) == RECEIPT_FIELDS
        assert receipt["status"] == 1 and receipt["type"] == tx_type
        assert receipt["transactionIndex"] == index and receipt["blockNumber"] == number
        assert receipt["gasUsed"] == 21_000 + (2400 + 1900 if tx_type == 1 else 0)
        assert receipt["contractAddress"] is None
        tx = w3.eth.get_transaction(tx_hash)
        assert (
            tx["type"] == tx_type and tx["blockNumber"] == number and tx["from"] == sender.address
        )
        assert w3.eth.get_transaction_by_block(number, index)["hash"] == tx_hash
        spent += receipt["gasUsed"] * receipt["effectiveGasPrice"] + 10**18
    assert w3.eth.get_balance(recipient) == 3 * 10**18
    assert w3.eth.get_balance(sender.address) == before - spent
    assert w3.eth.get_transaction_count(sender.address) == 3


def test_pending_transaction_is_visible_before_mining(rpc: Rpc) -> None:
    w3 = rpc.w3
    sender = rpc.accounts[1]
    nonce = w3.eth.get_transaction_count(sender.address)
    tx_hash = w3.eth.send_raw_transaction(sign(rpc, sender))
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce + 1
    assert w3.eth.get_transaction_count(sender.address, "latest") == nonce
    pending = w3.eth.get_transaction(tx_hash)
    assert pending["blockNumber"] is None and pending["blockHash"] is None
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(tx_hash)
    assert rpc.request("eth_getBlockTransactionCountByNumber", ["pending"])["result"] == "0x1"
    rpc.mine()
    assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_fee_methods(rpc: Rpc) -> None:
    w3 = rpc.w3
    head = rpc.mine()
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    assert w3.eth.gas_price >= w3.eth.max_priority_fee > 0
    assert w3.eth.gas_price >= base_fee * 7 // 8
    history = w3.eth.fee_history(3, "latest", [25, 75])
    assert history["oldestBlock"] == head - 2
    assert len(history["baseFeePerGas"]) == 4 and len(history["gasUsedRatio"]) == 3
    assert len(history["reward"]) == 3 and all(len(r) == 2 for r in history["reward"])
    as_hex = rpc.request("eth_feeHistory", ["0x3", "latest", []])["result"]
    as_int = rpc.request("eth_feeHistory", [3, hex(head), []])["result"]
    assert as_hex == as_int and "reward" not in as_hex


def test_invalid_raw_transactions_get_geth_errors_and_node_keeps_serving(rpc: Rpc) -> None:
    w3 = rpc.w3
    sender = rpc.accounts[2]
    good = sign(rpc, sender)
    w3.eth.send_raw_transaction(good)

    def error(raw: bytes) -> dict[str, Any]:
        return rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])["error"]

    assert error(good) == {"code": -32000, "message": "already known"}
    rpc.mine()
    replay = error(good)
    assert replay["code"] == -32000 and replay["message"].startswith("nonce too low")
    wrong_chain = error(sign(rpc, sender, chainId=CHAIN_ID + 1))
    assert wrong_chain["code"] == -32000 and "chain" in wrong_chain["message"]
    broke = Account.create()
    poor = error(sign(rpc, broke))
    assert poor["code"] == -32000 and poor["message"].startswith(
        "insufficient funds for gas * price + value"
    )
    tampered = good[:-32] + b"\xff" * 32  # s above the curve order: no sender recovers
    assert error(bytes(tampered)) == {"code": -32000, "message": "invalid sender"}
    garbage = error(b"\x02\xff\x00")
    assert garbage["code"] == -32000 and garbage["message"].startswith("rlp:")
    pending = sign(rpc, sender, to=rpc.accounts[0].address)
    w3.eth.send_raw_transaction(pending)
    same_fee_again = sign(rpc, sender, nonce=w3.eth.get_transaction_count(sender.address))
    assert error(same_fee_again)["message"].startswith("replacement transaction underpriced")
    cheap = error(sign(rpc, sender, maxFeePerGas=1, maxPriorityFeePerGas=1))
    assert cheap["code"] == -32000 and cheap["message"].startswith("transaction underpriced")
    huge = error(sign(rpc, sender, data=b"\x01" * 140_000, gas=3_000_000))
    assert huge["code"] == -32000 and huge["message"].startswith("oversized data")
    assert rpc.request("eth_sendRawTransaction", ["not hex"])["error"]["code"] == -32602
    assert w3.eth.block_number >= 1  # still serving


def test_batch_of_raw_transactions_answers_each_in_order_with_one_fsync(
    rpc: Rpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import httpx

    w3 = rpc.w3
    sender, other = rpc.accounts[3], rpc.accounts[1]
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    first = sign(rpc, sender)
    second = sign(rpc, sender, nonce=nonce + 1)
    third = sign(rpc, other)
    tampered = first[:-32] + b"\xff" * 32

    def send(req_id: int, raw: bytes) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": req_id, "method": "eth_sendRawTransaction",
                "params": ["0x" + raw.hex()]}  # fmt: skip

    real_fsync = os.fsync
    fsyncs: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    batch = [send(1, first), send(2, second), send(3, first), send(4, tampered),
             {"jsonrpc": "2.0", "id": 5, "method": "eth_getTransactionCount",
              "params": [sender.address, "pending"]},
             send(6, third)]  # fmt: skip
    replies = httpx.post(rpc.url, json=batch, timeout=30).json()
    assert [r["id"] for r in replies] == [1, 2, 3, 4, 5, 6]
    assert replies[0]["result"] == "0x" + w3.keccak(first).hex().removeprefix("0x")
    assert replies[1]["result"] == "0x" + w3.keccak(second).hex().removeprefix("0x")
    assert replies[2]["error"] == {"code": -32000, "message": "already known"}
    assert replies[3]["error"] == {"code": -32000, "message": "invalid sender"}
    assert replies[4]["result"] == hex(nonce + 2)  # sees the run before it
    assert replies[5]["result"] == "0x" + w3.keccak(third).hex().removeprefix("0x")
    assert len(fsyncs) == 2  # one journal fsync per run of sends, not one per transaction
    monkeypatch.undo()
    rpc.mine()
    for reply in (replies[0], replies[1], replies[5]):
        assert w3.eth.get_transaction_receipt(reply["result"])["status"] == 1


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("eth_getBalance", [], -32602),
        ("eth_getBalance", ["0x1234"], -32602),
        ("eth_getBalance", ["0x" + "11" * 20, "newest"], -32602),
        ("eth_getBlockByNumber", ["latest", False, 3], -32602),
        ("eth_getBlockByNumber", [12, False], -32602),
        ("eth_call", ["0x00"], -32602),
        (
            "eth_call",
            [{"to": "0x" + "11" * 20}, "latest", {"0x" + "11" * 20: {"balance": "0x1"}}],
            -32602,
        ),
        ("eth_getLogs", [{"fromBlock": "0x1", "blockHash": "0x" + "00" * 32}], -32602),
        ("eth_notAMethod", [], -32601),
        ("eth_getFilterChanges", ["0xdeadbeef"], -32000),
    ],
)
def test_invalid_params_and_methods(rpc: Rpc, method: str, params: list[Any], code: int) -> None:
    assert rpc.request(method, params)["error"]["code"] == code


def test_metrics_count_calls_and_show_the_head(rpc: Rpc) -> None:
    import httpx

    assert rpc.w3.eth.chain_id == CHAIN_ID
    rpc.request("eth_definitelyUnknown")
    head = rpc.mine()
    text = httpx.get(rpc.url + "metrics").text
    assert 'neurostack_node_rpc_calls_total{code="0",method="eth_chainId"}' in text
    assert 'neurostack_node_rpc_calls_total{code="-32601",method="unknown"}' in text
    assert f"neurostack_node_head_block {float(head)}" in text
