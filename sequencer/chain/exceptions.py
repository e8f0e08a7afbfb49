"""Why a block (or a genesis) is invalid: the state transition's exception tree.

Tree::

    InvalidBlock(SequencerError, ValueError)      the block does not follow from its parent
    ├── InvalidHeader        a header field disagrees with the parent (number, parent hash,
    │                        timestamp, gas limit, base fee) or the body (transactions root)
    ├── InvalidTransaction   a transaction cannot be applied (nonce, balance, signature,
    │                        gas above what is left in the block)
    ├── InvalidInference     a transaction's model call has no receipt in the witness, or
    │                        its receipt fails verification (``request_id`` names it)
    ├── InvalidWitness       the witness is not exactly the receipts execution used (a
    │                        receipt listed twice or unused, another order, a root that is
    │                        not the header's ``extraData``)
    └── InvalidResult        what execution computed differs from the header (gas used,
                             state root, receipts root, logs bloom, block hash)
    InvalidGenesis(ConfigError)   the spec's genesis cannot be built (a TEE key's document)

Every :class:`InvalidBlock` names the block (``block_number``, ``block_hash`` of the block
as published), the failed ``check`` (a :class:`Check`, machine-readable), and where one
applies the transaction (``tx_index``, ``tx_hash``) and the inference ``request_id``;
:meth:`InvalidBlock.to_json` gives them as a JSON object for a follower's report. What to
do is the same for all of them: never adopt the block.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..errors import ConfigError, SequencerError


class Check(StrEnum):
    """The check a block failed (``InvalidBlock.check``), in the order they run."""

    PARENT_HASH = "parent_hash"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    GAS_LIMIT = "gas_limit"
    BASE_FEE = "base_fee"
    TRANSACTIONS_ROOT = "transactions_root"
    WITNESS = "witness"
    TRANSACTION = "transaction"
    INFERENCE_RECEIPT = "inference_receipt"
    EXTRA_DATA = "extra_data"
    GAS_USED = "gas_used"
    STATE_ROOT = "state_root"
    RECEIPTS_ROOT = "receipts_root"
    LOGS_BLOOM = "logs_bloom"
    BLOCK_HASH = "block_hash"


class InvalidBlock(SequencerError, ValueError):
    """A published block that does not follow from its parent with its witness."""

    def __init__(
        self,
        check: Check,
        reason: str,
        *,
        block_number: int,
        block_hash: bytes,
        tx_index: int | None = None,
        tx_hash: bytes | None = None,
        request_id: bytes | None = None,
    ) -> None:
        self.check = check
        self.reason = reason
        self.block_number = block_number
        self.block_hash = bytes(block_hash)
        self.tx_index = tx_index
        self.tx_hash = bytes(tx_hash) if tx_hash is not None else None
        self.request_id = bytes(request_id) if request_id is not None else None
        where = f"block {block_number} (0x{self.block_hash.hex()})"
        if tx_index is not None and self.tx_hash is not None:
            where += f", transaction {tx_index} (0x{self.tx_hash.hex()})"
        if self.request_id is not None:
            where += f", request 0x{self.request_id.hex()}"
        super().__init__(f"{where} is invalid: {check.value}: {reason}")

    def to_json(self) -> dict[str, Any]:
        """The failure as JSON (hex strings, a JSON number for the indexes)."""
        out: dict[str, Any] = {
            "blockNumber": self.block_number,
            "blockHash": "0x" + self.block_hash.hex(),
            "check": self.check.value,
            "reason": self.reason,
        }
        if self.tx_index is not None:
            out["transactionIndex"] = self.tx_index
        if self.tx_hash is not None:
            out["transactionHash"] = "0x" + self.tx_hash.hex()
        if self.request_id is not None:
            out["requestId"] = "0x" + self.request_id.hex()
        return out


class InvalidHeader(InvalidBlock):
    """A header field disagrees with the parent header or with the block's body."""


class InvalidTransaction(InvalidBlock):
    """A transaction of the block cannot be applied to the state before it."""


class InvalidInference(InvalidBlock):
    """A model call of a transaction has no receipt in the witness or a receipt that fails
    verification; ``request_id`` is the call's request, ``reason`` the failed check."""


class InvalidWitness(InvalidBlock):
    """The witness is not exactly the receipts the block's execution used, in order."""


class InvalidResult(InvalidBlock):
    """A value the header commits to is not what executing the block computed."""


class InvalidGenesis(ConfigError):
    """The spec's genesis cannot be built; ``tee_key_index`` names the genesis TEE key at
    fault (its document was rejected), ``reason`` says why and ``hint`` what to do."""

    def __init__(self, tee_key_index: int, key: bytes, reason: str, hint: str) -> None:
        self.tee_key_index = tee_key_index
        self.key = bytes(key)
        self.reason = reason
        self.hint = hint
        super().__init__(f"genesis TEE key {tee_key_index} (0x{self.key.hex()}): {reason}; {hint}")
