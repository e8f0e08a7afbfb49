"""What a block's execution accumulates about inference: receipts used, calls, payouts.

One :class:`InferenceOutputs` per block (or call) execution, beside its frozen
:class:`~sequencer.chain.environment.BlockEnvironment`. Transactions are bracketed by
:func:`begin_transaction` / :func:`commit_transaction` (the fork's transaction executor
does it), so the receipts of a transaction the builder throws out never reach the
block's witness or its commitment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import Hash32, RequestId

from .calls import InferenceCall, InferencePayout, TransactionInferences


@dataclass
class InferenceOutputs:
    """The accumulator: committed transactions' receipts and calls, and the current one's."""

    used: dict[RequestId, InferenceReceipt] = field(default_factory=dict)
    """Receipts of included transactions, in order of first use: the block's witness."""
    transactions: list[TransactionInferences] = field(default_factory=list)
    """Included transactions that made model calls, in block order."""
    tx_calls: list[InferenceCall] = field(default_factory=list)
    tx_used: dict[RequestId, InferenceReceipt] = field(default_factory=dict)


def witness_of(outputs: InferenceOutputs) -> tuple[InferenceReceipt, ...]:
    """The receipts the included transactions used, in order of first use."""
    return tuple(outputs.used.values())


def begin_transaction(outputs: InferenceOutputs) -> None:
    """Forget what an unfinished (thrown-out) transaction recorded."""
    outputs.tx_calls = []
    outputs.tx_used = {}


def is_verified(outputs: InferenceOutputs, request_id: RequestId) -> bool:
    """Whether this execution already verified a receipt for ``request_id``."""
    return request_id in outputs.used or request_id in outputs.tx_used


def used_receipt(outputs: InferenceOutputs, request_id: RequestId) -> InferenceReceipt | None:
    """The receipt this execution already used for ``request_id``, if any."""
    return outputs.used.get(request_id) or outputs.tx_used.get(request_id)


def record_call(outputs: InferenceOutputs, call: InferenceCall, receipt: InferenceReceipt) -> None:
    """Remember a verified call of the current transaction."""
    outputs.tx_calls.append(call)
    if call.request_id not in outputs.used:
        outputs.tx_used.setdefault(call.request_id, receipt)


def commit_transaction(
    outputs: InferenceOutputs, tx_hash: Hash32, payouts: tuple[InferencePayout, ...]
) -> TransactionInferences:
    """The current transaction is included: keep its receipts and calls."""
    record = TransactionInferences(tx_hash=tx_hash, calls=tuple(outputs.tx_calls), payouts=payouts)
    if record.calls:
        outputs.transactions.append(record)
    outputs.used.update(outputs.tx_used)
    begin_transaction(outputs)
    return record
