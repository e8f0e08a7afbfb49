"""PIPE through the real path: Node + JSON-RPC server + CeleryBridge + the real hub stack
(embedded redis-server, hub API, two sprinter processes running onnxruntime)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_abi import decode, encode
from eth_account import Account
from web3 import Web3

from neurostack.cli.chain import inference_backend
from neurostack.hub.samples import sample_model_path
from neurostack.protocol import (
    array_to_tensor,
    receipt_from_json,
    receipt_leaf,
    verify_merkle_branch,
)
from neurostack.solidity import load_artifact
from sequencer.node import Node
from sequencer.pipe import attach
from sequencer.rpc.server import RpcServer
from tests.hub.helpers import run_onnx
from tests.sequencer.inference.kit import make_config

from .kit import selector

pytestmark = pytest.mark.slow

FEATURES = [500, -1250, 2000, 125]  # with 3 decimals: 0.5, -1.25, 2.0, 0.125 (exact in float32)


def onnx_first_value(features: list[int], decimals: int) -> int:
    """The first output number a direct onnxruntime run gives, as the chain encodes it."""
    x = np.array([[f / 10**decimals for f in features]], dtype=np.float32)
    y = run_onnx(sample_model_path("mlp_regressor"), {"x": x})["y"]
    return array_to_tensor("y", y).values[0].value  # type: ignore[union-attr]


class Chain:
    def __init__(self, root: Path, hub: Any) -> None:
        config = make_config(root, sprinters=[w.address for w in hub.workers.values()])
        config.chain.block_time = 0.5
        self.node = Node(config)
        self.backend = inference_backend(config, hub.redis_url)
        self.pool = attach(self.node, self.backend)
        self.node.start()
        self.server = RpcServer(self.node).start()
        self.w3 = Web3(Web3.HTTPProvider(self.server.url, request_kwargs={"timeout": 60}))
        self.account = Account.from_key(config.dev_accounts()[1].private_key)

    def send(self, to: str | None, data: bytes, gas: int = 3_000_000) -> Any:
        tx = {
            "chainId": self.w3.eth.chain_id, "nonce": self.w3.eth.get_transaction_count(
                self.account.address, "pending"), "gas": gas, "data": data,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**8, "type": 2,
        }  # fmt: skip
        if to is not None:
            tx["to"] = to
        raw = self.account.sign_transaction(tx).raw_transaction
        tx_hash = self.w3.eth.send_raw_transaction(raw)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)

    def rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in response, response
        return response["result"]

    def close(self) -> None:
        self.server.stop()
        self.pool.close()
        self.node.stop()
        self.backend.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, hub_stack: Any) -> Iterator[Chain]:
    c = Chain(tmp_path_factory.mktemp("pipe-chain"), hub_stack)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def mlp_cid(hub_stack: Any) -> str:
    return hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]


@pytest.fixture(scope="module")
def consumer(chain: Chain) -> str:
    abi = load_artifact("ModelConsumer")
    receipt = chain.send(None, abi.bytecode + encode(["string", "uint8"], ["x", 0]))
    assert receipt["status"] == 1
    return receipt["contractAddress"]


def predict_data(cid: str, features: list[int], decimals: int = 3) -> bytes:
    return selector(load_artifact("ModelConsumer"), "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, decimals]
    )


def test_model_call_is_included_with_onnxruntime_output_and_a_verifiable_proof(
    chain: Chain, consumer: str, mlp_cid: str, hub_stack: Any
) -> None:
    start = time.monotonic()
    receipt = chain.send(consumer, predict_data(mlp_cid, FEATURES))
    latency = time.monotonic() - start
    assert receipt["status"] == 1
    abi = load_artifact("ModelConsumer")
    stored = decode(
        ["int256"], chain.w3.eth.call({"to": consumer, "data": selector(abi, "lastValue")})
    )[0]
    assert stored == onnx_first_value(FEATURES, 3)

    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    (call,) = chain.rpc("eth_getTransactionReceipt", [tx_hash])["inferences"]
    assert call["modelCID"] == mlp_cid and call["mode"] == "VANILLA"
    assert call["sprinter"] in {w.address for w in hub_stack.workers.values()}

    proof = chain.rpc("neuro_getInferenceProof", [tx_hash])
    header = chain.w3.eth.get_block(receipt["blockNumber"])
    assert proof["blockHash"] == "0x" + bytes(header["hash"]).hex()
    assert proof["inferenceRoot"] == "0x" + bytes(header["extraData"]).hex()
    leaf = receipt_leaf(receipt_from_json(proof["receipt"]))
    assert verify_merkle_branch(
        leaf, [bytes.fromhex(b[2:]) for b in proof["branch"]], proof["index"],
        bytes(header["extraData"]), proof["leafCount"],
    )  # fmt: skip
    witness = chain.rpc("neuro_getInferenceWitness", [hex(receipt["blockNumber"])])
    assert [r["requestId"] for r in witness["receipts"]] == [call["requestId"]]
    assert witness["inferenceRoot"] == proof["inferenceRoot"]
    status = chain.rpc("neuro_getInferenceStatus", [tx_hash])
    assert status["status"] == "included" and status["blockNumber"] == hex(receipt["blockNumber"])
    assert latency < 20


def test_eth_call_runs_the_model_for_real(chain: Chain, consumer: str, mlp_cid: str) -> None:
    features = [250, 1000, -500, 4000]
    before = chain.w3.eth.block_number
    raw = chain.w3.eth.call({"to": consumer, "data": predict_data(mlp_cid, features)})
    assert decode(["int256"], raw)[0] == onnx_first_value(features, 3)
    gas = chain.w3.eth.estimate_gas({"to": consumer, "data": predict_data(mlp_cid, features)})
    assert 50_000 < gas < 3_000_000
    abi = load_artifact("ModelConsumer")
    count = decode(
        ["uint256"], chain.w3.eth.call({"to": consumer, "data": selector(abi, "predictionCount")})
    )[0]
    assert count == 1 and chain.w3.eth.block_number >= before  # nothing was written


def test_invalid_unknown_model_tx_is_dropped_with_the_reason(chain: Chain, consumer: str) -> None:
    unknown = "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    nonce = chain.w3.eth.get_transaction_count(chain.account.address, "pending")
    tx = {
        "chainId": chain.w3.eth.chain_id, "nonce": nonce, "gas": 3_000_000, "to": consumer,
        "data": predict_data(unknown, [1, 2, 3, 4]), "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**8, "type": 2,
    }  # fmt: skip
    tx_hash = chain.w3.eth.send_raw_transaction(chain.account.sign_transaction(tx).raw_transaction)
    end = time.monotonic() + 30
    status = {}
    while time.monotonic() < end:
        status = chain.rpc("neuro_getInferenceStatus", ["0x" + bytes(tx_hash).hex()])
        if status["status"] == "dropped":
            break
        time.sleep(0.1)
    assert status["status"] == "dropped" and "inference failed" in status["reason"]
    assert chain.w3.eth.get_transaction_count(chain.account.address, "pending") == nonce
    response = chain.w3.provider.make_request(  # type: ignore[arg-type]
        "eth_call",
        [{"to": consumer, "data": "0x" + predict_data(unknown, [1, 2, 3, 4]).hex()}, "latest"],
    )
    assert response["error"]["code"] == -32000
    assert response["error"]["message"].startswith("inference failed")
