"""The inference precompile through the real path: solc-compiled ModelConsumer on a node,
a witness receipt signed by a registered sprinter, the block's header committing to it."""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import function_abi_to_4byte_selector, keccak

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import receipt_leaf
from neurostack.protocol.merkle import merkle_root

from .conftest import Rig, deploy
from .kit import MODEL_CID, receipt_for, toy_model_output


def _selector(contract, name: str) -> bytes:
    abi = next(f for f in contract.abi if f.get("name") == name and f["type"] == "function")
    return function_abi_to_4byte_selector(abi)


def predict_data(contract, features: list[int], decimals: int = 1, cid: str = MODEL_CID) -> bytes:
    from eth_abi import encode

    return _selector(contract, "predict") + encode(["string", "int128[]", "int128"], [cid, features, decimals])


def read(rig: Rig, contract, address: bytes, name: str, out: str):
    from sequencer.types import CallParams

    raw = rig.node.call(CallParams(to=address, data=_selector(contract, name)))
    return decode([out], raw)[0]


@pytest.mark.slow
def test_contract_uses_verified_output_and_header_commits_to_receipt(rig: Rig, consumer_contract) -> None:
    consumer = deploy(rig, consumer_contract, ["string", "uint8"], ["x", InferenceMode.VANILLA])
    wallet = rig.wallets[1]
    data = predict_data(consumer_contract, [15, 20])
    request = wallet.requests_of(consumer, data)
    receipt = receipt_for(request)
    rig.hooks.witness[request.request_id] = receipt
    tx_hash = wallet.send(consumer, data)
    block = rig.node.mine()

    assert [t.hash for t in block.transactions] == [tx_hash]
    tx_receipt = rig.node.receipts(block)[0]
    assert tx_receipt.state_root == b"\x01"
    # the contract stored the model's answer: 2 * (1.5 + 2.0) = 7.0 with 1 decimal
    assert read(rig, consumer_contract, consumer, "lastValue", "int256") == 70
    assert read(rig, consumer_contract, consumer, "lastRequestKey", "bytes32") == request.request_id
    (log,) = tx_receipt.logs
    assert log.topics[0] == int.from_bytes(keccak(text="Prediction(bytes32,int256,int128)"), "big")
    assert decode(["int256", "int128"], log.data) == (70, 1)
    # the header's extraData is the Merkle root of the block's receipts
    assert block.header.extra_data == merkle_root([receipt_leaf(receipt)])
    assert toy_model_output(request) == receipt.output
