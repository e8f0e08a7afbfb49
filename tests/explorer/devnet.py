"""A devnet with history for the browser tests and the screenshots: the real stack
(node process + PIPE + Celery over embedded Redis + hub + sprinter processes running
onnxruntime) with transfers, a contract, a registered model and inference transactions."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from neurostack.protocol.cid import cid_digest
from neurostack.protocol.registry import REGISTRY_ADDRESS
from tests.e2e.models import DECIMALS, FEATURES
from tests.e2e.stack import GWEI, RollupStack, selector

DEAD = "0x000000000000000000000000000000000000dEaD"
MODEL_GAS = 60_000
ROYALTY_BPS = 1_500


@dataclass
class History:
    cid: str
    consumer: str
    storage: str
    transfer: str
    predict: str
    predict_block: int
    request_id: str
    model_owner: str


def predict_data(cid: str, features: list[int] = FEATURES) -> bytes:
    return selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, DECIMALS]
    )


def register_model(stack: RollupStack, cid: str, owner: str) -> None:
    """The chain owner (the sequencer key) registers ``cid`` with a price and a royalty."""
    from eth_account import Account

    key = (stack.project / "keys" / "sequencer.key").read_text().strip()
    sequencer = Account.from_key(key)
    stack.transact(stack.accounts[0], sequencer.address, value=10**18, gas=21_000)
    data = keccak(text="registerModel(string,bytes32,address,uint64,uint16)")[:4] + encode(
        ["string", "bytes32", "address", "uint64", "uint16"],
        [cid, bytes(cid_digest(cid)), owner, MODEL_GAS, ROYALTY_BPS],
    )
    receipt = stack.transact(sequencer, "0x" + bytes(REGISTRY_ADDRESS).hex(), data, gas=200_000)
    assert receipt["status"] == "0x1", receipt


def populate(stack: RollupStack) -> History:
    cid = stack.upload_sample("mlp_regressor")
    owner = stack.accounts[5].address
    register_model(stack, cid, owner)
    consumer = stack.deploy("ModelConsumer", "x", 0)
    storage = stack.deploy("SimpleStorage", 7)
    transfer = stack.transact(stack.accounts[1], DEAD, value=GWEI * 10**6, gas=21_000)
    receipt = stack.transact(stack.accounts[2], consumer, predict_data(cid))
    assert receipt["status"] == "0x1", receipt
    return History(
        cid=cid,
        consumer=consumer,
        storage=storage,
        transfer=transfer["transactionHash"],
        predict=receipt["transactionHash"],
        predict_block=int(receipt["blockNumber"], 16),
        request_id=receipt["inferences"][0]["requestId"],
        model_owner=owner,
    )
