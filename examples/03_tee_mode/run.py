"""Example 03: a model call in TEE mode, and what makes its signer trustworthy.

``FraudScreen.screen`` asks a fraud model for P(fraud) with ``mode = TEE``. The chain
accepts the result only if its signing key was admitted by an attestation document: a
code measurement the chain owner approved, not revoked, attested within 24 h. On a
``neurostack new`` devnet, genesis admits the workers' keys with development attestations
(no real enclave: see the README) and ``neurostack up`` renews them with heartbeats.
The script screens an ordinary and a suspicious payment, then shows the TEE admission of
the key that signed, read from the registry, and verifies each receipt's Merkle proof
against its block header.

    python examples/03_tee_mode/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import TransactionReceipt, VerifiedInference

MODEL = HERE / "models" / "fraud_screen.onnx"
ARTIFACT = HERE / "contracts" / "artifacts" / "FraudScreen.json"
THRESHOLD_BPS = 5000  # flag at P(fraud) >= 50 %
# [amount in thousands, hour, km from home, merchant risk], 3 decimals
PAYMENTS = {
    "coffee at 14:00, 3 km from home": [45, 14000, 3000, 100],
    "2,400 at 03:00, 180 km away, risky merchant": [2400, 3000, 180000, 900],
}


@dataclass(frozen=True)
class Screening:
    label: str
    receipt: TransactionReceipt
    fraud_bps: int
    flagged: bool
    local_bps: int  # the same model run here, with the contract's arithmetic
    verified: VerifiedInference


@dataclass(frozen=True)
class Result:
    contract: str
    deployment: TransactionReceipt
    screenings: list[Screening]
    tee_keys: dict[str, tuple[bytes, int, bool]]  # signer -> (measurement, attestedAt, active)


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup, account = devnet.rollup, devnet.accounts[0]
    registry = devnet.registry()
    cid = devnet.upload(MODEL, "fraud_screen")
    print(f"model       {cid} (x [N, 4] -> label [N], probabilities [N, 2])")
    screen = rollup.deploy(account, ARTIFACT, cid, THRESHOLD_BPS, timeout=devnet.timeout)
    assert screen.receipt is not None
    print(f"contract    FraudScreen at {screen.address} (gas {screen.receipt.gas_used})")

    screenings: list[Screening] = []
    tee_keys: dict[str, tuple[bytes, int, bool]] = {}
    for label, payment in PAYMENTS.items():
        receipt = screen.transact(account, "screen", payment, 3, timeout=devnet.timeout)
        (event,) = screen.events("Screened", receipt)
        (call,) = receipt.inferences
        # Who signed, and why the chain accepted it: the key's TEE admission.
        measurement, attested_at, active = registry.call("teeKeyOf", call.sprinter)
        tee_keys[call.sprinter] = (measurement, attested_at, active)
        approved = registry.call("isMeasurementApproved", measurement)
        proof = rollup.inference_proof(receipt.transaction_hash)
        verified = rollup.verify_inference_proof(proof, receipt.block_number)
        probability = _kit.number(_kit.local_output(MODEL, _kit.row("x", payment, 3)),
                                  "probabilities", 1)  # fmt: skip
        local_bps = max(0, min(10_000, probability.value // 10 ** (probability.decimals - 4)))
        print(f"\npayment     {label}\n"
              f"  P(fraud)  {event['fraudBps'] / 100:.2f} % -> "
              f"{'FLAGGED' if event['flagged'] else 'passed'} (onnxruntime here: "
              f"{local_bps / 100:.2f} %)\n"
              f"  mode      {call.mode}, signed by {call.sprinter}\n"
              f"  TEE key   measurement 0x{measurement.hex()[:16]}… "
              f"({'approved' if approved else 'NOT approved'}), attested at {attested_at}, "
              f"{'active' if active else 'INACTIVE'}\n"
              f"  proof     verified against block {receipt.block_number}'s header")  # fmt: skip
        screenings.append(Screening(label, receipt, event["fraudBps"], event["flagged"],
                                    local_bps, verified))  # fmt: skip
        if call.mode != "TEE" or not (active and approved) or local_bps != event["fraudBps"]:
            raise ValueError(f"{label}: the TEE result does not check out")
    return Result(screen.address, screen.receipt, screenings, tee_keys)


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
