"""The state-transition function: does a published block follow from its parent?

:func:`state_transition` is *the* STF of a Neuro Stack chain (EELS's
``state_transition``). The sequencer runs it on what it builds (``verify_built_blocks``),
a follower on every block it receives, tests and benchmarks on whatever they make. It
takes the chain (whose head is the block's parent, and whose spec gives the rules), the
block and the block's inference witness (the receipts in order of first use, as
``neuro_getInferenceWitness`` serves them), and either returns what executing the block
produced or raises an :class:`~.exceptions.InvalidBlock` naming the check that failed.

Checks, in order:

1. the header against the parent (the chain's head): parent hash, number, timestamp
   (after the parent's), gas limit (within 1/1024 of the parent's, at least 5,000),
   EIP-1559 base fee, ``extraData`` of 32 bytes; the body against the header
   (transactions root); a witness without a request listed twice;
2. execution with the witness as the only source of model outputs, through the same
   steps the builder uses (:mod:`.blocks`): a transaction that cannot be applied, or
   whose model call has no receipt or a receipt that fails verification, makes the
   block invalid (naming the transaction and the request);
3. the witness is exactly what execution used, in order, and ``extraData`` is its
   ``inferenceRoot``. The root is compared after execution, so a tampered receipt is
   named by its request id (a signature or output that does not verify, a receipt
   missing or swapped) rather than reported only as a root mismatch;
4. what execution computed against the header: gas used, state root, receipts root,
   logs bloom, and finally the block hash (every other header field).

Writes: executing a block writes its state trie nodes into the chain's database (as
py-evm's ``import_block`` does). The caller runs it inside a store transaction that it
commits (with ``chain.persist_block``) only when the block is valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError

from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import RequestId

from ..errors import TransactionDeferred
from .blocks import ExecutedBlock, OpenBlock, apply_transaction, open_block, seal_block
from .environment import block_environment
from .exceptions import (
    Check,
    InvalidBlock,
    InvalidHeader,
    InvalidInference,
    InvalidResult,
    InvalidTransaction,
    InvalidWitness,
)
from .genesis import NeuroChain
from .inference.errors import InvalidInferenceReceipt, MissingInferenceReceipt
from .inference.outputs import witness_of
from .inference.witness import inference_root
from .roots import ordered_trie_root_and_nodes

GAS_LIMIT_ADJUSTMENT_FACTOR = 1024
GAS_LIMIT_MINIMUM = 5000
EXTRA_DATA_BYTES = 32  # extraData is inferenceRoot


def state_transition(
    chain: NeuroChain, block: BlockAPI, witness: Sequence[InferenceReceipt]
) -> ExecutedBlock:
    """Validate ``block`` as the child of ``chain``'s head with ``witness``; see the module
    docstring. Returns the executed block; raises :class:`InvalidBlock`."""
    parent = chain.get_canonical_head()
    header = block.header
    validate_header(header, parent, block.hash)
    tx_root, _ = ordered_trie_root_and_nodes(block.transactions)
    if tx_root != header.transaction_root:
        raise _invalid(
            InvalidHeader, block, Check.TRANSACTIONS_ROOT,
            f"the header's transactions root 0x{header.transaction_root.hex()} is not the "
            f"root 0x{tx_root.hex()} of the block's {len(block.transactions)} transactions",
        )  # fmt: skip
    table = _witness_table(block, witness)

    env = block_environment(chain.spec, chain.get_vm(parent).state, witness=table)
    open_ = open_block(
        chain, parent, env, timestamp=header.timestamp, coinbase=header.coinbase,
        gas_limit=header.gas_limit, extra_data=header.extra_data,
    )  # fmt: skip
    for index, tx in enumerate(block.transactions):
        _apply(open_, block, index, tx)

    used = witness_of(open_.outputs)
    _check_witness_used(block, witness, [RequestId(bytes(r.request_id)) for r in used])
    root = inference_root(used)
    if bytes(header.extra_data) != bytes(root):
        raise _invalid(
            InvalidHeader, block, Check.EXTRA_DATA,
            f"extraData 0x{bytes(header.extra_data).hex()} is not the inferenceRoot "
            f"0x{bytes(root).hex()} of the {len(used)} receipts the block used",
        )  # fmt: skip

    executed = seal_block(open_, extra_data=header.extra_data)
    computed = executed.block.header
    for check, name in (
        (Check.GAS_USED, "gas_used"),
        (Check.STATE_ROOT, "state_root"),
        (Check.RECEIPTS_ROOT, "receipt_root"),
        (Check.LOGS_BLOOM, "bloom"),
    ):
        ours, theirs = getattr(computed, name), getattr(header, name)
        if ours != theirs:
            raise _invalid(
                InvalidResult, block, check,
                f"the header says {_show(theirs)}, execution gives {_show(ours)}",
            )  # fmt: skip
    if computed.hash != header.hash:
        differing = [
            name for name, _ in header._meta.fields  # type: ignore[attr-defined]
            if getattr(header, name) != getattr(computed, name)
        ]  # fmt: skip
        raise _invalid(
            InvalidResult, block, Check.BLOCK_HASH,
            f"the header differs from the one execution computes in {', '.join(differing)} "
            f"(computed hash 0x{computed.hash.hex()})",
        )  # fmt: skip
    return ExecutedBlock(block, executed.receipts, executed.witness, executed.inferences)


def check_gas_limit(gas_limit: int, parent_gas_limit: int) -> bool:
    """EIP-1559's rule: within ``parent / 1024`` (exclusive) of the parent's, at least 5,000."""
    delta = parent_gas_limit // GAS_LIMIT_ADJUSTMENT_FACTOR
    return parent_gas_limit - delta < gas_limit < parent_gas_limit + delta and (
        gas_limit >= GAS_LIMIT_MINIMUM
    )


def validate_header(header: BlockHeaderAPI, parent: BlockHeaderAPI, block_hash: bytes) -> None:
    """Step 1's header checks against ``parent``; raises :class:`InvalidHeader`."""

    def fail(check: Check, reason: str) -> InvalidHeader:
        return InvalidHeader(check, reason, block_number=header.block_number, block_hash=block_hash)

    if header.parent_hash != parent.hash:
        raise fail(
            Check.PARENT_HASH,
            f"its parent is 0x{header.parent_hash.hex()}, not the head 0x{parent.hash.hex()} "
            f"(block {parent.block_number})",
        )
    if header.block_number != parent.block_number + 1:
        raise fail(
            Check.NUMBER,
            f"number {header.block_number} does not follow the parent's {parent.block_number}",
        )
    if header.timestamp <= parent.timestamp:
        raise fail(
            Check.TIMESTAMP,
            f"timestamp {header.timestamp} is not after the parent's {parent.timestamp}",
        )
    if not check_gas_limit(header.gas_limit, parent.gas_limit):
        raise fail(
            Check.GAS_LIMIT,
            f"gas limit {header.gas_limit} is not within 1/{GAS_LIMIT_ADJUSTMENT_FACTOR} of "
            f"the parent's {parent.gas_limit} (or below {GAS_LIMIT_MINIMUM})",
        )
    expected = calculate_expected_base_fee_per_gas(parent)
    if header.base_fee_per_gas != expected:
        raise fail(
            Check.BASE_FEE,
            f"base fee {header.base_fee_per_gas} is not EIP-1559's {expected} after the parent",
        )
    if len(header.extra_data) != EXTRA_DATA_BYTES:
        raise fail(
            Check.EXTRA_DATA,
            f"extraData has {len(header.extra_data)} bytes; it must be the 32-byte inferenceRoot",
        )


def _invalid(kind: type[InvalidBlock], block: BlockAPI, check: Check, reason: str) -> InvalidBlock:
    return kind(check, reason, block_number=block.header.block_number, block_hash=block.hash)


def _witness_table(
    block: BlockAPI, witness: Sequence[InferenceReceipt]
) -> dict[RequestId, InferenceReceipt]:
    table: dict[RequestId, InferenceReceipt] = {}
    for receipt in witness:
        key = RequestId(bytes(receipt.request_id))
        if key in table:
            raise InvalidWitness(
                Check.WITNESS,
                "the witness lists this request twice; identical requests share one receipt",
                block_number=block.header.block_number, block_hash=block.hash, request_id=key,
            )  # fmt: skip
        table[key] = receipt
    return table


def _apply(open_: OpenBlock, block: BlockAPI, index: int, tx: SignedTransactionAPI) -> None:
    where: dict[str, Any] = {
        "block_number": block.header.block_number,
        "block_hash": block.hash,
        "tx_index": index,
        "tx_hash": tx.hash,
    }
    try:
        apply_transaction(open_, tx)
    except MissingInferenceReceipt as exc:
        raise InvalidInference(
            Check.INFERENCE_RECEIPT,
            f"a model call (model {exc.request.model_cid}, {exc.request.mode.name}) has no "
            "receipt in the witness",
            request_id=exc.request.request_id, **where,
        ) from None  # fmt: skip
    except InvalidInferenceReceipt as exc:
        raise InvalidInference(
            Check.INFERENCE_RECEIPT, exc.reason, request_id=exc.request_id, **where
        ) from None
    except TransactionDeferred as exc:
        raise InvalidInference(Check.INFERENCE_RECEIPT, str(exc), **where) from None
    except (ValidationError, BadSignature, ValueError) as exc:
        raise InvalidTransaction(
            Check.TRANSACTION, f"it cannot be applied: {exc}", **where
        ) from None


def _check_witness_used(
    block: BlockAPI, witness: Sequence[InferenceReceipt], used: list[RequestId]
) -> None:
    given = [RequestId(bytes(r.request_id)) for r in witness]
    if given == used:
        return
    unused = [rid for rid in given if rid not in used]
    if unused:
        rid, reason = unused[0], "no transaction of the block used this receipt"
    else:
        position = next(i for i, (a, b) in enumerate(zip(given, used, strict=True)) if a != b)
        rid = given[position]
        reason = (
            f"the witness lists it at position {position}, the block first used it at "
            f"position {used.index(rid)}; receipts are listed in order of first use"
        )
    raise InvalidWitness(
        Check.WITNESS, reason,
        block_number=block.header.block_number, block_hash=block.hash, request_id=rid,
    )  # fmt: skip


def _show(value: object) -> str:
    if isinstance(value, int) and value >= 1 << 64:  # the logs bloom
        value = value.to_bytes(256, "big")
    if isinstance(value, bytes):
        return "0x" + (value.hex() if len(value) <= 32 else value.hex()[:64] + "…")
    return str(value)
