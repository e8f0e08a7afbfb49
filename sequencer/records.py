"""Per-block inference records in the chain database: the witness and each transaction's calls.

Written by the engine (``sequencer.engine``) inside the block's own store transaction, so a
block and its witness commit together (a crash leaves both or neither), whoever made the
block (the sequencer's builder, a follower's import). Keys live in the node's key-value
store next to py-evm's (the ``pipe`` in them is historical: data dirs keep working):

- ``neurostack:pipe:block:<block hash>`` → JSON ``{"receipts": [receipt JSON...],
  "transactions": {"0x<tx hash>": [inference entries...]}}``; absent for a block without
  inference (its witness is empty).
- ``neurostack:pipe:request:<request id>`` → the hash of the latest block that used the
  receipt of that request (for ``neuro_getInferenceProof(requestId)``).

Readers (the RPC) go through :class:`InferenceRecords`; they work after a restart and on
a node without an inference backend.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neurostack.protocol.receipts import InferenceReceipt, receipt_from_json, receipt_to_json

from .chain.blocks import ExecutedBlock
from .chain.inference import inferences_to_json

BLOCK_PREFIX = b"neurostack:pipe:block:"
REQUEST_PREFIX = b"neurostack:pipe:request:"


@dataclass(frozen=True)
class BlockInferences:
    """What a block used: its witness (receipts in order of first use) and per-tx calls."""

    receipts: tuple[InferenceReceipt, ...] = ()
    transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def calls_of(self, tx_hash: bytes) -> list[dict[str, Any]]:
        """The ``inferences`` entries of a transaction (empty if it made no model call)."""
        return self.transactions.get("0x" + bytes(tx_hash).hex(), [])


class InferenceRecords:
    """Reads and writes :class:`BlockInferences` in a key-value store (the node's store)."""

    def __init__(self, db: MutableMapping[bytes, bytes]) -> None:
        self._db = db

    def save(self, executed: ExecutedBlock) -> None:
        """Store what a block used; nothing for a block without inference."""
        if not executed.witness and not executed.inferences:
            return
        block_hash = bytes(executed.block.hash)
        record = {
            "receipts": [receipt_to_json(r) for r in executed.witness],
            "transactions": {
                "0x" + bytes(t.tx_hash).hex(): inferences_to_json(t) for t in executed.inferences
            },
        }
        self._db[BLOCK_PREFIX + block_hash] = json.dumps(record).encode()
        for receipt in executed.witness:
            self._db[REQUEST_PREFIX + bytes(receipt.request_id)] = block_hash

    def load(self, block_hash: bytes) -> BlockInferences:
        """The block's record; an empty one for a block without inference."""
        try:
            raw = self._db[BLOCK_PREFIX + bytes(block_hash)]
        except KeyError:
            return BlockInferences()
        record = json.loads(raw)
        return BlockInferences(
            receipts=tuple(receipt_from_json(r) for r in record["receipts"]),
            transactions=dict(record["transactions"]),
        )

    def block_of_request(self, request_id: bytes) -> bytes | None:
        """Hash of the latest block whose witness holds ``request_id``'s receipt, if any."""
        try:
            return bytes(self._db[REQUEST_PREFIX + bytes(request_id)])
        except KeyError:
            return None


def receipt_index(receipts: Sequence[InferenceReceipt], request_id: bytes) -> int | None:
    """Position of ``request_id``'s receipt in a witness, or None."""
    for i, receipt in enumerate(receipts):
        if bytes(receipt.request_id) == bytes(request_id):
            return i
    return None
