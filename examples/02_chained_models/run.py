"""Example 02: two models in one transaction, the second fed by the first's output.

``EnergyForecast.forecast`` asks a weather model for tomorrow's temperature and passes
that output tensor to a demand model, all inside one transaction: the sequencer resolves
the first call, re-simulates, finds the second, and includes the transaction when both
signed results are back. Both receipts are committed by the same block header.

    python examples/02_chained_models/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import TransactionReceipt
from neurostack.protocol import ModelInput, Number

WEATHER = HERE / "models" / "temperature.onnx"
DEMAND = HERE / "models" / "demand.onnx"
ARTIFACT = HERE / "contracts" / "artifacts" / "EnergyForecast.json"
TODAY = [866, -500, 350, 1200]  # sin/cos of 14:00, 35 % humidity, pressure +1.2 (3 decimals)


@dataclass(frozen=True)
class Result:
    contract: str
    deployment: TransactionReceipt
    receipt: TransactionReceipt
    temperature: Number
    demand: Number
    local_temperature: Number
    local_demand: Number


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup, account = devnet.rollup, devnet.accounts[0]
    weather_cid = devnet.upload(WEATHER, "temperature")
    demand_cid = devnet.upload(DEMAND, "demand")
    print(f"models      weather {weather_cid}\n            demand  {demand_cid}")
    forecast = rollup.deploy(account, ARTIFACT, weather_cid, demand_cid, timeout=devnet.timeout)
    assert forecast.receipt is not None
    print(f"contract    EnergyForecast at {forecast.address} (gas {forecast.receipt.gas_used})")

    receipt = forecast.transact(account, "forecast", TODAY, 3, timeout=devnet.timeout)
    (event,) = forecast.events("Forecast", receipt)
    decimals = event["decimals"]
    temperature, demand = Number(event["temperature"], decimals), Number(event["demand"], decimals)
    print(f"transaction {receipt.transaction_hash} in block {receipt.block_number}, "
          f"gas {receipt.gas_used}, {len(receipt.inferences)} model calls")  # fmt: skip
    print(f"on chain    temperature {_kit.shown(temperature)} °C -> demand "
          f"{_kit.shown(demand)} MW")  # fmt: skip

    # The same chain of models, run here: the second model gets the first one's output as
    # the chain encoded it (18 decimals), exactly what the contract passed on.
    weather = _kit.local_output(WEATHER, _kit.row("x", TODAY, 3))
    demand_input = ModelInput(numbers=weather.numbers)
    local_demand = _kit.number(_kit.local_output(DEMAND, demand_input), "demand")
    local_temperature = _kit.number(weather, "temperature")
    same = (local_temperature, local_demand) == (temperature, demand)
    print(f"onnxruntime temperature {_kit.shown(local_temperature)} °C -> demand "
          f"{_kit.shown(local_demand)} MW: {'equal' if same else 'DIFFERENT'}")  # fmt: skip

    for call in receipt.inferences:
        proof = rollup.inference_proof(call.request_id)
        rollup.verify_inference_proof(proof, receipt.block_number)
        print(f"proof       {call.model_cid[:20]}… request {call.request_id[:18]}… leaf "
              f"{proof.index} of {proof.leaf_count}: verified against block "
              f"{receipt.block_number}'s header")  # fmt: skip
    if not same:
        raise ValueError("the chain's outputs differ from a local onnxruntime run")
    return Result(forecast.address, forecast.receipt, receipt, temperature, demand,
                  local_temperature, local_demand)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
