"""Example 09 against the shared devnet: the canonical version follows the funding-weighted
vote; royalties reach supporters pro rata, to the wei."""

from __future__ import annotations

from typing import Any

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example
from hub_client import ContractReverted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chorus_run(devnet: _kit.Devnet) -> Any:
    return run_example(devnet, "09_chorus_remix_dao")


def test_the_canonical_version_follows_the_vote(chorus_run: Any) -> None:
    result, module = chorus_run, load("09_chorus_remix_dao")
    weights: dict[int, int] = {}  # supporter -> version voted for
    for round_, canonical in zip(module.ROUNDS, result.canonical_after_round):
        weights.update(round_)
        tally = [sum(module.FUNDING[s] for s, v in weights.items() if v == version)
                 for version in range(len(result.cids))]  # fmt: skip
        assert canonical == max(range(len(tally)), key=lambda v: (tally[v], -v))
    assert result.canonical_after_round == [0, 1]
    # Every press ran the canonical version: its answer is that model's, run here.
    for receipt, track in zip(result.presses, module.TRACKS):
        (pressed,) = result.chorus.events("Pressed", receipt)
        assert pressed["version"] == 1 and receipt.inferences[0].model_cid == result.cids[1]
        energy = _kit.number(_kit.local_output(module.MODELS[1], _kit.row("track", track, 3)),
                             "energy")  # fmt: skip
        assert pressed["energyBps"] == energy.value // 10 ** (energy.decimals - 4)


def test_royalties_reach_supporters_pro_rata_to_the_wei(
    chorus_run: Any, devnet: _kit.Devnet
) -> None:
    result, module = chorus_run, load("09_chorus_remix_dao")
    royalties = sum(
        call.model_gas * r.effective_gas_price * module.ROYALTY_BPS // 10_000
        for r in result.presses
        for call in r.inferences
    )
    assert royalties == result.royalties > 0
    paid = 0
    for who, funding in zip(result.supporters, module.FUNDING):
        release = result.releases[who]
        gained = (devnet.rollup.balance(who, release.block_number)
                  - devnet.rollup.balance(who, release.block_number - 1))  # fmt: skip
        assert gained == royalties * funding // sum(module.FUNDING)
        paid += gained
    # What rounding leaves (under a wei per supporter) stays in Chorus for later releases.
    assert devnet.rollup.balance(result.chorus.address) == royalties - paid
    assert royalties - paid < len(result.supporters)
    assert_gas_as_catalogued("09_chorus_remix_dao", result.gas)


def test_invalid_votes_and_round_rules(chorus_run: Any, devnet: _kit.Devnet) -> None:
    chorus = chorus_run.chorus
    artist, stranger = devnet.accounts[1], devnet.accounts[5]
    with pytest.raises(ContractReverted, match=rf"NotSupporter\({stranger.address}\)"):
        chorus.call("vote", 0, sender=stranger.address)
    with pytest.raises(ContractReverted, match=r"UnknownVersion\(2\)"):
        chorus.call("vote", 2, sender=chorus_run.supporters[0])
    with pytest.raises(ContractReverted, match="FundingIsClosed"):
        chorus.call("fund", sender=stranger.address, value=10**18)
    with pytest.raises(ContractReverted, match=rf"NotArtist\({stranger.address}\)"):
        chorus.call("propose", chorus_run.cids[0], sender=stranger.address)
    with pytest.raises(ContractReverted, match="NothingDue"):
        chorus.call("release", stranger.address)
    assert chorus.call("artist") == artist.address
