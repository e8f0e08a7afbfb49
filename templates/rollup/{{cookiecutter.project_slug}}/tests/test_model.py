"""A contract calls an ML model in a transaction; the answer is the model's and is proven.

The model is models/mlp_regressor.onnx (4 float inputs "x", 1 output "y"), uploaded to
the devnet's hub. Predictor (contracts/Predictor.sol) calls it through the inference
precompile; the output it stores must equal what the hub answers off-chain for the same
input, and the block must commit to the signed receipt (Merkle proof against the header).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from hub_client import HubClient, RollupClient
from web3 import Web3

MODEL = Path(__file__).resolve().parents[1] / "models" / "mlp_regressor.onnx"
FEATURES = [500, -1250, 2000, 125]  # with 3 decimals: 0.5, -1.25, 2.0, 0.125
DECIMALS = 3

Send = Callable[[LocalAccount, dict[str, Any]], Any]


@pytest.fixture(scope="module")
def model_cid(hub_url: str, dev_accounts: list[LocalAccount]) -> str:
    """Upload the model as dev account 0 (same bytes, same CID: uploading twice is fine)."""
    with HubClient(hub_url) as hub:
        info = hub.upload_model(MODEL, private_key=dev_accounts[0].key, name="mlp", progress=False)
    return info.cid


def test_contract_stores_the_models_answer_with_a_verifiable_proof(
    w3: Web3,
    send: Send,
    dev_accounts: list[LocalAccount],
    artifact: Callable[[str], Any],
    model_cid: str,
    hub_url: str,
    rpc_url: str,
    chain_config: dict[str, Any],
) -> None:
    abi, bytecode = artifact("Predictor")["abi"], artifact("Predictor")["bytecode"]
    account = dev_accounts[2]
    constructor = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(model_cid, "x")
    deployed = send(account, {"data": constructor.data_in_transaction, "gas": 3_000_000})
    predictor = w3.eth.contract(address=deployed["contractAddress"], abi=abi)

    receipt = send(account, {
        "to": predictor.address,
        "data": predictor.encode_abi("predict", [FEATURES, DECIMALS]),
        "gas": 3_000_000,
    })  # fmt: skip

    assert receipt["status"] == 1
    with HubClient(hub_url) as hub:
        x = np.array([[f / 10**DECIMALS for f in FEATURES]], dtype=np.float32)
        offchain = hub.infer(model_cid, {"x": x}).output.numbers[0].values[0]
    assert predictor.functions.lastValue().call() == offchain.value
    assert predictor.functions.lastDecimals().call() == offchain.decimals
    (event,) = predictor.events.Predicted().process_receipt(receipt)
    assert event["args"]["value"] == offchain.value

    with RollupClient(rpc_url) as rollup:
        proof = rollup.inference_proof(receipt["transactionHash"])
        checked = rollup.verify_inference_proof(
            proof, receipt["blockNumber"], expected_signers=chain_config["inference"]["sprinters"]
        )
    assert checked.block_hash == bytes(receipt["blockHash"])
    assert checked.request_id == bytes(event["args"]["requestId"])
