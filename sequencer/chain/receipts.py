"""Receipts and header updates built and encoded directly (the same objects and bytes as py-evm's).

A transfer's receipt went through rlp's generic ``Serializable`` constructor three times
(the log-less ``Receipt``, then the block header copied to add its gas and bloom) and its
encoding for the receipts root through rlp's generic list encoder: a fifth of the block
producer's time per transfer. Everything here takes values that py-evm's execution
already produced (ints, bytes, tuples of them), so they are built with
:func:`.serializable.build`:

- :func:`make_receipt` is ``transaction.make_receipt(status, gas_used, log_entries)`` for
  legacy, EIP-2930 and EIP-1559 transactions (other kinds go to py-evm's);
- :func:`copy_header` is ``header.copy(**fields)`` without the deep copy of the fields
  left as they are (ints and bytes);
- :func:`encode_receipt` is ``receipt.encode()`` for the receipts :func:`make_receipt`
  builds.

``tests/sequencer/chain/test_receipts.py`` checks each against py-evm and rlp.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, cast

from eth.abc import BlockHeaderAPI, LogAPI, ReceiptAPI, SignedTransactionAPI
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.vm.forks.berlin.receipts import TypedReceipt
from eth_bloom import BloomFilter

from .roots import rlp_bytes, rlp_int, rlp_list
from .serializable import build

_BUILT_TYPES = (None, 1, 2)  # legacy, EIP-2930, EIP-1559: a plain ``Receipt`` inside


def make_receipt(
    transaction: SignedTransactionAPI,
    status: bytes,
    gas_used: int,
    log_entries: tuple[tuple[bytes, tuple[int, ...], bytes], ...],
) -> ReceiptAPI:
    """``transaction.make_receipt(status, gas_used, log_entries)``."""
    type_id = transaction.type_id
    if type_id not in _BUILT_TYPES:
        return transaction.make_receipt(status, gas_used, log_entries)
    logs = tuple(
        build(Log, (address, tuple(topics), data)) for address, topics, data in log_entries
    )
    bloom = 0
    if logs:
        bloom = int(BloomFilter.from_iterable(itertools.chain.from_iterable(
            log.bloomables for log in logs
        )))  # fmt: skip
    receipt = build(Receipt, (status, gas_used, bloom, logs))
    if type_id is None:
        return receipt
    return transaction.receipt_builder.typed_receipt_class(type_id, receipt)  # type: ignore[attr-defined, no-any-return]


def copy_header(header: BlockHeaderAPI, **fields: Any) -> BlockHeaderAPI:
    """``header.copy(**fields)``: the other fields are ints and bytes, shared as they are."""
    names = header._meta.field_names  # type: ignore[attr-defined]
    if not fields.keys() <= set(names):
        return header.copy(**fields)  # rlp's error
    values = cast(Iterable[Any], header)
    return build(type(header), [fields.get(name, value) for name, value in zip(names, values)])


def _encode_log(log: LogAPI) -> bytes:
    topics = b"".join(b"\xa0" + topic.to_bytes(32, "big") for topic in log.topics)
    return rlp_list(rlp_bytes(log.address) + rlp_list(topics) + rlp_bytes(log.data))


def _encode_receipt(receipt: Receipt) -> bytes:
    return rlp_list(
        rlp_bytes(receipt.state_root)
        + rlp_int(receipt.gas_used)
        + b"\xb9\x01\x00" + receipt.bloom.to_bytes(256, "big")  # fixed 256 bytes
        + rlp_list(b"".join(_encode_log(log) for log in receipt.logs))
    )  # fmt: skip


def encode_receipt(receipt: ReceiptAPI) -> bytes:
    """``receipt.encode()``: the EIP-2718 type byte, if any, and the rlp of the fields."""
    if type(receipt) is Receipt:
        return _encode_receipt(receipt)
    if isinstance(receipt, TypedReceipt) and type(receipt._inner) is Receipt:
        return bytes((receipt.type_id,)) + _encode_receipt(receipt._inner)
    return receipt.encode()
