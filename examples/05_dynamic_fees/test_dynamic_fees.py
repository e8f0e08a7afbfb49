"""Example 05 against the shared devnet: the volatility model sets the swap fee."""

from __future__ import annotations

from itertools import pairwise

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example

pytestmark = pytest.mark.slow


def to_fixed(value: int, decimals: int, target: int) -> int:
    """NeuroTensors.toFixed: rescale, truncating toward zero as Solidity divides."""
    if target >= decimals:
        return value * 10 ** (target - decimals)
    scale = 10 ** (decimals - target)
    return value // scale if value >= 0 else -(-value // scale)


def test_fee_follows_the_models_volatility_and_reserves_account_exactly(
    devnet: _kit.Devnet,
) -> None:
    module = load("05_dynamic_fees")
    result = run_example(devnet, "05_dynamic_fees")
    pool, block = result.pool, result.provided_at

    reserves = {True: module.LIQUIDITY, False: module.LIQUIDITY}  # zero_for_one: reserve0
    prices = [module.LIQUIDITY * 10**18 // module.LIQUIDITY] * 9
    spent = {True: 0, False: 0}  # the trader's token0 / token1 flows
    received = {True: 0, False: 0}
    for swap in result.swaps:
        # The model's input is the last 8 price moves, replayed here from the reserves.
        moves = [abs(new - old) * 10**8 // old for old, new in pairwise(prices)]
        assert swap.features == moves
        # The fee is the contract's rule applied to the model's answer, run here.
        answer = _kit.number(_kit.local_output(module.MODEL, _kit.row("abs_returns", moves, 6)),
                             "volatility")  # fmt: skip
        volatility = to_fixed(answer.value, answer.decimals, 6)
        assert swap.volatility == volatility
        assert swap.fee_bps == (5 if volatility <= 0 else min(500, 5 + volatility * 20 // 10**6))
        # Constant product, the fee kept in the pool: exact to the wei.
        reserve_in, reserve_out = reserves[swap.zero_for_one], reserves[not swap.zero_for_one]
        after_fee = swap.amount_in * (10_000 - swap.fee_bps) // 10_000
        assert swap.amount_out == reserve_out * after_fee // (reserve_in + after_fee)
        reserves[swap.zero_for_one] = reserve_in + swap.amount_in
        reserves[not swap.zero_for_one] = reserve_out - swap.amount_out
        at = swap.receipt.block_number
        assert pool.call("reserve0", block=at) == reserves[True]
        assert pool.call("reserve1", block=at) == reserves[False]
        prices = prices[1:] + [reserves[False] * 10**18 // reserves[True]]
        spent[swap.zero_for_one] += swap.amount_in
        received[not swap.zero_for_one] += swap.amount_out
        assert at > block
        block = at

    # The pool holds exactly its reserves; the trader exactly what the swaps say.
    for token, zero in ((result.token0, True), (result.token1, False)):
        assert token.call("balanceOf", pool.address) == reserves[zero]
        start = module.LIQUIDITY // 10
        assert token.call("balanceOf", result.trader) == start - spent[zero] + received[zero]
    # Calm trading is cheap; in a volatile market the fee climbs swap after swap.
    calm = [s.fee_bps for s in result.swaps if s.market == "calm"]
    volatile = [s.fee_bps for s in result.swaps if s.market == "volatile"]
    assert max(calm) <= 10
    assert volatile[1] < volatile[2] < volatile[3]
    assert min(volatile[1:]) > 4 * max(calm)
    assert_gas_as_catalogued("05_dynamic_fees", result.gas)
