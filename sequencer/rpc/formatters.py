"""py-evm objects -> the JSON shapes geth returns (blocks, transactions, receipts, logs).

Quantities are minimal 0x-hex, byte strings 0x-hex, addresses lowercase hex as geth
sends them (clients checksum them themselves). Field sets follow geth for the Prague
fork: blob-gas fields, ``withdrawals``/``withdrawalsRoot``, ``parentBeaconBlockRoot``
and ``requestsHash`` are always present; ``totalDifficulty`` is not (geth dropped it
after the merge).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, LogAPI, ReceiptAPI, SignedTransactionAPI

ZERO_NONCE = "0x0000000000000000"


def hexb(value: bytes) -> str:
    return "0x" + value.hex()


def bloom_hex(bloom: int) -> str:
    return "0x" + bloom.to_bytes(256, "big").hex()


def base_fee(header: BlockHeaderAPI) -> int:
    """The header's base fee; every block of a Neuro chain has one (London and later)."""
    if header.base_fee_per_gas is None:
        raise ValueError(f"block {header.block_number} has no base fee (a pre-London header)")
    return header.base_fee_per_gas


def format_header(header: BlockHeaderAPI) -> dict[str, Any]:
    """The header fields of a block: what ``eth_subscribe("newHeads")`` sends."""
    out: dict[str, Any] = {
        "hash": hexb(header.hash),
        "parentHash": hexb(header.parent_hash),
        "sha3Uncles": hexb(header.uncles_hash),
        "miner": hexb(header.coinbase),
        "stateRoot": hexb(header.state_root),
        "transactionsRoot": hexb(header.transaction_root),
        "receiptsRoot": hexb(header.receipt_root),
        "logsBloom": bloom_hex(header.bloom),
        "difficulty": hex(header.difficulty),
        "number": hex(header.block_number),
        "gasLimit": hex(header.gas_limit),
        "gasUsed": hex(header.gas_used),
        "timestamp": hex(header.timestamp),
        "extraData": hexb(header.extra_data),
        "mixHash": hexb(header.mix_hash),
        "nonce": hexb(header.nonce) if header.nonce else ZERO_NONCE,
        "baseFeePerGas": hex(base_fee(header)),
    }
    for key, attr in (
        ("withdrawalsRoot", "withdrawals_root"),
        ("blobGasUsed", "blob_gas_used"),
        ("excessBlobGas", "excess_blob_gas"),
        ("parentBeaconBlockRoot", "parent_beacon_block_root"),
        ("requestsHash", "requests_hash"),
    ):
        value = getattr(header, attr, None)
        if value is not None:
            out[key] = hex(value) if isinstance(value, int) else hexb(value)
    return out


def format_block(
    block: BlockAPI, full_transactions: bool, senders: Sequence[bytes] | None = None
) -> dict[str, Any]:
    """``eth_getBlockBy*``: header fields, size, uncles, withdrawals, transactions.

    ``senders`` (one per transaction) replaces signature recovery, see ``format_transaction``.
    """
    header = block.header
    out = format_header(header)
    out["size"] = hex(len(rlp.encode(block)))
    out["uncles"] = [hexb(u.hash) for u in block.uncles]
    out["withdrawals"] = [
        {
            "index": hex(w.index),
            "validatorIndex": hex(w.validator_index),
            "address": hexb(w.address),
            "amount": hex(w.amount),
        }
        for w in getattr(block, "withdrawals", ())
    ]
    if full_transactions:
        out["transactions"] = [
            format_transaction(tx, header, i, sender=senders[i] if senders else None)
            for i, tx in enumerate(block.transactions)
        ]
    else:
        out["transactions"] = [hexb(tx.hash) for tx in block.transactions]
    return out


def tx_type(tx: SignedTransactionAPI) -> int:
    return getattr(tx, "type_id", None) or 0


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    """What the sender paid per gas in a block with this base fee (EIP-1559)."""
    if tx_type(tx) < 2:
        return tx.gas_price
    return min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)


def format_transaction(
    tx: SignedTransactionAPI,
    header: BlockHeaderAPI | None = None,
    index: int | None = None,
    *,
    sender: bytes | None = None,
) -> dict[str, Any]:
    """A transaction as geth's ``RPCTransaction``; ``header`` is None while pending.

    ``sender`` replaces signature recovery for transactions that carry no real signature
    (``eth_simulateV1``'s calls, signed with zeros as geth does).
    """
    kind = tx_type(tx)
    out: dict[str, Any] = {
        "blockHash": hexb(header.hash) if header is not None else None,
        "blockNumber": hex(header.block_number) if header is not None else None,
        "blockTimestamp": hex(header.timestamp) if header is not None else None,
        "from": hexb(tx.sender if sender is None else sender),
        "gas": hex(tx.gas),
        "hash": hexb(tx.hash),
        "input": hexb(tx.data),
        "nonce": hex(tx.nonce),
        "to": hexb(tx.to) if tx.to else None,
        "transactionIndex": hex(index) if index is not None else None,
        "value": hex(tx.value),
        "type": hex(kind),
    }
    if kind >= 2:
        out["maxFeePerGas"] = hex(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
        price = (
            effective_gas_price(tx, base_fee(header)) if header is not None else tx.max_fee_per_gas
        )
        out["gasPrice"] = hex(price)
    else:
        out["gasPrice"] = hex(tx.gas_price)
    if kind >= 1:
        out["accessList"] = [
            {
                "address": hexb(addr),
                "storageKeys": ["0x" + key.to_bytes(32, "big").hex() for key in keys],
            }
            for addr, keys in tx.access_list
        ]
        out["chainId"] = hex(cast(int, tx.chain_id))  # typed transactions always carry one
        out["v"] = hex(tx.y_parity)
        out["yParity"] = hex(tx.y_parity)
    else:
        out["v"] = hex(cast(Any, tx).v)  # legacy transactions carry v itself
        if tx.chain_id is not None:
            out["chainId"] = hex(tx.chain_id)
    out["r"] = hex(tx.r)
    out["s"] = hex(tx.s)
    return out


def format_log(
    log: LogAPI,
    header: BlockHeaderAPI,
    tx_hash: bytes,
    tx_index: int,
    log_index: int,
    removed: bool = False,
) -> dict[str, Any]:
    return {
        "address": hexb(log.address),
        "topics": ["0x" + t.to_bytes(32, "big").hex() for t in log.topics],
        "data": hexb(log.data),
        "blockNumber": hex(header.block_number),
        "blockHash": hexb(header.hash),
        "blockTimestamp": hex(header.timestamp),
        "transactionHash": hexb(tx_hash),
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": removed,
    }


def block_logs(block: BlockAPI, receipts: Sequence[ReceiptAPI]) -> list[dict[str, Any]]:
    """Every log of a block in order, with block-wide ``logIndex``."""
    out: list[dict[str, Any]] = []
    header = block.header
    for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
        for log in receipt.logs:
            out.append(format_log(log, header, tx.hash, tx_index, len(out)))
    return out


def format_receipt(
    block: BlockAPI,
    receipts: Sequence[ReceiptAPI],
    index: int,
    first_log_index: int | None = None,
) -> dict[str, Any]:
    """``eth_getTransactionReceipt`` for the transaction at ``index`` of ``block``;
    ``first_log_index`` (the logs of the receipts before it) when the caller counts them."""
    header = block.header
    tx = block.transactions[index]
    receipt = receipts[index]
    previous_cumulative = receipts[index - 1].gas_used if index else 0
    if first_log_index is None:
        first_log_index = sum(len(r.logs) for r in receipts[:index])
    sender = tx.sender
    return {
        "blockHash": hexb(header.hash),
        "blockNumber": hex(header.block_number),
        "contractAddress": (None if tx.to else hexb(generate_contract_address(sender, tx.nonce))),
        "cumulativeGasUsed": hex(receipt.gas_used),
        "effectiveGasPrice": hex(effective_gas_price(tx, base_fee(header))),
        "from": hexb(sender),
        "gasUsed": hex(receipt.gas_used - previous_cumulative),
        "logs": [
            format_log(log, header, tx.hash, index, first_log_index + i)
            for i, log in enumerate(receipt.logs)
        ],
        "logsBloom": bloom_hex(receipt.bloom),
        "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
        "to": hexb(tx.to) if tx.to else None,
        "transactionHash": hexb(tx.hash),
        "transactionIndex": hex(index),
        "type": hex(tx_type(tx)),
    }
