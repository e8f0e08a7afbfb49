"""Example 01: a contract calls an ONNX model in a transaction; the proof is checked here.

Against a running ``neurostack up``: upload ``models/hello_regressor.onnx`` to the hub,
deploy ``HelloInference`` (bound to that model), send ``predict(features)``, follow PIPE's
status until the transaction is included, then show what the contract stored next to the
same model run locally with onnxruntime, and verify the transaction's inference with
``hub_client``'s light client (``RollupClient.verify_inference``: nothing the node says is
taken on trust that it cannot prove). ``neurostack demo`` runs this file.

    python examples/01_hello_inference/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import TransactionReceipt, VerifiedInference
from neurostack.protocol import Number

MODEL = HERE / "models" / "hello_regressor.onnx"
ARTIFACT = HERE / "contracts" / "artifacts" / "HelloInference.json"
DEFAULT_FEATURES = "0.5,-1.25,2.0,0.125"


@dataclass(frozen=True)
class Result:
    cid: str
    contract: str
    deployment: TransactionReceipt
    receipt: TransactionReceipt
    stored: Number  # what the contract stored
    local: Number  # the same model run here
    verified: VerifiedInference
    admitted: bool  # the signer is an active sprinter in the chain's registry


def parse_features(text: str) -> tuple[list[int], int]:
    """``"0.5,-1.25"`` -> integers with one common number of decimals: ``([500, -1250], 3)``."""
    try:
        numbers = [Decimal(part.strip()) for part in text.split(",") if part.strip()]
    except ArithmeticError:
        raise ValueError(f"--features {text!r}: give numbers separated by commas") from None
    if len(numbers) != 4:
        raise ValueError(f"--features: the model takes 4 numbers, got {len(numbers)}")
    decimals = max(0, *(-int(n.as_tuple().exponent) for n in numbers))
    return [int(n.scaleb(decimals)) for n in numbers], decimals


def step(label: str, text: str) -> None:
    print(f"{label:<12}{text}", flush=True)


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    features, decimals = parse_features(args.features)
    rollup, account = devnet.rollup, devnet.accounts[0]
    info = rollup.chain_info()
    print(f"Neuro Stack example 01 on chain {info.chain_id} '{info.name}' ({info.token_symbol}) "
          f"at {rollup.rpc_url}, hub {devnet.hub.base_url}, sender {account.address}\n")  # fmt: skip

    cid = devnet.upload(MODEL, "hello_regressor")
    step("model", f"uploaded {MODEL.name} -> {cid} (x [N, 4] -> y [N, 1])")
    hello = rollup.deploy(account, ARTIFACT, cid, "x", timeout=devnet.timeout)
    assert hello.receipt is not None
    step("contract", f"HelloInference deployed at {hello.address} "
         f"(block {hello.receipt.block_number}, gas {hello.receipt.gas_used})")  # fmt: skip

    tx_hash = hello.send(account, "predict", features, decimals)
    shown = ", ".join(_kit.shown(v, decimals) for v in features)
    step("transaction", f"{tx_hash}  predict(x=[{shown}])")
    statuses: list[str] = []

    def follow(status: str) -> None:  # PIPE: parked -> dispatched -> ready -> included
        statuses.append(status)
        step("", f"status: {' -> '.join(statuses)}")

    receipt = rollup.wait_for_receipt(tx_hash, timeout=devnet.timeout, on_status=follow)
    stored = Number(hello.call("lastValue"), hello.call("lastDecimals"))
    local = _kit.number(_kit.local_output(MODEL, _kit.row("x", features, decimals)), "y")
    step("block", f"{receipt.block_number}  {receipt.block_hash}  gas used {receipt.gas_used}")
    step("output", f"y = {float(_kit.shown(stored))!r}  "
         f"(the contract stored {stored.value} x 10^-{stored.decimals})")  # fmt: skip
    step("onnxruntime", f"y = {float(_kit.shown(local))!r} run here on this machine: "
         + ("equal" if local == stored else "DIFFERENT"))  # fmt: skip

    # The light client (what `neurostack verify-inference` runs) trusts nothing the node says
    # that it cannot prove: the header to its hash, the transaction into the block, the signed
    # receipt and its Merkle branch to the header's extraData, and the signer's admission
    # proven from the registry's storage (eth_getProof against the parent's state root).
    checked = rollup.verify_inference(tx_hash)
    (verified,) = checked.inferences
    (call,) = receipt.inferences
    print("\nverified with hub_client's light client")
    rows: list[tuple[str, Any]] = [
        ("request id", "0x" + verified.request_id.hex()),
        ("model", f"{verified.model_cid} mode {verified.mode.name}"),
        ("sprinter", f"{call.sprinter} (paid {call.model_gas * receipt.effective_gas_price} wei)"),
        ("admitted", verified.admission),
        ("inference root", "0x" + verified.inference_root.hex() + " = the block's extraData"),
        ("leaf", f"{verified.index} of {verified.leaf_count}"),
        ("branch", ", ".join("0x" + h.hex() for h in verified.branch) or "(empty: one leaf)"),
    ]
    for label, value in rows:
        print(f"  {label:<15}{value}")
    for check in checked.checks:
        print(f"  {check.outcome.value:<8} {check.name.value:<12} {check.detail}")
    admitted = True  # verify_inference raised VerificationFailed otherwise
    if local != stored:
        raise ValueError("the chain's output differs from a local onnxruntime run")
    return Result(cid, hello.address, hello.receipt, receipt, stored, local, verified, admitted)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--features", default=DEFAULT_FEATURES,
                        help="the 4 input numbers, comma-separated")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run, options)


if __name__ == "__main__":
    raise SystemExit(main())
