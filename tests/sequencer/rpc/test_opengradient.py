"""OpenGradient's LLM functions (0x…F4) and price-history precompile (0x…F5) as dApp clients
see them over JSON-RPC: a contract compiled against OpenGradient's published OGInference.sol
gets the chain's "not supported on this chain" reason in web3.py and in ethers v6."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError

from neurostack.solidity import compile_files

from .conftest import Rpc, sign

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
CONSUMER = REPO / "tests" / "contracts" / "opengradient" / "SimulationAwareConsumer.sol"
SCRIPT = REPO / "tests" / "js" / "ethers_opengradient.mjs"
CID = "bafkreicyxoelqsorxgm7hxy75rjzysd7tqo3iogz5fupncewddagvkrisq"
F4 = "0x00000000000000000000000000000000000000F4"
F5 = "0x00000000000000000000000000000000000000F5"

LLM = (
    "{} (OpenGradient LLM inference) is not supported on this chain; "
    "the inference precompile runs ONNX models through runModelInference only"
)
PRICE = (
    "price-history inference (OpenGradient's OGHistorical at "
    "0x00000000000000000000000000000000000000F5: runInferenceOnPriceFeed, "
    "queryHistoricalCandles) is not supported on this chain"
)
REASONS = {
    "completion": LLM.format("runLLMCompletion"),
    "chat": LLM.format("runLLMChat"),
    "priceFeed": PRICE,
}
ARGS: dict[str, tuple[str, ...]] = {
    "completion": (CID, "hello"),
    "chat": (CID, "hello"),
    "priceFeed": (CID,),
}


@pytest.fixture(scope="module")
def live(rpc_factory: Any) -> Rpc:
    return rpc_factory(block_time=0.2)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    compiled = compile_files([CONSUMER])["SimulationAwareConsumer"].to_artifact()
    path = tmp_path_factory.mktemp("og") / "SimulationAwareConsumer.json"
    path.write_text(json.dumps(compiled))
    return {**compiled, "path": str(path)}


def _send(live: Rpc, **fields: Any) -> Any:
    raw = sign(live, live.accounts[1], **fields)
    tx_hash = live.w3.eth.send_raw_transaction(raw)
    return live.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)


def test_web3py_sees_the_reasons(live: Rpc, artifact: dict[str, Any]) -> None:
    w3 = live.w3
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    data = factory.constructor("x").data_in_transaction
    receipt = _send(live, to=None, value=0, gas=3_000_000, data=data)
    consumer = w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    sender = {"from": live.accounts[1].address}

    for name, reason in REASONS.items():
        function = consumer.functions[name](*ARGS[name])
        with pytest.raises(ContractLogicError) as called:
            function.call(sender)
        assert called.value.message == f"execution reverted: {reason}"
        with pytest.raises(ContractLogicError) as estimated:
            function.estimate_gas(sender)
        assert estimated.value.message == f"execution reverted: {reason}"
        listed = live.request(
            "eth_createAccessList",
            [{**sender, "to": consumer.address, "data": function._encode_transaction_data()}],
        )
        assert "result" in listed, listed
        assert listed["result"]["error"] == f"execution reverted: {reason}"
        # a transaction is included and fails; nothing else goes wrong
        mined = _send(live, to=consumer.address, value=0, gas=1_000_000,
                      data=function._encode_transaction_data())  # fmt: skip
        assert mined["status"] == 0

    # direct calls: the precompile itself, and the reserved address with any data or none
    for to, data, reason in [
        (F4, "0x14800c61", REASONS["completion"]),
        (F4, "0xe39aa7e7" + "00" * 64, REASONS["chat"]),
        (F5, "0x", PRICE),
        (F5, "0x45085f3d", PRICE),
    ]:
        answer = live.request("eth_call", [{"to": to, "data": data}, "latest"])
        assert (
            answer["error"]["code"] == 3
            and answer["error"]["message"] == f"execution reverted: {reason}"
        )
    # eth_config names the reserved address among the precompiles
    precompiles = live.request("eth_config")["result"]["current"]["precompiles"]
    assert precompiles["NEURO_PRICE_HISTORY"] == F5.lower()
    assert precompiles["NEURO_INFERENCE"] == F4.lower()
    # a plain transfer to the reserved address fails in its block (no value is lost)
    balance = w3.eth.get_balance(F5)
    assert _send(live, to=Web3.to_checksum_address(F5), value=10**15, gas=100_000)["status"] == 0
    assert w3.eth.get_balance(F5) == balance


def test_ethers_v6_sees_the_reasons(live: Rpc, artifact: dict[str, Any]) -> None:
    node_bin = shutil.which("node")
    assert node_bin, "node is required (the Solidity toolchain needs it too)"
    key = live.node.config.dev_accounts()[2].private_key
    proc = subprocess.run(
        [node_bin, str(SCRIPT), live.url, artifact["path"], key, CID],
        check=False, capture_output=True, text=True, timeout=90, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    for name, reason in REASONS.items():
        seen = out[name]
        assert seen["staticCall"] == {"code": "CALL_EXCEPTION", "reason": reason}, name
        assert seen["estimateGas"] == {"code": "CALL_EXCEPTION", "reason": reason}, name
        assert seen["transaction"] == {"code": "CALL_EXCEPTION", "status": 0}, name
    assert out["direct"][F4] == {"code": "CALL_EXCEPTION", "reason": REASONS["completion"]}
    assert out["direct"][F5] == {"code": "CALL_EXCEPTION", "reason": PRICE}
