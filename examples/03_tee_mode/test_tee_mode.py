"""Example 03 against the shared devnet: TEE-mode results from attested keys only."""

from __future__ import annotations

from pathlib import Path

import _kit
import pytest

from conftest import assert_gas_as_catalogued, run_example
from sequencer.config import load_chain_config

pytestmark = pytest.mark.slow


def test_tee_mode_results_are_signed_by_attested_keys_and_screen_payments(
    devnet_project: Path, devnet: _kit.Devnet
) -> None:
    result = run_example(devnet, "03_tee_mode")

    ordinary, suspicious = result.screenings
    # The model decides: the ordinary payment passes, the suspicious one is flagged, each
    # with the probability onnxruntime computes here.
    assert not ordinary.flagged and ordinary.fraud_bps < 500
    assert suspicious.flagged and suspicious.fraud_bps > 9000
    assert all(s.fraud_bps == s.local_bps for s in result.screenings)
    genesis_tee_keys = {e.key for e in load_chain_config(devnet_project / "chain.toml")
                        .inference.tee_keys}  # fmt: skip
    for screening in result.screenings:
        (call,) = screening.receipt.inferences
        assert call.mode == "TEE"
        assert call.sprinter in genesis_tee_keys  # admitted by an attestation in genesis
        measurement, attested_at, active = result.tee_keys[call.sprinter]
        assert active and attested_at > 0
        assert devnet.registry().call("isMeasurementApproved", measurement)
        assert screening.verified.receipt.mode.name == "TEE"
    assert_gas_as_catalogued("03_tee_mode", {
        "deploy": result.deployment.gas_used,
        "screen (TEE)": result.screenings[1].receipt.gas_used,
    })  # fmt: skip
