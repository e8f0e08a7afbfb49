"""The neuro_* inference methods and the receipts' ``inferences`` field, through the dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_abi import encode

from neurostack.protocol import receipt_from_json, receipt_leaf, verify_merkle_branch
from neurostack.solidity import CompiledContract
from sequencer.node import Node
from sequencer.pipe import attach
from sequencer.rpc.server import create_app

from .kit import MODEL_CID, FakeBackend, Pipe, open_pipe, selector

ZERO = "0x" + "00" * 32


def rpc(node: Node, method: str, *params: Any) -> Any:
    reply = create_app(node).state.dispatcher.handle(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    )
    return reply.get("result", reply.get("error"))


def hexb(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def include_one(
    pipe: Pipe, consumer: bytes, abi: CompiledContract, features: list[int]
) -> tuple[bytes, Any]:
    data = selector(abi, "predict") + encode(
        ["string", "int128[]", "int128"], [MODEL_CID, features, 0]
    )
    tx_hash = pipe.wallets[1].send(consumer, data)
    pipe.settle()
    pipe.backend.answer()
    block = pipe.mine()
    assert tx_hash in [t.hash for t in block.transactions]
    return tx_hash, block


def test_witness_proof_status_and_receipt_field(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    tx_hash, block = include_one(pipe, consumer, consumer_abi, [1, 1])
    node = pipe.node
    witness = rpc(node, "neuro_getInferenceWitness", hex(block.header.block_number))
    assert witness["blockHash"] == hexb(block.hash)
    assert witness["inferenceRoot"] == hexb(block.header.extra_data) != ZERO
    (receipt_json,) = witness["receipts"]

    by_tx = rpc(node, "neuro_getInferenceProof", hexb(tx_hash))
    by_request = rpc(node, "neuro_getInferenceProof", receipt_json["requestId"])
    assert by_tx == by_request
    assert by_tx["receipt"] == receipt_json and by_tx["blockNumber"] == hex(
        block.header.block_number
    )
    leaf = receipt_leaf(receipt_from_json(by_tx["receipt"]))
    assert verify_merkle_branch(
        leaf, [], by_tx["index"], block.header.extra_data, by_tx["leafCount"]
    )

    tx_receipt = rpc(node, "eth_getTransactionReceipt", hexb(tx_hash))
    (call,) = tx_receipt["inferences"]
    assert call["requestId"] == receipt_json["requestId"] and call["modelCID"] == MODEL_CID
    (block_receipt,) = rpc(node, "eth_getBlockReceipts", hex(block.header.block_number))
    assert block_receipt["inferences"] == tx_receipt["inferences"]

    status = rpc(node, "neuro_getInferenceStatus", hexb(tx_hash))
    assert status["status"] == "included" and status["requests"][0]["state"] == "resolved"


def test_plain_transactions_and_blocks_without_inference(pipe: Pipe) -> None:
    node = pipe.node
    transfer = pipe.wallets[1].send(pipe.wallets[2].address, b"", gas=21_000, value=1)
    assert rpc(node, "neuro_getInferenceStatus", hexb(transfer)) == {
        "status": "ready",
        "requests": [],
    }
    block = pipe.mine()
    assert "inferences" not in rpc(node, "eth_getTransactionReceipt", hexb(transfer))
    witness = rpc(node, "neuro_getInferenceWitness", "latest")
    assert witness["receipts"] == [] and witness["inferenceRoot"] == ZERO
    assert witness["blockNumber"] == hex(block.header.block_number)
    assert rpc(node, "neuro_getInferenceProof", hexb(transfer)) is None
    assert rpc(node, "neuro_getInferenceStatus", "0x" + "ab" * 32) is None
    assert rpc(node, "neuro_getInferenceProof", "0x" + "ab" * 32) is None


def test_invalid_witness_of_a_future_block_is_header_not_found(pipe: Pipe) -> None:
    assert rpc(pipe.node, "neuro_getInferenceWitness", "0x999") == {
        "code": -32000, "message": "header not found",
    }  # fmt: skip


def test_parked_status_lists_the_pending_request(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    data = selector(consumer_abi, "predict") + encode(
        ["string", "int128[]", "int128"], [MODEL_CID, [3], 0]
    )
    tx_hash = pipe.wallets[1].send(consumer, data)
    pipe.settle()
    (job,) = pipe.backend.open_jobs()
    assert rpc(pipe.node, "neuro_getInferenceStatus", hexb(tx_hash)) == {
        "status": "dispatched",
        "requests": [
            {
                "requestId": hexb(job.request_id),
                "modelCID": MODEL_CID,
                "mode": "VANILLA",
                "state": "pending",
            }
        ],
    }
    assert rpc(pipe.node, "neuro_getInferenceProof", hexb(tx_hash)) is None


def test_restart_serves_witness_and_status_from_the_chain(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path)
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        tx_hash, block = include_one(pipe, consumer, consumer_abi, [2, 2])
        before = rpc(pipe.node, "neuro_getInferenceWitness", hex(block.header.block_number))
        proof = rpc(pipe.node, "neuro_getInferenceProof", hexb(tx_hash))
    finally:
        pipe.close()
    node = Node(pipe.node.config)
    pool = attach(node, FakeBackend())
    try:
        assert rpc(node, "neuro_getInferenceWitness", hex(block.header.block_number)) == before
        assert rpc(node, "neuro_getInferenceProof", hexb(tx_hash)) == proof
        status = rpc(node, "neuro_getInferenceStatus", hexb(tx_hash))
        assert status["status"] == "included"
        assert [r["requestId"] for r in status["requests"]] == [proof["receipt"]["requestId"]]
    finally:
        pool.close()
        node.stop()
