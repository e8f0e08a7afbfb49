"""Example 01 against the shared devnet: the stored answer is the model's, the proof holds."""

from __future__ import annotations

from pathlib import Path

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example


@pytest.mark.slow
def test_contract_stores_the_models_output_and_its_proof_verifies(
    devnet: _kit.Devnet,
) -> None:
    result = run_example(devnet, "01_hello_inference", "--features", "1.5,-0.5,0.25,2")

    assert result.receipt.status == 1
    # The model's answer, exactly as onnxruntime computes it here (18 decimals, half-even).
    assert result.stored == result.local
    assert result.stored.decimals == 18
    (call,) = result.receipt.inferences
    assert call.model_cid == result.cid and call.mode == "VANILLA"
    # The light client tied the signed receipt to the block header the chain published and
    # proved the signer's admission from the registry.
    assert "0x" + result.verified.request_id.hex() == call.request_id
    assert "0x" + result.verified.block_hash.hex() == result.receipt.block_hash
    assert "0x" + result.verified.sprinter.hex() == call.sprinter.lower()
    assert result.admitted and "sprinter" in result.verified.admission
    # The event names the receipt: clients find the proof from the log alone.
    hello = devnet.rollup.contract(result.contract, load("01_hello_inference").ARTIFACT)
    (event,) = hello.events("Predicted", result.receipt)
    assert "0x" + event["requestId"].hex() == call.request_id
    assert (event["value"], event["decimals"]) == (result.stored.value, result.stored.decimals)
    assert hello.call("lastRequestId") == event["requestId"]
    assert hello.call("predictions") == 1
    assert_gas_as_catalogued("01_hello_inference", {
        "deploy": result.deployment.gas_used, "predict": result.receipt.gas_used,
    })  # fmt: skip


def test_invalid_features_are_refused_with_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load("01_hello_inference")
    code = module.main(["--config", str(tmp_path / "chain.toml"), "--features", "1,2"])

    assert code == 1
    assert "takes 4 numbers" in capsys.readouterr().err
