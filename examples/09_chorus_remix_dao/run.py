"""Example 09, blueprint "Chorus": a fan-powered remix DAO.

Three supporters fund an artist's music model (1, 3 and 5 tokens, paid to the artist).
The artist proposes her mix and a fan's remix as two versions, then closes the round.
Supporters vote with their funding as weight; the canonical version follows the vote, and
``press`` runs whichever version is canonical. Both versions are registered in the
chain's registry with ``Chorus`` as owner, so every press credits a royalty to Chorus in
the same block, and each supporter withdraws exactly ``royalties · funding / total``.

    python examples/09_chorus_remix_dao/run.py --config path/to/chain.toml
    (registering a model needs the chain owner's key: the project's keys/sequencer.key)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import Contract, TransactionReceipt

MODELS = [HERE / "models" / "mix_a.onnx", HERE / "models" / "mix_b.onnx"]
ARTIFACT = HERE / "contracts" / "artifacts" / "Chorus.json"
TOKEN = 10**18
FUNDING = [1 * TOKEN, 3 * TOKEN, 5 * TOKEN]
INFERENCE_GAS = 80_000
ROYALTY_BPS = 6000
# Voting rounds: supporter index -> version. After round 1 the artist's mix leads 3 to 1;
# the third supporter's 5 then make the fan's remix canonical.
ROUNDS = [{0: 1, 1: 0}, {2: 1}]
TRACKS = [[1280, 700, 600, 800], [900, 400, 300, 200], [1500, 900, 800, 900]]  # 3 decimals


@dataclass(frozen=True)
class Result:
    chorus: Contract
    cids: list[str]
    supporters: list[str]
    canonical_after_round: list[int]  # the canonical version after each voting round
    presses: list[TransactionReceipt]
    royalties: int  # what the chain credited to Chorus for the presses
    releases: dict[str, TransactionReceipt]
    gas: dict[str, int]


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    relayer, artist, *supporters = devnet.accounts[:5]
    listener = devnet.accounts[5]
    cids = [devnet.upload(path, path.stem) for path in MODELS]
    chorus = rollup.deploy(artist, ARTIFACT)
    for cid in cids:
        devnet.register_model(cid, owner=chorus.address, inference_gas=INFERENCE_GAS,
                              royalty_bps=ROYALTY_BPS)  # fmt: skip
    print(f"chorus      {chorus.address}, artist {artist.address}; versions registered: "
          f"{INFERENCE_GAS} gas per call, {ROYALTY_BPS / 100:.0f} % royalty to Chorus")  # fmt: skip

    def together(hashes: list[str]) -> list[TransactionReceipt]:
        return [rollup.wait_for_receipt(h, timeout=devnet.timeout) for h in hashes]

    together([chorus.send(artist, "propose", cid) for cid in cids]
             + [chorus.send(s, "fund", value=f) for s, f in zip(supporters, FUNDING)])  # fmt: skip
    chorus.transact(artist, "closeFunding")
    symbol = rollup.chain_info().token_symbol
    for s, f in zip(supporters, FUNDING):
        print(f"supporter   {s.address} funded {_kit.shown(f, 18)} {symbol}")
    print(f"versions    0: {cids[0]} (artist's mix)\n            1: {cids[1]} (fan's remix)\n")

    canonical: list[int] = []
    for number, round_ in enumerate(ROUNDS, start=1):
        together([chorus.send(supporters[who], "vote", version) for who, version in round_.items()])
        version, _ = chorus.call("canonical")
        canonical.append(version)
        tally = [chorus.call("votesFor", v) // TOKEN for v in range(len(cids))]
        print(f"vote {number}      weights {tally} -> canonical version {version}")

    presses = together([chorus.send(listener, "press", track, 3) for track in TRACKS])
    for receipt in presses:
        (pressed,) = chorus.events("Pressed", receipt)
        print(f"press       version {pressed['version']}: energy "
              f"{pressed['energyBps'] / 100:.2f} % (block {receipt.block_number})")  # fmt: skip
    royalties = sum(call.model_gas * r.effective_gas_price * ROYALTY_BPS // 10_000
                    for r in presses for call in r.inferences)  # fmt: skip
    print(f"royalties   {royalties} wei credited to Chorus")
    addresses = [s.address for s in supporters]
    releases = dict(zip(addresses, together([chorus.send(relayer, "release", a)
                                             for a in addresses])))  # fmt: skip
    for who, receipt in releases.items():
        (paid,) = chorus.events("Released", receipt)
        print(f"released    {paid['amount']} wei to {who} "
              f"({chorus.call('funding', who) * 100 // sum(FUNDING)} % of the funding)")  # fmt: skip
    assert chorus.receipt is not None
    gas = {"deploy": chorus.receipt.gas_used, "press": presses[0].gas_used,
           "release": releases[addresses[0]].gas_used}  # fmt: skip
    return Result(chorus, cids, addresses, canonical, presses, royalties, releases, gas)


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
