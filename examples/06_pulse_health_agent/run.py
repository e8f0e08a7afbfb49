"""Example 06, blueprint "Pulse": a sovereign health agent.

Alice registers her wearable's key with ``Pulse``. The wearable submits her vitals; an
anomaly model (``models/vitals_anomaly.onnx``) scores each reading, and a score at or above
Alice's threshold raises an ``Alert`` indexed by her address. Only Alice changes her
threshold or grants a researcher access (a stranger's and her device's attempts are
refused); a granted researcher pays Alice's price for aggregates, and the payment lands
in Alice's account in the same transaction.

    python examples/06_pulse_health_agent/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import Contract, ContractReverted, Event, TransactionReceipt

MODEL = HERE / "models" / "vitals_anomaly.onnx"
ARTIFACT = HERE / "contracts" / "artifacts" / "Pulse.json"
ALERT_BPS = 5000  # Alice is alerted from P(anomaly) = 50 %
CAUTIOUS_BPS = 9500  # ... and later only from 95 %
INSIGHT_FEE = 10**16  # wei a researcher pays Alice per insight
# [heart rate bpm, SpO2 %, temperature °C, HRV ms] with one decimal
READINGS = {
    "resting": [720, 980, 367, 550],
    "after a walk": [880, 975, 369, 420],
    "feverish (38.2 °C)": [750, 970, 382, 450],
    "racing heart (150 bpm)": [1500, 970, 370, 400],
}


@dataclass(frozen=True)
class Reading:
    label: str
    vitals: list[int]
    alert_bps: int  # Alice's threshold when it was submitted
    anomaly_bps: int
    alerted: bool
    receipt: TransactionReceipt


@dataclass(frozen=True)
class Result:
    pulse: Contract
    user: str
    device: str
    researcher: str
    readings: list[Reading]
    refused: dict[str, str]  # what was attempted -> the contract's reason
    alerts: list[Event]  # eth_getLogs: Alert events indexed by Alice's address
    sale: TransactionReceipt  # the researcher's purchase
    gas: dict[str, int]


def submit(pulse: Contract, device: Any, user: str, label: str, threshold: int) -> Reading:
    vitals = READINGS[label]
    receipt = pulse.transact(device, "submitVitals", user, vitals)
    alerts = pulse.events("Alert", receipt)
    anomaly = _kit.number(_kit.local_output(MODEL, _kit.row("vitals", vitals, 1)),
                          "probabilities", 1)  # fmt: skip
    bps = max(0, min(10_000, anomaly.value // 10 ** (anomaly.decimals - 4)))
    if alerts and alerts[0]["anomalyBps"] != bps:
        raise ValueError(f"{label}: the chain scored {alerts[0]['anomalyBps']}, onnxruntime {bps}")
    print(f"  {label:<24} P(anomaly) {bps / 100:6.2f} %  threshold {threshold / 100:.0f} %  "
          f"{'ALERT' if alerts else 'ok'}")  # fmt: skip
    return Reading(label, vitals, threshold, bps, bool(alerts), receipt)


def refused(attempt: Callable[[], Any]) -> str:
    """Run an attempt that must fail; the contract's reason."""
    try:
        attempt()
    except ContractReverted as exc:
        return exc.reason
    raise ValueError("the contract accepted what it must refuse")


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    app, alice, wearable, researcher, stranger = devnet.accounts[:5]
    cid = devnet.upload(MODEL, "vitals_anomaly")
    print(f"model       {cid} (vitals [N, 4] -> label [N], probabilities [N, 2])")
    pulse = rollup.deploy(app, ARTIFACT, cid)
    print(f"contract    Pulse at {pulse.address}")
    pulse.transact(alice, "register", wearable.address, ALERT_BPS, INSIGHT_FEE)
    print(f"user        Alice {alice.address}, wearable {wearable.address}\n")

    print("readings (sent by the wearable's key)")
    readings = [submit(pulse, wearable, alice.address, label, ALERT_BPS) for label in READINGS]
    pulse.transact(alice, "setThreshold", alice.address, CAUTIOUS_BPS)
    print(f"  -- Alice raises her threshold to {CAUTIOUS_BPS / 100:.0f} % --")
    readings.append(submit(pulse, wearable, alice.address, "feverish (38.2 °C)", CAUTIOUS_BPS))

    # Only Alice administers her profile; only her device reports; only whom she grants buys.
    refusals = {
        "a stranger changes Alice's threshold": lambda: pulse.transact(
            stranger, "setThreshold", alice.address, 1),
        "Alice's wearable changes her threshold": lambda: pulse.transact(
            wearable, "setThreshold", alice.address, 1),
        "a stranger grants himself access": lambda: pulse.transact(
            stranger, "grant", alice.address, stranger.address, True),
        "a stranger submits vitals for Alice": lambda: pulse.transact(
            stranger, "submitVitals", alice.address, READINGS["racing heart (150 bpm)"]),
        "an ungranted researcher buys insights": lambda: pulse.transact(
            researcher, "buyInsights", alice.address, value=INSIGHT_FEE),
    }  # fmt: skip
    refused_reasons = {what: refused(attempt) for what, attempt in refusals.items()}
    print()
    for what, reason in refused_reasons.items():
        print(f"refused     {what}: {reason}")

    pulse.transact(alice, "grant", alice.address, researcher.address, True)
    sale = pulse.transact(researcher, "buyInsights", alice.address, value=INSIGHT_FEE)
    (sold,) = pulse.events("InsightsSold", sale)
    before = rollup.balance(alice.address, sale.block_number - 1)
    after = rollup.balance(alice.address, sale.block_number)
    print(f"\ninsights    {sold['readings']} readings, {sold['alerts']} alerts, mean heart rate "
          f"{_kit.shown(sold['meanHeartRate'], 1)} bpm, SpO2 {_kit.shown(sold['meanSpo2'], 1)} %"
          f", temperature {_kit.shown(sold['meanTemperature'], 1)} °C\n"
          f"paid        the researcher paid {INSIGHT_FEE} wei; Alice's balance rose by "
          f"{after - before} wei")  # fmt: skip
    alerts = pulse.logs("Alert", user=alice.address)
    print(f"alerts      {len(alerts)} Alert events indexed by Alice's address "
          f"(readings {', '.join(str(a['reading']) for a in alerts)})")  # fmt: skip
    assert pulse.receipt is not None
    gas = {
        "deploy": pulse.receipt.gas_used,
        "submitVitals (alert)": next(r.receipt.gas_used for r in readings if r.alerted),
        "buyInsights": sale.gas_used,
    }
    return Result(pulse, alice.address, wearable.address, researcher.address, readings,
                  refused_reasons, alerts, sale, gas)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
