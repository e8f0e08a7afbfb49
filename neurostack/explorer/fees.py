"""Where a transaction's fee went: base-fee burn, the block producer's tip, and for each
model call the sprinter and the model owner.

The chain's rule (docs/inference.md "Fees", ``sequencer/chain/inference/fees.py``) is
recomputed here from what the RPC shows: ``gasUsed`` and ``effectiveGasPrice`` of the
receipt, the block's ``baseFeePerGas``, the ``modelGas`` of each entry of the receipt's
``inferences`` field, and each model's owner and royalty from the registry of the parent
block. The explorer cannot import the sequencer (it reads only the public RPC), so the
rule is restated in these few lines; ``tests/explorer/test_fees.py`` checks them against
the chain's function and balances on a real chain.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ROYALTY_BPS = 10_000


@dataclass(frozen=True)
class ModelCall:
    """One entry of a receipt's ``inferences`` with its model's registry terms."""

    request_id: str
    model_cid: str
    mode: str
    sprinter: str
    model_gas: int
    owner: str | None = None  # None: the model is not registered (no royalty)
    royalty_bps: int = 0


@dataclass(frozen=True)
class CallPayout:
    call: ModelCall
    gas_paid: int
    owner_amount: int
    sprinter_amount: int


@dataclass(frozen=True)
class FeeSplit:
    """``total == burned + tip + sum(owner + sprinter amounts)``, all in wei."""

    gas_used: int
    gas_price: int
    base_fee: int
    inference_gas: int
    burned: int
    tip: int
    payouts: tuple[CallPayout, ...]

    @property
    def total(self) -> int:
        return self.gas_used * self.gas_price

    @property
    def to_sprinters(self) -> int:
        return sum(p.sprinter_amount for p in self.payouts)

    @property
    def to_owners(self) -> int:
        return sum(p.owner_amount for p in self.payouts)


def fee_split(*, gas_used: int, gas_price: int, base_fee: int, calls: list[ModelCall]) -> FeeSplit:
    """Split a mined transaction's fee as the chain paid it (calls in order, capped at
    ``gas_used``; each call's full price goes to its sprinter and model owner)."""
    payouts: list[CallPayout] = []
    paid_gas = 0
    stopped = False
    for call in calls:
        gas = min(call.model_gas, gas_used - paid_gas)
        # As the chain does, the first call left with nothing to pay ends the payments
        # (also a free model's call: later calls of the transaction are then unpaid).
        stopped = stopped or gas <= 0
        if stopped:
            payouts.append(CallPayout(call, 0, 0, 0))
            continue
        paid_gas += gas
        fee = gas * gas_price
        royalty = fee * call.royalty_bps // MAX_ROYALTY_BPS if call.owner is not None else 0
        payouts.append(CallPayout(call, gas, royalty, fee - royalty))
    ordinary = gas_used - paid_gas
    return FeeSplit(
        gas_used=gas_used,
        gas_price=gas_price,
        base_fee=base_fee,
        inference_gas=paid_gas,
        burned=ordinary * base_fee,
        tip=ordinary * (gas_price - base_fee),
        payouts=tuple(payouts),
    )
