"""Fee market reads: next base fee (EIP-1559), suggested tip, ``eth_feeHistory``.

The base fee itself is py-evm's London rule (``calculate_expected_base_fee_per_gas``);
this module only reads blocks. The suggested tip follows geth's gas price oracle in a
simplified form: the 60th percentile of the smallest tip paid in each of the last 20
blocks that had transactions, 1 gwei when there are none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI
from eth.vm.forks.cancun.constants import MIN_BLOB_BASE_FEE
from eth.vm.forks.cancun.state import fake_exponential
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague.constants import (
    BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
    MAX_BLOB_GAS_PER_BLOCK,
)

from ..types import FeeHistory

DEFAULT_TIP = 10**9  # 1 gwei, geth's default suggestion on an idle chain
MAX_TIP = 500 * 10**9  # geth's gpo.maxprice
TIP_SAMPLE_BLOCKS = 20
TIP_PERCENTILE = 60
MAX_FEE_HISTORY_BLOCKS = 1024  # geth's cap


def next_base_fee(head: BlockHeaderAPI) -> int:
    """The base fee of the block after ``head``."""
    return calculate_expected_base_fee_per_gas(head)


def blob_base_fee(header: BlockHeaderAPI) -> int:
    return fake_exponential(
        MIN_BLOB_BASE_FEE, header.excess_blob_gas, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
    )


def base_fee_of(header: BlockHeaderAPI) -> int:
    """The header's base fee (always set from genesis on: the chain is post-London)."""
    return header.base_fee_per_gas or 0


def effective_tip(tx: object, base_fee: int) -> int:
    return min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)  # type: ignore[attr-defined]


def suggest_tip(recent_blocks: Sequence[BlockAPI]) -> int:
    """geth-style tip suggestion from the most recent blocks (newest first)."""
    samples = []
    for block in recent_blocks[:TIP_SAMPLE_BLOCKS]:
        if block.transactions:
            base = base_fee_of(block.header)
            samples.append(min(effective_tip(tx, base) for tx in block.transactions))
    if not samples:
        return DEFAULT_TIP
    samples.sort()
    return min(samples[(len(samples) - 1) * TIP_PERCENTILE // 100], MAX_TIP)


def _rewards(
    block: BlockAPI, receipts: Sequence[ReceiptAPI], percentiles: Sequence[float]
) -> list[int]:
    """Tips at the given gas-weighted percentiles of a block, as geth computes them."""
    if not block.transactions:
        return [0] * len(percentiles)
    base = base_fee_of(block.header)
    used, previous = [], 0
    for receipt in receipts:
        used.append(receipt.gas_used - previous)
        previous = receipt.gas_used
    sorted_txs = sorted(
        zip((effective_tip(tx, base) for tx in block.transactions), used), key=lambda p: p[0]
    )
    rewards, index, cumulative = [], 0, sorted_txs[0][1]
    for p in percentiles:
        threshold = block.header.gas_used * p / 100
        while cumulative < threshold and index < len(sorted_txs) - 1:
            index += 1
            cumulative += sorted_txs[index][1]
        rewards.append(sorted_txs[index][0])
    return rewards


def fee_history(
    newest: int,
    block_count: int,
    percentiles: Sequence[float],
    block_at: Callable[[int], BlockAPI],
    receipts_of: Callable[[BlockAPI], list[ReceiptAPI]],
) -> FeeHistory:
    """``eth_feeHistory`` for ``block_count`` blocks ending at ``newest``.

    ``percentiles`` must be increasing values in [0, 100] (the caller validates the JSON).
    """
    count = max(0, min(block_count, MAX_FEE_HISTORY_BLOCKS, newest + 1))
    oldest = newest - count + 1
    base_fees, ratios, blob_fees, blob_ratios = [], [], [], []
    rewards: list[list[int]] = []
    last: BlockAPI | None = None
    for number in range(oldest, newest + 1):
        block = block_at(number)
        header = block.header
        base_fees.append(base_fee_of(header))
        ratios.append(header.gas_used / header.gas_limit)
        blob_fees.append(blob_base_fee(header))
        blob_ratios.append(header.blob_gas_used / MAX_BLOB_GAS_PER_BLOCK)
        if percentiles:
            rewards.append(_rewards(block, receipts_of(block), percentiles))
        last = block
    if last is not None:
        base_fees.append(next_base_fee(last.header))
        blob_fees.append(blob_fees[-1])  # no blobs on this chain: the blob fee stays at 1
    return FeeHistory(
        oldest_block=oldest if count else newest,
        base_fee_per_gas=base_fees,
        gas_used_ratio=ratios,
        base_fee_per_blob_gas=blob_fees,
        blob_gas_used_ratio=blob_ratios,
        reward=rewards if percentiles else None,
    )
