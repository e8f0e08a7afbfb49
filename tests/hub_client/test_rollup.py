"""RollupClient against a scripted node (httpx MockTransport): proofs checked locally.

The receipts are real (signed with ``make_receipt``), the header is a real py-evm Prague
header rendered by the node's own formatter, so a proof that passes here passes against
a node; the end-to-end tests (tests/e2e) run the same checks against the real stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_keys import keys

from hub_client import (
    InferenceDropped,
    InferenceNotFound,
    ProofInvalid,
    ReceiptInvalid,
    RollupClient,
    RollupUnavailable,
    RpcError,
)
from neurostack.protocol.cid import model_cid, model_hash
from neurostack.protocol.merkle import merkle_root
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import make_receipt, receipt_leaf
from neurostack.protocol.tensors import (
    ModelOutput,
    Number,
    NumberTensor,
    encode_model_input,
    encode_model_output,
    model_input_from_json,
)
from sequencer.chain.inference import inference_proof, proof_to_json
from sequencer.rpc.formatters import format_header

CHAIN_ID = 4242
SPRINTER = bytes.fromhex("22" * 32)
MODEL = b"a model file"
BLOCK_TIME = 1_900_000_000
URL = "http://node.test"


def receipt(i: int, *, expiry: int = BLOCK_TIME + 60, chain_id: int = CHAIN_ID) -> Any:
    out = ModelOutput(numbers=(NumberTensor("y", (Number(7 * i, 2),), (1, 1)),))
    return make_receipt(
        chain_id=chain_id, model_cid=model_cid(MODEL), model_hash=model_hash(MODEL),
        mode=InferenceMode.VANILLA, input_abi=encode_model_input(model_input_from_json({"x": [i]})),
        output_abi=encode_model_output(out), expiry=expiry, private_key=SPRINTER,
    )  # fmt: skip


def block_of(receipts: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A header committing to ``receipts`` and the proof of the second one, as JSON."""
    root = merkle_root([receipt_leaf(r) for r in receipts])
    header = PragueBlockHeader(
        difficulty=0, block_number=7, gas_limit=30_000_000, timestamp=BLOCK_TIME,
        extra_data=root, base_fee_per_gas=10**9, withdrawals_root=b"\x02" * 32,
        blob_gas_used=0, excess_blob_gas=0, parent_beacon_block_root=b"\x00" * 32,
        requests_hash=b"\x01" * 32,
    )  # fmt: skip
    header_json = format_header(header)
    proof = proof_to_json(inference_proof(receipts, receipts[1].request_id))
    proof.update(blockNumber=header_json["number"], blockHash=header_json["hash"])
    return header_json, proof


def node(handlers: dict[str, Callable[..., Any]]) -> RollupClient:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method = body["method"]
        if method not in handlers:
            error = {"code": -32601, "message": f"the method {method} does not exist"}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": error})
        result = handlers[method](*body["params"])
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    return RollupClient(URL, transport=httpx.MockTransport(handle))


def chain_info(*_: Any) -> dict[str, Any]:
    return {"chainId": CHAIN_ID, "name": "t", "blockTime": 1.0,
            "token": {"name": "Neuro", "symbol": "NEURO", "decimals": 18}}  # fmt: skip


@pytest.fixture
def committed() -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    receipts = [receipt(i) for i in range(3)]
    header, proof = block_of(receipts)
    return header, proof, receipts


def client_for(header: dict[str, Any], proof: dict[str, Any]) -> RollupClient:
    return node({
        "neuro_chainInfo": chain_info,
        "eth_getBlockByNumber": lambda number, full: header if number == header["number"] else None,
        "neuro_getInferenceProof": lambda key: proof,
    })  # fmt: skip


def test_a_committed_receipt_verifies_against_its_header(committed: Any) -> None:
    header, proof_json, receipts = committed
    with client_for(header, proof_json) as rollup:
        proof = rollup.inference_proof("0x" + "ab" * 32)
        checked = rollup.verify_inference_proof(proof)

    assert checked.receipt == receipts[1]
    assert checked.sprinter == keys.PrivateKey(SPRINTER).public_key.to_canonical_address()
    assert checked.block_number == 7 and "0x" + checked.block_hash.hex() == header["hash"]
    assert checked.arrays()["y"].tolist() == [[0.07]]


def test_a_receipt_expired_now_but_valid_at_its_block_still_verifies(committed: Any) -> None:
    receipts = [receipt(i, expiry=BLOCK_TIME) for i in range(2)]  # long past in real time
    header, proof = block_of(receipts)
    with client_for(header, proof) as rollup:
        assert rollup.verify_inference_proof(proof).block_number == 7


def test_expected_signers_pin_the_sprinter(committed: Any) -> None:
    header, proof, _ = committed
    with (
        client_for(header, proof) as rollup,
        pytest.raises(ReceiptInvalid, match="not an expected signer"),
    ):
        rollup.verify_inference_proof(proof, expected_signers=["0x" + "11" * 20])


def test_invalid_output_changed_after_signing_is_rejected(committed: Any) -> None:
    header, proof, _ = committed
    proof["receipt"]["output"] = proof["receipt"]["output"][:-2] + "ff"
    with client_for(header, proof) as rollup, pytest.raises(ReceiptInvalid):
        rollup.verify_inference_proof(proof)


def test_invalid_branch_is_rejected(committed: Any) -> None:
    header, proof, _ = committed
    proof["branch"][0] = "0x" + "00" * 32
    with client_for(header, proof) as rollup, pytest.raises(ProofInvalid, match="Merkle branch"):
        rollup.verify_inference_proof(proof)


def test_invalid_receipt_of_another_block_is_rejected(committed: Any) -> None:
    _, proof, _ = committed
    other_header, _ = block_of([receipt(i) for i in range(5, 8)])
    with client_for(other_header, proof) as rollup, pytest.raises(ProofInvalid, match="extraData"):
        rollup.verify_inference_proof(proof, rollup.header(7))


def test_invalid_altered_header_is_rejected(committed: Any) -> None:
    header, proof, _ = committed
    forged = {**header, "stateRoot": "0x" + "66" * 32}  # hash kept: fields no longer match it
    with client_for(forged, proof) as rollup, pytest.raises(ProofInvalid, match="do not hash"):
        rollup.verify_inference_proof(proof)


def test_invalid_receipt_for_another_chain_is_rejected(committed: Any) -> None:
    receipts = [receipt(i, chain_id=CHAIN_ID + 1) for i in range(2)]
    header, proof = block_of(receipts)
    with client_for(header, proof) as rollup, pytest.raises(ReceiptInvalid, match="chain"):
        rollup.verify_inference_proof(proof)


def test_verification_is_offline_given_a_trusted_header(committed: Any) -> None:
    header, proof_json, _ = committed
    with client_for(header, proof_json) as rollup:
        trusted = rollup.header(7)
    with node({"neuro_chainInfo": chain_info}) as offline:  # serves no blocks, no proofs
        assert offline.verify_inference_proof(proof_json, trusted).block_number == 7


def test_no_receipt_yet_is_inference_not_found() -> None:
    with (
        node({"neuro_getInferenceProof": lambda key: None}) as rollup,
        pytest.raises(InferenceNotFound, match="still be pending"),
    ):
        rollup.inference_proof(b"\x01" * 32)


def test_dropped_transaction_raises_with_the_nodes_reason() -> None:
    status = {"status": "dropped", "reason": "inference deadline passed", "requests": []}
    with (
        node({"neuro_getInferenceStatus": lambda h: status}) as rollup,
        pytest.raises(InferenceDropped, match="deadline passed") as caught,
    ):
        rollup.wait_for_inference("0x" + "cd" * 32, timeout=1)
    assert caught.value.reason == "inference deadline passed"


def test_waiting_returns_the_included_status() -> None:
    answers = iter([{"status": "dispatched", "requests": []}, {"status": "included",
                    "blockNumber": "0x9", "requests": []}])  # fmt: skip
    with node({"neuro_getInferenceStatus": lambda h: next(answers)}) as rollup:
        status = rollup.wait_for_inference("0x" + "cd" * 32, timeout=5)
    assert status.status == "included" and status.block_number == 9


def test_invalid_json_rpc_error_is_typed_with_its_code() -> None:
    with node({}) as rollup, pytest.raises(RpcError, match="Neuro Stack node") as caught:
        rollup.chain_info()
    assert caught.value.code == -32601


def test_invalid_unreachable_node_says_what_to_do() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with (
        RollupClient(URL, transport=httpx.MockTransport(refuse)) as rollup,
        pytest.raises(RollupUnavailable, match="neurostack up"),
    ):
        rollup.chain_info()


def test_invalid_hash_argument_is_refused_locally() -> None:
    with node({}) as rollup, pytest.raises(ValueError, match="32-byte"):
        rollup.inference_status("0x1234")
