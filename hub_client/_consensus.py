"""The consensus bytes behind a node's JSON: transactions, receipts, ``eth_getProof`` answers.

A light client cannot take a node's JSON at its word; it re-encodes what the JSON
describes and checks the bytes against a root in a verified header: every transaction
against ``transactionsRoot``, every receipt against ``receiptsRoot`` (the block's trie of
``rlp(index) -> encoding``, see ``neurostack.protocol.mpt``). A node that alters a field
changes the bytes, and the root no longer matches.

Encodings (EIP-2718): a legacy transaction is ``rlp([nonce, gasPrice, gas, to, value,
data, v, r, s])``; type 1 is ``0x01 ‖ rlp([chainId, nonce, gasPrice, gas, to, value, data,
accessList, yParity, r, s])``, type 2 is ``0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
maxFeePerGas, gas, to, value, data, accessList, yParity, r, s])``. A receipt is ``[type ‖]
rlp([status, cumulativeGasUsed, logsBloom, [[address, [topics], data], ...]])``. Neuro
chains accept only these three transaction types (``sequencer.mempool``).

Every function raises ``ValueError`` (or ``KeyError``/``TypeError``) on a malformed
answer; the caller names the check that failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_keys import keys
from eth_utils import keccak

from neurostack.protocol.types import Address, Hash32


def hex_bytes(value: Any, size: int | None = None) -> bytes:
    """0x-hex to bytes, of exactly ``size`` bytes when given."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise ValueError(f"{value!r:.80} is not 0x-hex")
    raw = bytes.fromhex(value[2:])
    if size is not None and len(raw) != size:
        raise ValueError(f"{value!r:.80} is not {size} bytes")
    return raw


def quantity(value: Any) -> int:
    """A hex quantity (``"0x1a"``) as an int."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise ValueError(f"{value!r:.80} is not a hex quantity")
    return int(value, 16)


def _access_list(tx: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [hex_bytes(item["address"], 20), [hex_bytes(k, 32) for k in item["storageKeys"]]]
        for item in tx.get("accessList") or []
    ]


def _to(tx: Mapping[str, Any]) -> bytes:
    return b"" if tx.get("to") is None else hex_bytes(tx["to"], 20)


@dataclass(frozen=True)
class DecodedTransaction:
    """A transaction re-encoded from JSON: its bytes, hash, chain id and sender."""

    encoded: bytes
    hash: Hash32
    chain_id: int | None
    sender: Address


def transaction_from_json(tx: Mapping[str, Any]) -> DecodedTransaction:
    """Re-encode an ``eth_getTransactionBy*`` / full-block transaction; recover its sender."""
    kind = quantity(tx.get("type", "0x0"))
    common = [quantity(tx["gas"]), _to(tx), quantity(tx["value"]), hex_bytes(tx["input"])]
    r, s = quantity(tx["r"]), quantity(tx["s"])
    if kind == 0:
        v = quantity(tx["v"])
        fields = [quantity(tx["nonce"]), quantity(tx["gasPrice"]), *common]
        chain_id = (v - 35) // 2 if v >= 35 else None
        unsigned = rlp.encode(fields + ([chain_id, 0, 0] if chain_id is not None else []))
        encoded = rlp.encode([*fields, v, r, s])
        y_parity = v - 35 - 2 * chain_id if chain_id is not None else v - 27
    elif kind in (1, 2):
        chain_id = quantity(tx["chainId"])
        fees = (
            [quantity(tx["gasPrice"])]
            if kind == 1
            else [quantity(tx["maxPriorityFeePerGas"]), quantity(tx["maxFeePerGas"])]
        )
        fields = [chain_id, quantity(tx["nonce"]), *fees, *common, _access_list(tx)]
        y_parity = quantity(tx.get("yParity", tx.get("v")))
        unsigned = bytes([kind]) + rlp.encode(fields)
        encoded = bytes([kind]) + rlp.encode([*fields, y_parity, r, s])
    else:
        raise ValueError(f"transaction type {kind} is not one this verifier can encode (0, 1, 2)")
    if y_parity not in (0, 1):
        raise ValueError(f"signature parity {y_parity} is not 0 or 1")
    signature = keys.Signature(vrs=(y_parity, r, s))
    sender = signature.recover_public_key_from_msg_hash(keccak(unsigned)).to_canonical_address()
    return DecodedTransaction(encoded, Hash32(keccak(encoded)), chain_id, Address(sender))


def receipt_bytes(receipt: Mapping[str, Any]) -> bytes:
    """The consensus encoding of an ``eth_getTransactionReceipt`` / ``eth_getBlockReceipts`` item."""
    status = quantity(receipt["status"])
    if status not in (0, 1):
        raise ValueError(f"receipt status {status} is not 0 or 1")
    logs = [
        [hex_bytes(log["address"], 20), [hex_bytes(t, 32) for t in log["topics"]],
         hex_bytes(log["data"])]
        for log in receipt["logs"]
    ]  # fmt: skip
    body = rlp.encode(
        [b"\x01" if status else b"", quantity(receipt["cumulativeGasUsed"]),
         hex_bytes(receipt["logsBloom"], 256), logs]
    )  # fmt: skip
    kind = quantity(receipt.get("type", "0x0"))
    return body if kind == 0 else bytes([kind]) + body


@dataclass(frozen=True)
class StorageAnswer:
    """One ``storageProof`` item of an ``eth_getProof`` answer."""

    slot: int
    value: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class ProofAnswer:
    """An ``eth_getProof`` answer, parsed (nothing in it verified yet)."""

    address: bytes
    account_proof: tuple[bytes, ...]
    balance: int
    nonce: int
    code_hash: bytes
    storage_hash: bytes
    storage: tuple[StorageAnswer, ...]


def proof_answer(raw: Mapping[str, Any]) -> ProofAnswer:
    """Parse an ``eth_getProof`` answer; ``ValueError`` on a malformed one."""

    def nodes(items: Sequence[Any]) -> tuple[bytes, ...]:
        return tuple(hex_bytes(n) for n in items)

    return ProofAnswer(
        address=hex_bytes(raw["address"], 20),
        account_proof=nodes(raw["accountProof"]),
        balance=quantity(raw["balance"]),
        nonce=quantity(raw["nonce"]),
        code_hash=hex_bytes(raw["codeHash"], 32),
        storage_hash=hex_bytes(raw["storageHash"], 32),
        storage=tuple(
            StorageAnswer(quantity(s["key"]), quantity(s["value"]), nodes(s["proof"]))
            for s in raw["storageProof"]
        ),
    )
