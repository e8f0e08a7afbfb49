"""Example 05, blueprint "dynamic fees": an AMM whose swap fee a volatility model sets.

``VolatilityFeePool`` asks ``models/volatility.onnx`` about the last 8 price moves before
every swap and charges ``5 bps + 20 bps per 1 % of estimated volatility`` (at most 500
bps). The script deploys two demo tokens and the pool, provides liquidity, then trades
four small swaps (a calm market) and four large ones (a volatile market), printing the
fee each swap paid: it rises with volatility.

    python examples/05_dynamic_fees/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import Contract, TransactionReceipt

MODEL = HERE / "models" / "volatility.onnx"
ARTIFACTS = HERE / "contracts" / "artifacts"
TOKEN = 10**18
LIQUIDITY = 1_000_000 * TOKEN  # of each token
CALM = [500 * TOKEN] * 4  # 0.05 % of the pool: the price moves about 0.1 % per swap
VOLATILE = [60_000 * TOKEN] * 4  # 6 % of the pool: about 12 % per swap


@dataclass(frozen=True)
class Swap:
    market: str  # "calm" or "volatile"
    zero_for_one: bool
    amount_in: int
    amount_out: int
    fee_bps: int
    volatility: int  # percent, 6 decimals, as the model answered
    features: list[int]  # the model's input: |returns| in percent, 6 decimals
    receipt: TransactionReceipt


@dataclass(frozen=True)
class Result:
    pool: Contract
    token0: Contract
    token1: Contract
    trader: str
    provided_at: int  # block of the liquidity deposit
    swaps: list[Swap]
    gas: dict[str, int]


def wait_all(devnet: _kit.Devnet, hashes: list[str]) -> list[TransactionReceipt]:
    return [devnet.rollup.wait_for_receipt(h, timeout=devnet.timeout) for h in hashes]


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    provider, trader = devnet.accounts[0], devnet.accounts[1]
    cid = devnet.upload(MODEL, "volatility")
    print(f"model       {cid} (abs_returns [N, 8] -> volatility [N, 1])")

    supply = 10 * LIQUIDITY
    token0 = rollup.deploy(provider, ARTIFACTS / "DemoToken.json", "Demo A", "DMA", supply)
    token1 = rollup.deploy(provider, ARTIFACTS / "DemoToken.json", "Demo B", "DMB", supply)
    pool = rollup.deploy(provider, ARTIFACTS / "VolatilityFeePool.json", token0.address,
                         token1.address, cid)  # fmt: skip
    print(f"pool        VolatilityFeePool at {pool.address}, tokens {token0.address}, "
          f"{token1.address}")  # fmt: skip
    # Independent transactions go out together (the node hands out pending nonces), then
    # the script waits for all of them: one block instead of four.
    max_allowance = 2**256 - 1
    wait_all(devnet, [
        token0.send(provider, "approve", pool.address, max_allowance),
        token1.send(provider, "approve", pool.address, max_allowance),
        token0.send(provider, "transfer", trader.address, LIQUIDITY // 10),
        token1.send(provider, "transfer", trader.address, LIQUIDITY // 10),
        token0.send(trader, "approve", pool.address, max_allowance),
        token1.send(trader, "approve", pool.address, max_allowance),
    ])  # fmt: skip
    provided = pool.transact(provider, "provide", LIQUIDITY, LIQUIDITY)
    print(f"liquidity   {LIQUIDITY // TOKEN:,} DMA + {LIQUIDITY // TOKEN:,} DMB\n")
    print(f"{'market':<9}{'swap':<24}{'volatility':>11}{'fee':>9}{'received':>16}")

    swaps: list[Swap] = []
    for market, sizes in (("calm", CALM), ("volatile", VOLATILE)):
        for i, amount in enumerate(sizes):
            zero_for_one = i % 2 == 0  # back and forth: the price swings, the pool stays put
            features = pool.call("features")
            receipt = pool.transact(trader, "swap", zero_for_one, amount, 0,
                                    timeout=devnet.timeout)  # fmt: skip
            (event,) = pool.events("Swap", receipt)
            swaps.append(Swap(market, zero_for_one, amount, event["amountOut"], event["feeBps"],
                              event["volatility"], features, receipt))  # fmt: skip
            sold, bought = ("DMA", "DMB") if zero_for_one else ("DMB", "DMA")
            swap = f"{amount // TOKEN:,} {sold} -> {bought}"
            print(f"{market:<9}{swap:<24}{_kit.shown(event['volatility'], 6):>10}%"
                  f"{event['feeBps']:>5} bps{event['amountOut'] / TOKEN:>16,.2f}")  # fmt: skip
    calm = [s.fee_bps for s in swaps if s.market == "calm"]
    volatile = [s.fee_bps for s in swaps if s.market == "volatile"]
    print(f"\nmean fee    calm {sum(calm) / len(calm):.1f} bps, volatile "
          f"{sum(volatile) / len(volatile):.1f} bps")  # fmt: skip
    assert pool.receipt is not None
    gas = {"deploy pool": pool.receipt.gas_used, "swap": swaps[-1].receipt.gas_used}
    return Result(pool, token0, token1, trader.address, provided.block_number, swaps, gas)


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
