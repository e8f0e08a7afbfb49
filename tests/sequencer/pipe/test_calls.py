"""eth_call / eth_estimateGas of model-calling contracts: real inference through the backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import decode, encode

from neurostack.solidity import CompiledContract
from sequencer.pipe import InferenceFailed, InferenceTimedOut, NoInference
from sequencer.rpc.dispatch import error_from_exception
from sequencer.types import CallParams

from .kit import MODEL_CID, FakeBackend, Pipe, open_pipe, selector


def predict(abi: CompiledContract, features: list[int]) -> bytes:
    return selector(abi, "predict") + encode(
        ["string", "int128[]", "int128"], [MODEL_CID, features, 0]
    )


def test_eth_call_returns_the_model_output_and_warms_the_receipt_cache(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    pipe.backend.auto = True
    wallet = pipe.wallets[1]
    data = predict(consumer_abi, [4, 5, 6])
    assert decode(["int256"], wallet.call(consumer, data))[0] == 30
    gas = pipe.node.estimate_gas(CallParams(sender=wallet.address, to=consumer, data=data))
    assert gas > pipe.node.config.inference.default_model_gas
    assert len(pipe.backend.submitted) == 1  # the estimate reused the call's receipt
    assert pipe.read(consumer_abi, consumer, "predictionCount", "uint256") == 0

    tx_hash = wallet.send(consumer, data, gas=gas)  # sent after the call: ready at once
    pipe.settle()
    assert pipe.status(tx_hash) == "ready"
    assert len(pipe.backend.submitted) == 1
    assert tx_hash in [t.hash for t in pipe.mine().transactions]


def test_invalid_eth_call_of_a_failing_job_is_a_clear_error(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    pipe.pool.backend = NoInference()
    with pytest.raises(InferenceFailed, match="inference failed: .*no inference backend") as info:
        pipe.wallets[1].call(consumer, predict(consumer_abi, [1]))
    error = error_from_exception(info.value).to_json()
    assert error["code"] == -32000 and error["message"].startswith("inference failed:")


def test_invalid_eth_call_times_out_with_a_clear_error(
    tmp_path: Path, consumer_abi: CompiledContract
) -> None:
    pipe = open_pipe(tmp_path, FakeBackend(), deadline=0.3)  # nobody answers
    try:
        consumer = pipe.deploy(consumer_abi, ["string", "uint8"], ["x", 0])
        with pytest.raises(InferenceTimedOut) as info:
            pipe.wallets[1].call(consumer, predict(consumer_abi, [9]))
        error = error_from_exception(info.value).to_json()
        assert error["code"] == -32000
        assert error["message"].startswith("inference timed out:") and "0.3 s" in error["message"]
    finally:
        pipe.close()
