"""Example 08 against the shared devnet: only the owner's key publishes; the current
version answers; apps pay the owner exactly."""

from __future__ import annotations

from typing import Any

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example
from hub_client import ContractReverted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prism_run(devnet: _kit.Devnet) -> Any:
    return run_example(devnet, "08_prism_learning_twin")


def test_the_current_version_answers_and_apps_pay_the_owner_exactly(prism_run: Any) -> None:
    result, module = prism_run, load("08_prism_learning_twin")
    assert result.prism.call("version") == 2
    assert result.prism.call("currentModel") == result.cids[1]
    for answer, path, cid in zip(result.answers, module.MODELS, result.cids):
        # Each question went to the version current at the time, and its answer is that
        # model's, as onnxruntime computes it here.
        assert answer.cid == cid
        p = _kit.number(_kit.local_output(path, _kit.row("x", module.TOPIC, 3)), "probabilities", 1)
        assert answer.recall_bps == p.value // 10 ** (p.decimals - 4)
        assert answer.review == (answer.recall_bps < 6000)
        # The app's fee reached the student's wallet in the same transaction, to the wei.
        assert answer.owner_gain == module.QUERY_FEE
    # The versions disagree about this topic: publishing the new one changed the advice.
    assert result.answers[0].review != result.answers[1].review
    assert_gas_as_catalogued("08_prism_learning_twin", result.gas)


def test_invalid_only_the_owners_key_publishes(prism_run: Any, devnet: _kit.Devnet) -> None:
    result, module = prism_run, load("08_prism_learning_twin")
    stranger = devnet.accounts[4]
    assert result.refused["a stranger publishes a version"] == f"NotOwner({stranger.address})"
    assert result.refused["a stranger changes the fee"] == f"NotOwner({stranger.address})"
    assert result.refused["an app pays less than the fee"] == (
        f"WrongFee({module.QUERY_FEE}, {module.QUERY_FEE - 1})"
    )
    # Mined anyway (fixed gas, no estimate to stop it), a stranger's publish reverts and the
    # twin still points at the owner's version.
    with pytest.raises(ContractReverted, match="NotOwner") as refused:
        result.prism.transact(stranger, "publish", result.cids[0], gas=200_000)
    assert refused.value.receipt.status == 0
    assert result.prism.call("version") == 2
    assert result.prism.call("currentModel") == result.cids[1]
    # Overpaying is refused too: the fee is exact.
    with pytest.raises(ContractReverted, match=r"WrongFee\(2000000000000000, 2000000000000001\)"):
        result.prism.call("ask", module.TOPIC, 3, sender=devnet.accounts[3].address,
                          value=module.QUERY_FEE + 1)  # fmt: skip
