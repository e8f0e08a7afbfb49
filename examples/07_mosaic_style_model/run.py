"""Example 07, blueprint "Mosaic": a style model co-owned by its contributors.

Three artists trained a style model together and hold shares of it (50/30/20). The chain
owner registers the model in the chain's registry with the ``Mosaic`` contract as its
owner, so the royalty share of every inference fee goes to Mosaic in the same block; each
artist withdraws exactly their share. A newcomer's fork of the style is usable in Mosaic
only with every artist's EIP-712 signature on the fork proposal: proposals missing a
signature, carrying a stranger's, or signed for another fork are refused.

    python examples/07_mosaic_style_model/run.py --config path/to/chain.toml
    (registering a model needs the chain owner's key: the project's keys/sequencer.key)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import Contract, ContractReverted, TransactionReceipt

STYLE = HERE / "models" / "style.onnx"
FORK = HERE / "models" / "style_fork.onnx"
ARTIFACT = HERE / "contracts" / "artifacts" / "Mosaic.json"
SHARES = [50, 30, 20]
INFERENCE_GAS = 100_000  # the style model's price per call, in gas
ROYALTY_BPS = 5000  # half of each call's model fee goes to the owners
SKETCHES = [[800, 700, 300, 500], [200, 200, 900, 900], [500, 500, 500, 500]]  # 3 decimals


@dataclass(frozen=True)
class Result:
    mosaic: Contract
    style_cid: str
    fork_cid: str
    contributors: list[str]
    remixes: list[TransactionReceipt]
    royalties: int  # what the chain credited to Mosaic for the remixes
    releases: dict[str, TransactionReceipt]  # contributor -> their release
    refused: dict[str, str]
    fork: TransactionReceipt
    fork_remix: TransactionReceipt
    gas: dict[str, int]


def fork_signature(mosaic: Contract, chain_id: int, key: Any, child: str, forker: str) -> bytes:
    """A contributor's EIP-712 signature allowing ``forker`` to fork the style into
    ``child`` (the contract's ``forkDigest``)."""
    message = encode_typed_data(full_message={
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Fork": [
                {"name": "parentCID", "type": "string"}, {"name": "childCID", "type": "string"},
                {"name": "forker", "type": "address"}, {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Fork",
        "domain": {"name": "Mosaic", "version": "1", "chainId": chain_id,
                   "verifyingContract": mosaic.address},
        "message": {"parentCID": mosaic.call("modelCID"), "childCID": child, "forker": forker,
                    "nonce": mosaic.call("forkNonce")},
    })  # fmt: skip
    return bytes(Account.sign_message(message, key).signature)


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    relayer, artists, fan, newcomer = (
        devnet.accounts[0],
        devnet.accounts[1:4],
        *devnet.accounts[4:6],
    )
    style, fork_cid = devnet.upload(STYLE, "style"), devnet.upload(FORK, "style_fork")
    contributors = [a.address for a in artists]
    mosaic = rollup.deploy(relayer, ARTIFACT, style, contributors, SHARES)
    devnet.register_model(style, owner=mosaic.address, inference_gas=INFERENCE_GAS,
                          royalty_bps=ROYALTY_BPS)  # fmt: skip
    print(f"style       {style}, registered: {INFERENCE_GAS} gas per call, "
          f"{ROYALTY_BPS / 100:.0f} % royalty to Mosaic {mosaic.address}")  # fmt: skip
    print(f"owners      {', '.join(f'{a} ({s})' for a, s in zip(contributors, SHARES))}\n")

    # A fan remixes three sketches; every call's royalty lands in Mosaic.
    hashes = [mosaic.send(fan, "remix", style, sketch, 3) for sketch in SKETCHES]
    remixes = [rollup.wait_for_receipt(h, timeout=devnet.timeout) for h in hashes]
    royalties = sum(call.model_gas * r.effective_gas_price * ROYALTY_BPS // 10_000
                    for r in remixes for call in r.inferences)  # fmt: skip
    for receipt in remixes:
        (event,) = mosaic.events("Remixed", receipt)
        print(f"remix       rgb({event['red']}, {event['green']}, {event['blue']}) in block "
              f"{receipt.block_number}")  # fmt: skip
    print(f"royalties   {royalties} wei credited to Mosaic "
          f"(balance {rollup.balance(mosaic.address)} wei)")  # fmt: skip
    hashes = [mosaic.send(relayer, "release", who) for who in contributors]
    releases = {who: rollup.wait_for_receipt(h, timeout=devnet.timeout)
                for who, h in zip(contributors, hashes)}  # fmt: skip
    for who, receipt in releases.items():
        (paid,) = mosaic.events("Released", receipt)
        print(f"released    {paid['amount']} wei to {who}")

    # The fork: the newcomer needs all three artists' signatures.
    chain_id = rollup.chain_id()

    def sign(key: Any, child: str = fork_cid) -> bytes:
        return fork_signature(mosaic, chain_id, key, child, newcomer.address)

    stranger = Account.create()
    attempts = {
        "remix the fork before it is licensed": lambda: mosaic.call(
            "remix", fork_cid, SKETCHES[0], 3),
        "fork with two of three signatures": lambda: mosaic.call(
            "fork", fork_cid, newcomer.address, [sign(a.key) for a in artists[:2]]),
        "fork with a stranger signing for the third artist": lambda: mosaic.call(
            "fork", fork_cid, newcomer.address, [sign(artists[0].key), sign(artists[1].key),
                                                 sign(stranger.key)]),
        "fork with signatures for another fork": lambda: mosaic.call(
            "fork", fork_cid, newcomer.address, [sign(a.key, style + "x") for a in artists]),
    }  # fmt: skip
    refused: dict[str, str] = {}
    print()
    for what, attempt in attempts.items():
        try:
            attempt()
        except ContractReverted as exc:
            refused[what] = exc.reason
            print(f"refused     {what}: {exc.reason}")
        else:
            raise ValueError(f"Mosaic accepted: {what}")
    forked = mosaic.transact(newcomer, "fork", fork_cid, newcomer.address,
                             [sign(a.key) for a in artists])  # fmt: skip
    fork_remix = mosaic.transact(fan, "remix", fork_cid, SKETCHES[0], 3)
    (event,) = mosaic.events("Remixed", fork_remix)
    print(f"forked      {fork_cid} by {newcomer.address} with 3 of 3 signatures\n"
          f"remix       rgb({event['red']}, {event['green']}, {event['blue']}) in the fork's "
          f"style")  # fmt: skip
    assert mosaic.receipt is not None
    gas = {"deploy": mosaic.receipt.gas_used, "remix": remixes[0].gas_used,
           "release": releases[contributors[0]].gas_used, "fork (3 signatures)": forked.gas_used}  # fmt: skip
    return Result(mosaic, style, fork_cid, contributors, remixes, royalties, releases, refused,
                  forked, fork_remix, gas)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
