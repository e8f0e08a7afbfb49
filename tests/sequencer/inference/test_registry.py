"""The registry system contract at 0x4E53…0001: genesis seed, owner-only admin, TEE admission,
and registry changes taking effect for receipts from the next block on."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from neurostack.protocol.cid import model_cid, model_hash
from neurostack.protocol.modes import InferenceMode
from sequencer.chain import ExecutionMode
from sequencer.chain.inference import (
    REGISTRY_ADDRESS,
    InvalidInferenceReceipt,
    make_dev_attestation,
)
from sequencer.chain.inference.constants import TEE_ATTESTATION_TTL
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.errors import ExecutionReverted

from .conftest import Rig, deploy
from .kit import (
    MEASUREMENT,
    MODEL_CID,
    OWNER_KEY,
    ROOT_KEY,
    SPRINTER_KEY,
    STRANGER_KEY,
    TEE_KEY,
    Wallet,
    address_of,
    receipt_for,
)

pytestmark = pytest.mark.slow


def calldata(signature: str, types: list[str], args: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, args)


def view(rig: Rig, signature: str, types: list[str], args: list[Any], out: list[str]) -> Any:
    return decode(out, rig.wallets[0].call(REGISTRY_ADDRESS, calldata(signature, types, args)))


def admin(rig: Rig, wallet: Wallet, signature: str, types: list[str], args: list[Any]) -> Any:
    """Send an admin transaction and mine it; its receipt."""
    tx_hash = wallet.send(REGISTRY_ADDRESS, calldata(signature, types, args), gas=300_000)
    return rig.receipt_of(rig.mine(), tx_hash)


def seal_verdict(rig: Rig, wallet: Wallet, to: bytes, data: bytes) -> None:
    """Execute a call the way a block would (SEAL mode); raises what the block would."""
    rig.feed.call_mode = ExecutionMode.SEAL
    try:
        wallet.call(to, data)
    finally:
        rig.feed.call_mode = ExecutionMode.SIMULATE


def test_registry_calldata_matches_the_solidity_signatures() -> None:
    key = address_of(TEE_KEY)
    assert registry_calldata("registerTeeKey", key, b"doc") == calldata(
        "registerTeeKey(address,bytes)", ["address", "bytes"], [key, b"doc"]
    )
    with pytest.raises(ValueError, match="no function 'mint'"):
        registry_calldata("mint", key)


def test_genesis_seeds_owner_sprinters_roots_and_measurements(rig: Rig) -> None:
    assert view(rig, "owner()", [], [], ["address"]) == ("0x" + address_of(OWNER_KEY).hex(),)
    assert view(rig, "isSprinter(address)", ["address"], [address_of(SPRINTER_KEY)], ["bool"]) == (
        True,
    )
    assert view(rig, "isSprinter(address)", ["address"], [address_of(STRANGER_KEY)], ["bool"]) == (
        False,
    )
    assert view(
        rig, "isAttestationRoot(address)", ["address"], [address_of(ROOT_KEY)], ["bool"]
    ) == (True,)
    assert view(rig, "isMeasurementApproved(bytes32)", ["bytes32"], [MEASUREMENT], ["bool"]) == (
        True,
    )
    assert rig.node.state_at(0).get_code(REGISTRY_ADDRESS) == b"\xfe"


def test_invalid_admin_call_from_a_stranger_reverts(rig: Rig) -> None:
    stranger = rig.wallets[3]
    data = calldata("addSprinter(address)", ["address"], [stranger.address])
    with pytest.raises(ExecutionReverted, match="only the chain owner 0x.* may call addSprinter"):
        stranger.call(REGISTRY_ADDRESS, data)
    receipt = admin(rig, stranger, "addSprinter(address)", ["address"], [stranger.address])
    assert receipt.state_root == b""  # failed transaction
    assert view(rig, "isSprinter(address)", ["address"], [stranger.address], ["bool"]) == (False,)


def test_added_sprinter_signs_from_the_next_block_and_revoked_one_is_rejected_from_the_next_block(
    rig: Rig,
) -> None:
    new_key = bytes.fromhex("77" * 32)
    receipt = admin(rig, rig.owner, "addSprinter(address)", ["address"], [address_of(new_key)])
    assert receipt.state_root == b"\x01"
    (log,) = receipt.logs
    assert log.address == REGISTRY_ADDRESS
    assert tuple(log.topics) == (int.from_bytes(keccak(text="SprinterAdded(address)"), "big"),
                                 int.from_bytes(address_of(new_key), "big"))  # fmt: skip

    user = rig.wallets[1]
    first = rig.predict_data([501])
    request = user.requests_of(rig.consumer, first)
    rig.feed.witness[request.request_id] = receipt_for(request, key=new_key)
    tx_hash = user.send(rig.consumer, first)
    # the block revoking the key still accepts its receipts (registry of the parent block)
    revoke = rig.owner.send(REGISTRY_ADDRESS, calldata("revokeSprinter(address)", ["address"],
                                                       [address_of(new_key)]), gas=300_000)  # fmt: skip
    block = rig.mine()
    assert rig.receipt_of(block, revoke).state_root == b"\x01"
    assert rig.receipt_of(block, tx_hash).state_root == b"\x01"

    second = rig.predict_data([502])
    request = user.requests_of(rig.consumer, second)
    rig.feed.witness[request.request_id] = receipt_for(request, key=new_key)
    with pytest.raises(InvalidInferenceReceipt, match="is revoked as a sprinter"):
        seal_verdict(rig, user, rig.consumer, second)
    tx_hash = user.send(rig.consumer, second)
    assert tx_hash not in [t.hash for t in rig.mine().transactions]
    rig.feed.witness[request.request_id] = receipt_for(request)  # the genesis sprinter answers
    assert rig.receipt_of(rig.mine(), tx_hash).state_root == b"\x01"


def test_register_model_sets_price_owner_and_royalty(rig: Rig) -> None:
    file = b"registered model"
    sig = "registerModel(string,bytes32,address,uint64,uint16)"
    types = ["string", "bytes32", "address", "uint64", "uint16"]
    owner = address_of(bytes.fromhex("88" * 32))
    receipt = admin(
        rig, rig.owner, sig, types, [model_cid(file), model_hash(file), owner, 123_456, 2_500]
    )
    assert receipt.state_root == b"\x01"
    got = view(rig, "modelOf(string)", ["string"], [model_cid(file)],
               ["bytes32", "address", "uint64", "uint16", "bool"])  # fmt: skip
    assert got == (model_hash(file), "0x" + owner.hex(), 123_456, 2_500, True)
    assert (
        view(
            rig,
            "modelOf(string)",
            ["string"],
            [MODEL_CID],
            ["bytes32", "address", "uint64", "uint16", "bool"],
        )[4]
        is False
    )

    with pytest.raises(ExecutionReverted, match="modelHash is not the sha256 digest"):
        rig.owner.call(
            REGISTRY_ADDRESS, calldata(sig, types, [model_cid(file), b"\x01" * 32, owner, 1, 0])
        )
    with pytest.raises(ExecutionReverted, match="royaltyBps 10001 exceeds"):
        rig.owner.call(
            REGISTRY_ADDRESS,
            calldata(sig, types, [model_cid(file), model_hash(file), owner, 1, 10_001]),
        )


@pytest.fixture(scope="module")
def tee_consumer(rig: Rig, contracts) -> bytes:
    return deploy(
        rig.node,
        rig.wallets[0],
        contracts["ModelConsumer"],
        ["string", "uint8"],
        ["x", InferenceMode.TEE],
    )


def attestation(rig: Rig, *, key: bytes = TEE_KEY, measurement: bytes = MEASUREMENT,
                timestamp: int | None = None, root: bytes = ROOT_KEY) -> bytes:  # fmt: skip
    ts = rig.node.head().header.timestamp if timestamp is None else timestamp
    return make_dev_attestation(
        key=address_of(key), measurement=measurement, timestamp=ts, root_private_key=root
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"root": STRANGER_KEY}, "not an active attestation root"),
        ({"measurement": b"\x99" * 32}, "is not approved on this chain"),
        ({"key": STRANGER_KEY}, "attestation is for"),
        ({"timestamp": 1}, "is not within the last"),
    ],
)
def test_invalid_attestation_is_refused(rig: Rig, change: dict[str, Any], reason: str) -> None:
    document = attestation(rig, **change)
    data = calldata(
        "registerTeeKey(address,bytes)", ["address", "bytes"], [address_of(TEE_KEY), document]
    )
    with pytest.raises(ExecutionReverted, match=reason):
        rig.wallets[3].call(REGISTRY_ADDRESS, data)


def test_invalid_attestation_document_garbage_is_refused(rig: Rig) -> None:
    data = calldata(
        "registerTeeKey(address,bytes)", ["address", "bytes"], [address_of(TEE_KEY), b"junk"]
    )
    with pytest.raises(
        ExecutionReverted, match="attestation rejected: attestation document is not ABI"
    ):
        rig.wallets[3].call(REGISTRY_ADDRESS, data)


def test_tee_key_admitted_by_attestation_signs_tee_receipts_until_stale_or_revoked(
    rig: Rig, tee_consumer: bytes
) -> None:
    user = rig.wallets[1]
    sig = "registerTeeKey(address,bytes)"
    receipt = admin(
        rig, rig.wallets[3], sig, ["address", "bytes"], [address_of(TEE_KEY), attestation(rig)]
    )
    assert receipt.state_root == b"\x01"  # anyone may submit: the attestation is the credential
    measurement, attested_at, active = view(rig, "teeKeyOf(address)", ["address"], [address_of(TEE_KEY)],
                                            ["bytes32", "uint64", "bool"])  # fmt: skip
    assert (measurement, active) == (MEASUREMENT, True)

    data = rig.predict_data([601])
    request = user.requests_of(tee_consumer, data)
    rig.feed.witness[request.request_id] = receipt_for(request, key=TEE_KEY)
    tx_hash = user.send(tee_consumer, data)
    assert rig.receipt_of(rig.mine(), tx_hash).state_root == b"\x01"
    # a VANILLA sprinter key is not a TEE key
    with pytest.raises(InvalidInferenceReceipt, match="is not admitted as a TEE key"):
        rig.feed.witness[request.request_id] = receipt_for(request, key=SPRINTER_KEY)
        seal_verdict(rig, user, tee_consumer, data)

    # stale: a block more than the TTL after the attestation rejects the key's receipts
    rig.feed.witness[request.request_id] = receipt_for(request, key=TEE_KEY)
    rig.mine(timestamp=attested_at + TEE_ATTESTATION_TTL + 1)
    with pytest.raises(InvalidInferenceReceipt, match="send a heartbeat"):
        seal_verdict(rig, user, tee_consumer, data)
    renew = admin(rig, rig.wallets[3], "heartbeat(address,bytes)", ["address", "bytes"],
                  [address_of(TEE_KEY), attestation(rig)])  # fmt: skip
    assert renew.state_root == b"\x01"
    seal_verdict(rig, user, tee_consumer, data)  # accepted again

    # revoking the measurement rejects the key from the next block on
    assert (
        admin(rig, rig.owner, "revokeMeasurement(bytes32)", ["bytes32"], [MEASUREMENT]).state_root
        == b"\x01"
    )
    with pytest.raises(InvalidInferenceReceipt, match="which is not approved"):
        seal_verdict(rig, user, tee_consumer, data)
    assert (
        admin(rig, rig.owner, "approveMeasurement(bytes32)", ["bytes32"], [MEASUREMENT]).state_root
        == b"\x01"
    )
    # revoking the key is permanent
    assert (
        admin(
            rig, rig.owner, "revokeTeeKey(address)", ["address"], [address_of(TEE_KEY)]
        ).state_root
        == b"\x01"
    )
    with pytest.raises(InvalidInferenceReceipt, match="is revoked as a TEE key"):
        seal_verdict(rig, user, tee_consumer, data)
    with pytest.raises(ExecutionReverted, match="was revoked by the chain owner"):
        rig.wallets[3].call(
            REGISTRY_ADDRESS,
            calldata(sig, ["address", "bytes"], [address_of(TEE_KEY), attestation(rig)]),
        )
