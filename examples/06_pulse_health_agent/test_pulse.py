"""Example 06 against the shared devnet: alerts follow the anomaly model and the user's own
threshold; only the user administers her profile; researchers pay her, exactly."""

from __future__ import annotations

from typing import Any

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example
from hub_client import ContractReverted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pulse_run(devnet: _kit.Devnet) -> Any:
    return run_example(devnet, "06_pulse_health_agent")


def test_alerts_fire_for_anomalous_vitals_and_not_for_normal_ones(pulse_run: Any) -> None:
    result = pulse_run
    module = load("06_pulse_health_agent")
    by_label = {(r.label, r.alert_bps): r for r in result.readings}
    for label in ("resting", "after a walk"):
        normal = by_label[(label, module.ALERT_BPS)]
        assert not normal.alerted and normal.anomaly_bps < 100
        assert normal.receipt.logs == ()  # no Alert event at all
    for label in ("feverish (38.2 °C)", "racing heart (150 bpm)"):
        assert by_label[(label, module.ALERT_BPS)].alerted
    # The same borderline reading no longer alerts once Alice raised her threshold above
    # its score: the user's threshold, not a fixed one, decides.
    fever = by_label[("feverish (38.2 °C)", module.CAUTIOUS_BPS)]
    assert module.ALERT_BPS <= fever.anomaly_bps < module.CAUTIOUS_BPS and not fever.alerted
    # Alerts are events indexed by the user's address: her wallet filters on it.
    alerted = [r for r in result.readings if r.alerted]
    assert [a["anomalyBps"] for a in result.alerts] == [r.anomaly_bps for r in alerted]
    assert {a["user"] for a in result.alerts} == {result.user}
    assert result.pulse.logs("Alert", user=result.researcher) == []


def test_the_researchers_payment_goes_to_the_user_exactly(
    pulse_run: Any, devnet: _kit.Devnet
) -> None:
    result = pulse_run
    module = load("06_pulse_health_agent")
    sale = result.sale
    before = devnet.rollup.balance(result.user, sale.block_number - 1)
    after = devnet.rollup.balance(result.user, sale.block_number)
    assert after - before == module.INSIGHT_FEE
    (sold,) = result.pulse.events("InsightsSold", sale)
    assert sold["readings"] == len(result.readings) and sold["alerts"] == 2
    assert_gas_as_catalogued("06_pulse_health_agent", result.gas)


def test_invalid_strangers_cannot_administer_or_buy(pulse_run: Any) -> None:
    result = pulse_run
    refused = result.refused
    user = result.user
    assert refused["a stranger changes Alice's threshold"].startswith(f"NotUser({user}, ")
    assert refused["Alice's wearable changes her threshold"] == (
        f"NotUser({user}, {result.device})"
    )
    assert refused["a stranger grants himself access"].startswith(f"NotUser({user}, ")
    assert refused["a stranger submits vitals for Alice"].startswith(f"NotDevice({user}, ")
    assert refused["an ungranted researcher buys insights"] == (
        f"NotGranted({user}, {result.researcher})"
    )


def test_invalid_mined_attempts_change_nothing(pulse_run: Any, devnet: _kit.Devnet) -> None:
    """Sent with a fixed gas limit (no estimate to stop them), the attempts are mined,
    revert, and leave the profile as it was."""
    result = pulse_run
    module = load("06_pulse_health_agent")
    pulse, user = result.pulse, result.user
    stranger, device = devnet.accounts[4], devnet.accounts[2]
    before = pulse.call("profiles", user)
    for account, fn, args, value in (
        (stranger, "setThreshold", (user, 1), 0),
        (stranger, "setDevice", (user, stranger.address), 0),
        (stranger, "setInsightFee", (user, 0), 0),
        (device, "grant", (user, device.address, True), 0),
    ):
        with pytest.raises(ContractReverted, match=r"NotUser") as refused:
            pulse.transact(account, fn, *args, value=value, gas=200_000)
        assert refused.value.receipt is not None and refused.value.receipt.status == 0
    # A granted researcher paying the wrong fee, and one whose grant was revoked.
    researcher = devnet.accounts[3]
    with pytest.raises(ContractReverted, match=r"WrongFee\(10000000000000000, 1\)"):
        pulse.transact(researcher, "buyInsights", user, value=1, gas=200_000)
    pulse.transact(devnet.accounts[1], "grant", user, researcher.address, False)
    with pytest.raises(ContractReverted, match=r"NotGranted"):
        pulse.transact(researcher, "buyInsights", user, value=module.INSIGHT_FEE)
    assert pulse.call("profiles", user) == before
    assert not pulse.call("granted", user, stranger.address)
