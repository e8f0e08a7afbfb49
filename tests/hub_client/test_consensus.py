"""The light client's re-encoding of a node's JSON: every transaction type the chain accepts
comes back to its signed bytes, hash and sender (py-evm decodes, the node's formatter
writes the JSON); receipts to the bytes whose trie root py-evm puts in the header."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_account import Account
from eth_utils import to_checksum_address

from hub_client._consensus import receipt_bytes, transaction_from_json
from sequencer.rpc.formatters import format_transaction

KEY = Account.from_key("0x" + "42" * 32)
BASE = {
    "nonce": 7,
    "gas": 90_000,
    "to": to_checksum_address("0x" + "ab" * 20),
    "value": 12345,
    "data": b"\x01\x02",
}
TRANSACTIONS: dict[str, dict[str, Any]] = {
    "legacy (EIP-155)": {**BASE, "gasPrice": 3 * 10**9, "chainId": 4343},
    "access list (type 1)": {
        **BASE, "gasPrice": 3 * 10**9, "chainId": 4343, "type": 1,
        "accessList": [{"address": to_checksum_address("0x" + "cd" * 20), "storageKeys": ["0x" + "00" * 31 + "05"]}],
    },
    "dynamic fee (type 2)": {
        **BASE, "maxFeePerGas": 20 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": 4343,
        "type": 2, "accessList": [],
    },
    "contract creation": {
        **BASE, "to": "", "maxFeePerGas": 20 * 10**9, "maxPriorityFeePerGas": 10**9,
        "chainId": 4343, "type": 2,
    },
}  # fmt: skip


@pytest.mark.parametrize("fields", list(TRANSACTIONS.values()), ids=list(TRANSACTIONS))
def test_transactions_come_back_to_their_signed_bytes(fields: dict[str, Any]) -> None:
    raw = bytes(KEY.sign_transaction(fields).raw_transaction)
    tx = PragueTransactionBuilder.decode(raw)
    decoded = transaction_from_json(format_transaction(tx))
    assert decoded.encoded == raw
    assert decoded.hash == tx.hash
    assert decoded.sender == bytes.fromhex(KEY.address[2:])
    assert decoded.chain_id == 4343


def test_invalid_transaction_json_is_refused() -> None:
    raw = bytes(KEY.sign_transaction(TRANSACTIONS["dynamic fee (type 2)"]).raw_transaction)
    good = format_transaction(PragueTransactionBuilder.decode(raw))
    for broken in ({**good, "type": "0x3"}, {**good, "yParity": "0x5"},
                   {k: v for k, v in good.items() if k != "r"}, {**good, "to": "0x12"}):  # fmt: skip
        with pytest.raises((ValueError, KeyError)):
            transaction_from_json(broken)


def test_receipts_encode_as_consensus_receipts() -> None:
    log = {"address": "0x" + "11" * 20, "topics": ["0x" + "22" * 32], "data": "0x0102"}
    receipt = {"status": "0x1", "cumulativeGasUsed": "0x5208", "logsBloom": "0x" + "00" * 256,
               "logs": [log], "type": "0x2"}  # fmt: skip
    encoded = receipt_bytes(receipt)
    assert encoded[0] == 2
    status, gas, bloom, logs = rlp.decode(encoded[1:])
    assert (status, int.from_bytes(gas, "big"), bloom, len(logs)) == (b"\x01", 21000, bytes(256), 1)
    assert rlp.decode(receipt_bytes({**receipt, "status": "0x0", "type": "0x0"}))[0] == b""
    with pytest.raises(ValueError):
        receipt_bytes({**receipt, "status": "0x2"})
