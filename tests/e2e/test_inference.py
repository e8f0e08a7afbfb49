"""Native inference end to end: contracts call models in transactions on the real stack
(node process + PIPE + CeleryBridge + embedded Redis + hub API + 2 sprinter processes),
and what a user can check afterwards: stored outputs, events, proofs, fees."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from hub_client.errors import RpcError
from neurostack.solidity import compile_files, load_artifact
from tests.hub.helpers import run_onnx

from .models import DECIMALS, FEATURES, build_affine, chain_value, mlp_output
from .stack import Options, RollupStack, predict, selector

pytestmark = pytest.mark.slow

PREDICTION_TOPIC = "0x" + keccak(text="Prediction(bytes32,int256,int128)").hex()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RollupStack]:
    with RollupStack(tmp_path_factory.mktemp("e2e-inference"), Options(workers=2)) as s:
        yield s


def read_int(stack: RollupStack, contract: str, name: str, getter: str, kind: str) -> Any:
    return decode([kind], stack.call(contract, selector(name, getter)))[0]


def test_contract_call_stores_the_onnxruntime_output_and_its_proof_verifies(
    stack: RollupStack, mlp: str, consumer: str
) -> None:
    receipt = stack.transact(stack.accounts[1], consumer, predict(mlp, FEATURES))

    assert receipt["status"] == "0x1"
    expected = chain_value(mlp_output(FEATURES))
    stored = (
        read_int(stack, consumer, "ModelConsumer", "lastValue", "int256"),
        read_int(stack, consumer, "ModelConsumer", "lastDecimals", "int128"),
    )
    assert stored == expected
    (log,) = [entry for entry in receipt["logs"] if entry["topics"][0] == PREDICTION_TOPIC]
    assert decode(["int256", "int128"], bytes.fromhex(log["data"][2:])) == expected

    # The receipt's additive field names the call; the proof ties it to the block header.
    (call,) = receipt["inferences"]
    assert call["modelCID"] == mlp and call["requestId"] == log["topics"][1]
    assert call["sprinter"] in stack.sprinters.values()
    rollup = stack.client
    proof = rollup.inference_proof(receipt["transactionHash"])
    checked = rollup.verify_inference_proof(
        proof, int(receipt["blockNumber"], 16), expected_signers=stack.sprinters.values()
    )
    assert "0x" + checked.block_hash.hex() == receipt["blockHash"]
    assert "0x" + checked.request_id.hex() == call["requestId"]
    assert checked.arrays()["y"].astype(np.float32).tolist() == mlp_output(FEATURES).tolist()
    assert rollup.inference_status(receipt["transactionHash"]).status == "included"
    witness = rollup.inference_witness(int(receipt["blockNumber"], 16))
    assert proof.receipt in witness.receipts


def test_two_models_in_sequence_the_second_fed_by_the_first(
    stack: RollupStack, mlp: str, tmp_path: Path
) -> None:
    affine = stack.upload(build_affine(tmp_path / "affine.onnx"), "affine")
    chained = stack.deploy("ChainedModels", "x", "x", 0)
    data = selector("ChainedModels", "run") + encode(
        ["string", "string", "int128[]", "int128"], [mlp, affine, FEATURES, DECIMALS]
    )

    receipt = stack.transact(stack.accounts[2], chained, data)

    assert receipt["status"] == "0x1"
    first = mlp_output(FEATURES)
    second = run_onnx(tmp_path / "affine.onnx", {"x": first})["y"]
    assert (
        read_int(stack, chained, "ChainedModels", "lastIntermediate", "int256")
        == (chain_value(first)[0])
    )
    assert (
        read_int(stack, chained, "ChainedModels", "lastValue", "int256") == (chain_value(second)[0])
    )
    assert [c["modelCID"] for c in receipt["inferences"]] == [mlp, affine]
    block = int(receipt["blockNumber"], 16)
    for call in receipt["inferences"]:  # both receipts are committed by the same header
        proof = stack.client.inference_proof(call["requestId"])
        assert stack.client.verify_inference_proof(proof, block).block_number == block


def test_supply_is_conserved_and_each_caller_pays_for_a_shared_inference(
    stack: RollupStack, mlp: str, consumer: str
) -> None:
    """Three senders make the same request (one shared receipt), a fourth another one.
    Per block: the balances of everyone involved change by exactly minus the base-fee
    burn on non-inference gas; each call pays modelGas·price to the receipt's sprinter."""
    senders = stack.accounts[3:7]
    inputs = [FEATURES, FEATURES, FEATURES, [100, 200, 300, 400]]
    hashes = [stack.send(a, consumer, predict(mlp, x)) for a, x in zip(senders, inputs)]
    receipts = [stack.wait_receipt(h) for h in hashes]
    assert all(r["status"] == "0x1" for r in receipts)
    assert len({r["inferences"][0]["requestId"] for r in receipts[:3]}) == 1

    for number in sorted({int(r["blockNumber"], 16) for r in receipts}):
        block = stack.rpc("eth_getBlockByNumber", hex(number), False)
        mined = [stack.rpc("eth_getTransactionReceipt", h) for h in block["transactions"]]
        base_fee = int(block["baseFeePerGas"], 16)
        touched = {block["miner"].lower(), *(a.lower() for a in stack.sprinters.values())}
        burn, payouts = 0, {}
        for r in mined:
            touched |= {r["from"].lower(), (r["to"] or r["contractAddress"]).lower()}
            model_gas = sum(int(c["modelGas"], 16) for c in r.get("inferences", []))
            inference_gas = min(model_gas, int(r["gasUsed"], 16))
            burn += (int(r["gasUsed"], 16) - inference_gas) * base_fee
            for c in r.get("inferences", []):
                fee = int(c["modelGas"], 16) * int(r["effectiveGasPrice"], 16)
                payouts[c["sprinter"]] = payouts.get(c["sprinter"], 0) + fee
        delta = sum(stack.balance(a, number) - stack.balance(a, number - 1) for a in touched)
        assert delta == -burn
        for sprinter, paid in payouts.items():  # unregistered model: no royalty share
            assert stack.balance(sprinter, number) - stack.balance(sprinter, number - 1) == paid


def test_documented_verify_proof_program_runs(stack: RollupStack, mlp: str, consumer: str) -> None:
    """docs/demo.md's program (docs_src/demo/verify_proof.py), run in the chain's folder."""
    tx_hash = stack.send(stack.accounts[7], consumer, predict(mlp, [3, 1, 4, 1]))
    program = Path(__file__).resolve().parents[2] / "docs_src" / "demo" / "verify_proof.py"
    proc = subprocess.run(
        [sys.executable, program, tx_hash],
        cwd=stack.project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    verified, output = proc.stdout.splitlines()
    assert verified.split()[-1] in {a.lower() for a in stack.sprinters.values()}
    assert output.startswith("[[")


def test_documented_toolkit_program_runs(stack: RollupStack, mlp: str) -> None:
    """docs/hub_client.md's dApp toolkit program (docs_src/hub_client/toolkit.py) against this stack."""
    program = Path(__file__).resolve().parents[2] / "docs_src" / "hub_client" / "toolkit.py"
    env = {**os.environ, "NEUROSTACK_RPC_URL": stack.rpc_url, "MODEL_CID": mlp,
           "NEUROSTACK_PRIVATE_KEY": "0x" + bytes(stack.accounts[8].key).hex()}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, program], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    deployed, event, paid = (line.split() for line in proc.stdout.splitlines())
    address, status, sender = deployed
    assert status == "1" and sender == stack.accounts[8].address
    expected = chain_value(mlp_output(FEATURES))
    assert (int(event[0]), int(event[1])) == expected and int(event[2]) == expected[0]
    consumer = stack.client.contract(address, load_artifact("ModelConsumer"))
    assert consumer.call("lastValue") == expected[0]
    assert paid[0] in stack.sprinters.values()


OG_CONSUMER = (
    Path(__file__).resolve().parents[1]
    / "contracts"
    / "opengradient"
    / "SimulationAwareConsumer.sol"
)
OG_PREDICTION_TOPIC = "0x" + keccak(text="Prediction(int128,int128,bool)").hex()


def test_opengradient_contract_sees_simulation_results_only_outside_blocks(
    stack: RollupStack, mlp: str
) -> None:
    """A contract compiled against OpenGradient's OGInference.sol (unchanged) branches on
    ``is_simulation_result``: true in eth_call, eth_estimateGas, eth_simulateV1 and
    eth_createAccessList (the model runs on the hub for real), false in its transaction."""
    compiled = compile_files([OG_CONSUMER])["SimulationAwareConsumer"]
    address = stack.client.deploy(stack.accounts[0], compiled, "x").address
    functions = {f["name"]: f for f in compiled.abi if f.get("type") == "function"}

    def data(name: str) -> bytes:
        fn = functions[name]
        types = ",".join(i["type"] for i in fn["inputs"])
        args = encode(["string", "int128[]", "int128"], [mlp, FEATURES, DECIMALS])
        return keccak(text=f"{name}({types})")[:4] + args

    def getter(name: str, kind: str) -> Any:
        return decode([kind], stack.call(address, keccak(text=f"{name}()")[:4]))[0]

    value, decimals = chain_value(mlp_output(FEATURES))
    sender = stack.accounts[9].address
    call = {"from": sender, "to": address, "data": "0x" + data("predict").hex()}

    # eth_call: the hub runs the model; the contract sees a simulation and stores nothing
    assert decode(["int128", "bool"], stack.call(address, data("predict"))) == (value, True)
    (simulated,) = stack.rpc("eth_simulateV1", {"blockStateCalls": [{"calls": [call]}]}, "latest")
    returned = bytes.fromhex(simulated["calls"][0]["returnData"][2:])
    assert decode(["int128", "bool"], returned) == (value, True)
    (log,) = simulated["calls"][0]["logs"]
    assert decode(["int128", "int128", "bool"], bytes.fromhex(log["data"][2:])) == (
        value, decimals, True,
    )  # fmt: skip
    assert int(stack.rpc("eth_estimateGas", call), 16) > 21_000
    assert getter("stored", "uint256") == 0

    # a contract refusing simulated outputs cannot be simulated, only transacted
    refuse = {**call, "data": "0x" + data("predictOrRevertInSimulation").hex()}
    reason = "execution reverted: refusing a simulated model output"
    for method in ("eth_call", "eth_estimateGas"):
        with pytest.raises(RpcError) as refused:
            stack.rpc(method, refuse, "latest")
        assert refused.value.detail == f"{method}: {reason}" and refused.value.code == 3
    assert stack.rpc("eth_createAccessList", refuse, "latest")["error"] == reason

    # the transactions (PIPE detection, the block, the STF's re-execution): not simulations
    receipt = stack.transact(stack.accounts[9], address, data("predict"))
    assert receipt["status"] == "0x1"
    (log,) = [entry for entry in receipt["logs"] if entry["topics"][0] == OG_PREDICTION_TOPIC]
    assert decode(["int128", "int128", "bool"], bytes.fromhex(log["data"][2:])) == (
        value, decimals, False,
    )  # fmt: skip
    assert (getter("stored", "uint256"), getter("lastValue", "int128")) == (1, value)
    receipt = stack.transact(stack.accounts[9], address, data("predictOrRevertInSimulation"))
    assert receipt["status"] == "0x1"
    assert getter("stored", "uint256") == 2
