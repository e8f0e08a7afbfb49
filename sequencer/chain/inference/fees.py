"""Inference fees: the model gas of a transaction pays the sprinter and the model owner.

Rule (DESIGN.md section 4, made exact here). For each included transaction, after
py-evm's own finalisation (refund to the sender, ``gasUsed·tip`` to the coinbase):

- ``inferenceGas`` = the sum of the *model gas* of its successful precompile calls (the
  registry's ``inferenceGas``, or ``default_model_gas``), capped at the transaction's final
  ``gasUsed`` (refunds can push ``gasUsed`` below it). The precompile's base, per-byte and
  verification gas is ordinary gas: tipped to the coinbase and its base fee burned.
- Each call's fee is ``modelGas · effectiveGasPrice`` (the full price, base fee included);
  the model owner gets ``fee · royaltyBps / 10000`` (rounded down), the receipt's sprinter
  the rest. Calls are paid in order until the capped ``inferenceGas`` is used up.
- The coinbase gives back the tip it was paid on ``inferenceGas``; the base fee py-evm burned
  on ``inferenceGas`` is paid out to sprinter and owner instead of being burned.

So the sender pays exactly what ordinary gas accounting charged, and the total supply
changes only by ``(gasUsed − inferenceGas) · baseFee``: the EIP-1559 burn on non-inference
gas. Calls made in a frame that later reverted still consumed their gas, and are paid.
Identical requests in one block share one receipt, and each caller pays its sprinter.
"""

from __future__ import annotations

from typing import Any

from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth_typing import Address as EvmAddress

from neurostack.protocol.types import ZERO_HASH32, Address, Hash32

from .calls import InferenceCall, InferencePayout, TransactionInferences
from .constants import MAX_ROYALTY_BPS
from .outputs import InferenceOutputs, commit_transaction


def final_gas_used(
    state: StateAPI, transaction: SignedTransactionAPI, computation: ComputationAPI
) -> int:
    """The transaction's ``gasUsed`` as py-evm's finalisation charged it."""
    remaining = computation.get_gas_remaining()
    used = transaction.gas - remaining
    executor: Any = state.transaction_executor_class  # the API type omits this classmethod
    refund = int(executor.calculate_gas_refund(computation, used))
    floor = int(getattr(computation, "data_floor_gas", 0) or 0)
    return used - refund + floor


def inference_payouts(
    calls: list[InferenceCall], *, gas_budget: int, gas_price: int
) -> tuple[tuple[InferencePayout, ...], int]:
    """Who gets what for ``calls`` (merged per recipient, in first-paid order), and the gas paid."""
    amounts: dict[Address, int] = {}
    paid_gas = 0
    for call in calls:
        gas = min(call.model_gas, gas_budget - paid_gas)
        if gas <= 0:
            break
        paid_gas += gas
        fee = gas * gas_price
        royalty = 0
        if call.model_owner is not None:
            royalty = fee * call.royalty_bps // MAX_ROYALTY_BPS
            amounts[call.model_owner] = amounts.get(call.model_owner, 0) + royalty
        amounts[call.sprinter] = amounts.get(call.sprinter, 0) + fee - royalty
    payouts = tuple(InferencePayout(addr, amount) for addr, amount in amounts.items() if amount)
    return payouts, paid_gas


def settle_inference_fees(
    state: StateAPI,
    transaction: SignedTransactionAPI,
    computation: ComputationAPI,
    calls: list[InferenceCall],
) -> tuple[InferencePayout, ...]:
    """Apply the rule above to ``state`` after py-evm finalised ``transaction``."""
    if not calls:
        return ()
    gas_price = state.get_gas_price(transaction)
    payouts, paid_gas = inference_payouts(
        calls,
        gas_budget=final_gas_used(state, transaction, computation),
        gas_price=gas_price,
    )
    clawback = paid_gas * state.get_tip(transaction)
    if clawback:
        state.delta_balance(state.coinbase, -clawback)
    for payout in payouts:
        state.delta_balance(EvmAddress(payout.recipient), payout.amount)
    return payouts


def _tx_hash(transaction: SignedTransactionAPI) -> Hash32:
    try:
        return Hash32(transaction.hash)
    except (AttributeError, NotImplementedError, TypeError):  # eth_call's unsigned spoof
        return ZERO_HASH32


def settle_transaction(
    state: StateAPI,
    transaction: SignedTransactionAPI,
    computation: ComputationAPI,
    outputs: InferenceOutputs,
) -> TransactionInferences:
    """Pay the transaction's inference fees and commit its calls to ``outputs``.

    Called by the fork's transaction executor after py-evm's own finalisation, so block
    building, block validation and calls all settle fees the same way.
    """
    payouts = settle_inference_fees(state, transaction, computation, outputs.tx_calls)
    return commit_transaction(outputs, _tx_hash(transaction), payouts)
