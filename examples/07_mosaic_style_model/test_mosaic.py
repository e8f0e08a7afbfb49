"""Example 07 against the shared devnet: royalties split by shares to the wei; a fork needs
every creator's signature."""

from __future__ import annotations

from typing import Any

import _kit
import pytest
from eth_keys import keys

from conftest import assert_gas_as_catalogued, load, run_example
from hub_client import ContractReverted

pytestmark = pytest.mark.slow
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def mosaic_run(devnet: _kit.Devnet) -> Any:
    return run_example(devnet, "07_mosaic_style_model")


def channel(value: int, decimals: int) -> int:
    """Mosaic._channel: a palette value 0..1 as 0..255 (toFixed(·, 3) truncates)."""
    milli = value // 10 ** (decimals - 3) if value >= 0 else -(-value // 10 ** (decimals - 3))
    return 0 if milli <= 0 else 255 if milli >= 1000 else milli * 255 // 1000


def test_royalties_are_split_by_shares_to_the_wei(mosaic_run: Any, devnet: _kit.Devnet) -> None:
    result, module = mosaic_run, load("07_mosaic_style_model")
    registered = devnet.registry().call("modelOf", result.style_cid)
    assert registered == (registered[0], result.mosaic.address, module.INFERENCE_GAS,
                          module.ROYALTY_BPS, True)  # fmt: skip
    # What the chain paid Mosaic: the royalty share of each call's model fee, in the block.
    by_block: dict[int, int] = {}
    for receipt in result.remixes:
        (call,) = receipt.inferences
        assert call.model_cid == result.style_cid and call.model_gas == module.INFERENCE_GAS
        royalty = call.model_gas * receipt.effective_gas_price * module.ROYALTY_BPS // 10_000
        by_block[receipt.block_number] = by_block.get(receipt.block_number, 0) + royalty
    for block, royalty in by_block.items():
        credited = (devnet.rollup.balance(result.mosaic.address, block)
                    - devnet.rollup.balance(result.mosaic.address, block - 1))  # fmt: skip
        assert credited == royalty
    royalties = sum(by_block.values())
    assert royalties == result.royalties > 0
    # Each contributor got exactly royalties · share / total shares.
    total = sum(module.SHARES)
    for who, share in zip(result.contributors, module.SHARES):
        release = result.releases[who]
        gained = (devnet.rollup.balance(who, release.block_number)
                  - devnet.rollup.balance(who, release.block_number - 1))  # fmt: skip
        assert gained == royalties * share // total
        assert result.mosaic.call("released", who) == gained
    # The remixes painted what the style model answers here.
    for receipt, sketch in zip(result.remixes, module.SKETCHES):
        (event,) = result.mosaic.events("Remixed", receipt)
        palette = _kit.local_output(module.STYLE, _kit.row("sketch", sketch, 3)).numbers[0]
        assert [event["red"], event["green"], event["blue"]] == [
            channel(n.value, n.decimals) for n in palette.values
        ]
    assert_gas_as_catalogued("07_mosaic_style_model", result.gas)


def test_a_fork_needs_every_creators_signature(mosaic_run: Any, devnet: _kit.Devnet) -> None:
    result, module = mosaic_run, load("07_mosaic_style_model")
    refused = result.refused
    assert refused["remix the fork before it is licensed"] == f"NotLicensed('{result.fork_cid}')"
    assert refused["fork with two of three signatures"] == "MissingSignatures(3, 2)"
    assert refused["fork with a stranger signing for the third artist"] == (
        f"BadSignature({result.contributors[2]})"
    )
    assert refused["fork with signatures for another fork"] == (
        f"BadSignature({result.contributors[0]})"
    )
    (forked,) = result.mosaic.events("Forked", result.fork)
    assert forked["childCID"] == result.fork_cid and forked["nonce"] == 0
    assert result.mosaic.call("isLicensed", result.fork_cid)
    # The licensed fork paints in its own style.
    (event,) = result.mosaic.events("Remixed", result.fork_remix)
    palette = _kit.local_output(module.FORK, _kit.row("sketch", module.SKETCHES[0], 3)).numbers[0]
    assert [event["red"], event["green"], event["blue"]] == [
        channel(n.value, n.decimals) for n in palette.values
    ]


def test_the_signed_digest_is_eip712_and_signatures_are_single_use(
    mosaic_run: Any, devnet: _kit.Devnet
) -> None:
    result, module = mosaic_run, load("07_mosaic_style_model")
    mosaic, chain_id = result.mosaic, devnet.rollup.chain_id()
    artists, newcomer = devnet.accounts[1:4], devnet.accounts[5]
    child = result.style_cid.replace("a", "b", 1)  # another (unlicensed) model id
    # What eth-account signs as EIP-712 typed data is the digest the contract checks.
    signatures = [module.fork_signature(mosaic, chain_id, a.key, child, newcomer.address)
                  for a in artists]  # fmt: skip
    digest = mosaic.call("forkDigest", child, newcomer.address)
    for artist, signature in zip(artists, signatures):
        vrs = keys.Signature(signature_bytes=signature[:64] + bytes([signature[64] - 27]))
        assert vrs.recover_public_key_from_msg_hash(digest).to_checksum_address() == artist.address
    # The first fork moved the nonce, so these signatures are for this proposal only.
    assert mosaic.call("forkNonce") == 1
    # A malformed signature is nobody's; so is the high-s twin of a valid one (it would
    # recover the same key: a malleable copy).
    r, s, v = signatures[0][:32], int.from_bytes(signatures[0][32:64]), signatures[0][64]
    high_s = r + (SECP256K1_N - s).to_bytes(32) + bytes([55 - v])
    twin = keys.Signature(signature_bytes=high_s[:64] + bytes([high_s[64] - 27]))
    assert twin.recover_public_key_from_msg_hash(digest).to_checksum_address() == artists[0].address
    wrong_v = signatures[0][:64] + bytes([29])
    for broken in (high_s, wrong_v, signatures[0][:64], b""):
        with pytest.raises(ContractReverted, match=rf"BadSignature\({artists[0].address}\)"):
            mosaic.call("fork", child, newcomer.address, [broken, *signatures[1:]])
    mosaic.transact(newcomer, "fork", child, newcomer.address, signatures)
    with pytest.raises(ContractReverted, match=r"AlreadyForked"):
        mosaic.call("fork", child, newcomer.address, signatures)
