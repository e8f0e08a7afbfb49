"""The inference precompile through the real path: solc-compiled contracts on a node,
witness receipts signed by a registered sprinter, headers committing to them."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from neurostack.protocol.merkle import merkle_root
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import receipt_leaf
from neurostack.protocol.request import encode_inference_call
from neurostack.protocol.tensors import (
    ModelInput,
    Number,
    NumberTensor,
    decode_model_input,
    decode_model_output,
)
from neurostack.protocol.types import ZERO_HASH32
from sequencer.chain.inference import INFERENCE_PRECOMPILE_ADDRESS, InferencePending
from sequencer.chain.inference.constants import (
    DEFAULT_MAX_OUTPUT_BYTES,
    INFERENCE_BASE_GAS,
    INFERENCE_GAS_PER_BYTE,
    INFERENCE_OUTPUT_GAS_PER_BYTE,
    VERIFY_GAS,
)
from sequencer.errors import ExecutionReverted, InvalidCall

from .conftest import Rig, deploy, selector
from .kit import MODEL_CID, receipt_for, toy_model_output

pytestmark = pytest.mark.slow


def test_contract_uses_verified_output_and_header_commits_to_receipt(rig: Rig) -> None:
    wallet = rig.wallets[1]
    data = rig.predict_data([15, 20])
    request = wallet.requests_of(rig.consumer, data)
    receipt = receipt_for(request)
    rig.feed.witness[request.request_id] = receipt
    tx_hash = wallet.send(rig.consumer, data)
    block = rig.mine()

    assert [t.hash for t in block.transactions] == [tx_hash]
    tx_receipt = rig.receipt_of(block, tx_hash)
    assert tx_receipt.state_root == b"\x01"
    # the contract stored the model's answer: 2 * (1.5 + 2.0) = 7.0, with 1 decimal
    assert rig.read("lastValue", "int256") == 70
    assert rig.read("lastRequestKey", "bytes32") == request.request_id
    (log,) = tx_receipt.logs
    assert log.topics[0] == int.from_bytes(keccak(text="Prediction(bytes32,int256,int128)"), "big")
    assert log.topics[1] == int.from_bytes(request.request_id, "big")
    assert decode(["int256", "int128"], log.data) == (70, 1)
    assert block.header.extra_data == merkle_root([receipt_leaf(receipt)])
    assert rig.feed.blocks[-1].witness == (receipt,)


def test_identical_requests_in_a_block_share_one_receipt(rig: Rig) -> None:
    data = rig.predict_data([7, 8])
    request = rig.wallets[1].requests_of(rig.consumer, data)
    receipt = receipt_for(request)
    rig.feed.witness[request.request_id] = receipt
    hashes = [w.send(rig.consumer, data) for w in rig.wallets[1:3]]
    block = rig.mine()

    assert sorted(t.hash for t in block.transactions) == sorted(hashes)
    assert all(rig.receipt_of(block, h).state_root == b"\x01" for h in hashes)
    executed = rig.feed.blocks[-1]
    assert executed.witness == (receipt,)
    assert block.header.extra_data == merkle_root([receipt_leaf(receipt)])
    assert [len(t.calls) for t in executed.inferences] == [
        1,
        1,
    ]  # each caller made (and paid) a call


def test_simulation_records_the_request_and_halts_before_the_contract_sees_output(rig: Rig) -> None:
    wallet = rig.wallets[1]
    count_before = rig.read("predictionCount", "uint256")
    with pytest.raises(InferencePending) as pending:
        wallet.call(rig.consumer, rig.predict_data([3, 4, 5], decimals=2))
    request = pending.value.request
    assert rig.feed.recorder.requests == [request]
    assert request.model_cid == MODEL_CID and request.mode is InferenceMode.VANILLA
    (tensor,) = decode_model_input(request.input_abi).numbers
    assert tensor == NumberTensor("x", (Number(3, 2), Number(4, 2), Number(5, 2)), (1, 3))
    assert rig.read("predictionCount", "uint256") == count_before


def test_block_without_the_receipt_leaves_the_transaction_pending(rig: Rig) -> None:
    wallet = rig.wallets[3]
    data = rig.predict_data([91, 92])
    tx_hash = wallet.send(rig.consumer, data)
    block = rig.mine()
    assert tx_hash not in [t.hash for t in block.transactions]
    assert block.header.extra_data == ZERO_HASH32
    assert rig.node.transaction(tx_hash).pending  # deferred, not dropped

    request = wallet.requests_of(rig.consumer, data)
    rig.feed.witness[request.request_id] = receipt_for(request)
    block = rig.mine()
    assert tx_hash in [t.hash for t in block.transactions]


def test_eth_call_returns_a_real_output_when_the_recorder_answers(rig: Rig) -> None:
    class Sprinter:
        def on_unknown(self, request):  # the hub, answering synchronously
            return receipt_for(request)

    rig.feed.call_recorder = Sprinter()
    try:
        raw = rig.wallets[1].call(rig.consumer, rig.predict_data([10, 11, 12]))
    finally:
        rig.feed.call_recorder = None
    assert decode(["int256"], raw) == (2 * (10 + 11 + 12),)


def test_two_models_in_sequence_second_fed_by_first(rig: Rig, contracts) -> None:
    chained_abi = contracts["ChainedModels"]
    chained = deploy(
        rig.node, rig.wallets[0], chained_abi, ["string", "string", "uint8"], ["x", "x", 0]
    )
    data = selector(chained_abi, "run") + encode(
        ["string", "string", "int128[]", "int128"], [MODEL_CID, MODEL_CID, [1, 2], 0]
    )
    wallet = rig.wallets[2]
    first = wallet.requests_of(chained, data)
    rig.feed.witness[first.request_id] = receipt_for(first)  # "stitch": re-simulate
    second = wallet.requests_of(chained, data)
    assert second.request_id != first.request_id
    rig.feed.witness[second.request_id] = receipt_for(second)
    tx_hash = wallet.send(chained, data)
    block = rig.mine()

    assert rig.receipt_of(block, tx_hash).state_root == b"\x01"
    assert decode(["int256"], wallet.call(chained, selector(chained_abi, "lastValue"))) == (12,)
    assert [r.request_id for r in rig.feed.blocks[-1].witness] == [
        first.request_id,
        second.request_id,
    ]


def test_invalid_mode_not_accepted_by_the_chain_reverts_catchably(rig: Rig, contracts) -> None:
    zk_consumer = deploy(rig.node, rig.wallets[0], contracts["ModelConsumer"], ["string", "uint8"],
                         ["x", InferenceMode.ZK])  # fmt: skip
    with pytest.raises(ExecutionReverted, match="inference mode ZK is not accepted on this chain"):
        rig.wallets[1].call(zk_consumer, rig.predict_data([1]))


def test_invalid_model_cid_reverts(rig: Rig) -> None:
    with pytest.raises(ExecutionReverted, match="invalid inference request"):
        rig.wallets[1].call(rig.consumer, rig.predict_data([1], cid="not-a-cid"))


def test_gas_charged_is_base_plus_bytes_plus_verify_plus_model_gas_plus_output(rig: Rig) -> None:
    """An EOA calls 0x…F4 directly (as `cast send` would): gasUsed is intrinsic + the formula."""
    model_input = ModelInput(numbers=(NumberTensor("x", (Number(5, 0),), (1, 1)),))
    calldata = encode_inference_call(InferenceMode.VANILLA, MODEL_CID, model_input)
    wallet = rig.wallets[1]
    request = wallet.requests_of(INFERENCE_PRECOMPILE_ADDRESS, calldata)
    receipt = receipt_for(request)
    rig.feed.witness[request.request_id] = receipt
    tx_hash = wallet.send(INFERENCE_PRECOMPILE_ADDRESS, calldata)
    block = rig.mine()
    tx = rig.node.transaction(tx_hash).tx

    tx_receipt = rig.receipt_of(block, tx_hash)
    previous = (
        rig.node.receipts(block)[block.transactions.index(tx) - 1].gas_used
        if block.transactions.index(tx)
        else 0
    )
    expected = (
        tx.intrinsic_gas + INFERENCE_BASE_GAS + len(calldata) * INFERENCE_GAS_PER_BYTE
        + VERIFY_GAS[InferenceMode.VANILLA] + rig.node.config.inference.default_model_gas
        + len(receipt.output) * INFERENCE_OUTPUT_GAS_PER_BYTE
    )  # fmt: skip
    assert INFERENCE_OUTPUT_GAS_PER_BYTE >= 16  # at least what calldata's bytes cost
    assert tx_receipt.gas_used - previous == expected
    assert decode_model_output(receipt.output) == decode_model_output(toy_model_output(request))


def test_invalid_gas_limit_below_the_model_price_fails_without_a_request(rig: Rig) -> None:
    """The signed gas limit caps inference spend: too little gas stops before any request."""
    data = rig.predict_data([44, 45])
    rig.feed.recorder.requests.clear()
    # 100,000 gas reaches the precompile but cannot pay its ~86,000 (50,000 of it model gas)
    with pytest.raises(ExecutionReverted):
        rig.wallets[1].call(rig.consumer, data, gas=100_000)
    assert rig.feed.recorder.requests == []
    with pytest.raises(InferencePending):
        rig.wallets[1].call(rig.consumer, data, gas=200_000)


def _big_output(values: int) -> bytes:
    """A ModelOutput of ``values`` numbers (about 64 bytes each in ABI)."""
    from neurostack.protocol.tensors import ModelOutput, encode_model_output

    numbers = tuple(Number(i, 0) for i in range(values))
    return encode_model_output(ModelOutput(numbers=(NumberTensor("y", numbers, (1, values)),)))


def _direct_call(value: int) -> bytes:
    model_input = ModelInput(numbers=(NumberTensor("x", (Number(value, 0),), (1, 1)),))
    return encode_inference_call(InferenceMode.VANILLA, MODEL_CID, model_input)


def test_output_over_the_chains_cap_reverts_after_paying_for_job_and_bytes(rig: Rig) -> None:
    """An output longer than [inference] max_output_bytes: the call reverts with the reason,
    having paid the model gas (the sprinter is paid) and every byte (the receipt is in the
    block's witness, which stays bounded by gas)."""
    wallet = rig.wallets[1]
    calldata = _direct_call(901)
    request = wallet.requests_of(INFERENCE_PRECOMPILE_ADDRESS, calldata)
    output = _big_output(DEFAULT_MAX_OUTPUT_BYTES // 64 + 10)
    assert len(output) > DEFAULT_MAX_OUTPUT_BYTES
    receipt = receipt_for(request, output=output)
    rig.feed.witness[request.request_id] = receipt
    with pytest.raises(ExecutionReverted, match="model output too large: .* at most 65536"):
        wallet.call(INFERENCE_PRECOMPILE_ADDRESS, calldata, gas=3_000_000)
    sprinter_before = rig.node.state_at(rig.node.head().header.block_number).get_balance(
        receipt.sprinter
    )
    tx_hash = wallet.send(INFERENCE_PRECOMPILE_ADDRESS, calldata, gas=3_000_000)
    block = rig.mine()
    tx = rig.node.transaction(tx_hash).tx
    index = block.transactions.index(tx)
    receipts = rig.node.receipts(block)
    used = receipts[index].gas_used - (receipts[index - 1].gas_used if index else 0)
    assert receipts[index].state_root == b""  # reverted
    assert used >= len(output) * INFERENCE_OUTPUT_GAS_PER_BYTE + INFERENCE_BASE_GAS
    assert rig.feed.blocks[-1].witness[-1] == receipt
    sprinter_after = rig.node.state_at(block.header.block_number).get_balance(receipt.sprinter)
    assert sprinter_after > sprinter_before  # the job was paid for


def test_a_call_without_gas_for_its_output_cannot_use_the_receipt(rig: Rig) -> None:
    """Gas covering the base and model gas but not the output bytes: eth_call says out of
    gas, and the transaction stays out of blocks (a receipt never enters a witness unpaid)."""
    wallet = rig.wallets[2]
    calldata = _direct_call(902)
    request = wallet.requests_of(INFERENCE_PRECOMPILE_ADDRESS, calldata)
    output = _big_output(DEFAULT_MAX_OUTPUT_BYTES // 64 - 20)
    receipt = receipt_for(request, output=output)
    rig.feed.witness[request.request_id] = receipt
    with pytest.raises(InvalidCall, match="out of gas: the model output .* raise the gas limit"):
        wallet.call(INFERENCE_PRECOMPILE_ADDRESS, calldata, gas=200_000)
    assert len(wallet.call(INFERENCE_PRECOMPILE_ADDRESS, calldata, gas=2_000_000)) == len(output)
    tx_hash = wallet.send(INFERENCE_PRECOMPILE_ADDRESS, calldata, gas=200_000)
    block = rig.mine()
    assert tx_hash not in [t.hash for t in block.transactions]
    assert receipt not in rig.feed.blocks[-1].witness
    assert rig.node.drop_transaction(tx_hash)  # (no PIPE here to drop it: free the nonce)
    wallet.nonce -= 1
