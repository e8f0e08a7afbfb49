"""Inference receipts: golden digest, signing, every tampered field caught, JSON form."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import to_checksum_address

from neurostack.protocol import (
    DOMAIN,
    InferenceMode,
    InferenceReceipt,
    InvalidReceipt,
    check_receipt,
    keccak,
    make_receipt,
    model_cid,
    model_hash,
    receipt_digest,
    receipt_from_json,
    receipt_leaf,
    receipt_to_json,
    recover_signer,
    request_id,
    sign_receipt,
)
from neurostack.protocol.receipts import SECP256K1_N

from .vectors import CHAIN_ID, CID, EXPIRY, INPUT_ABI, KEY, KEY_ADDRESS, MODEL_FILE, OUTPUT_ABI

GOLDEN_DIGEST = "44fde630fe99005c93e97ecbdbc744bd8af0c029a566150a4911cdf30a8bd450"
OTHER_KEY = b"\x11" * 32


@pytest.fixture
def receipt() -> InferenceReceipt:
    return make_receipt(
        chain_id=CHAIN_ID,
        model_cid=CID,
        model_hash=model_hash(MODEL_FILE),
        mode=InferenceMode.TEE,
        input_abi=INPUT_ABI,
        output_abi=OUTPUT_ABI,
        expiry=EXPIRY,
        private_key=KEY,
    )


def test_golden_digest_and_signer(receipt: InferenceReceipt) -> None:
    assert receipt_digest(receipt).hex() == GOLDEN_DIGEST
    packed = (
        DOMAIN + CHAIN_ID.to_bytes(32, "big") + receipt.request_id + receipt.model_hash
        + receipt.input_hash + receipt.output_hash + bytes([2]) + EXPIRY.to_bytes(8, "big")
    )  # fmt: skip
    assert receipt_digest(receipt) == keccak(packed)
    assert to_checksum_address(receipt.sprinter) == KEY_ADDRESS
    assert len(receipt.signature) == 65 and receipt.signature[64] in (0, 1)
    assert check_receipt(receipt, chain_id=CHAIN_ID, now=EXPIRY) == receipt.sprinter


def test_make_receipt_computes_ids_and_hashes(receipt: InferenceReceipt) -> None:
    assert receipt.request_id == request_id(CHAIN_ID, CID, 2, INPUT_ABI)
    assert receipt.input_hash == keccak(INPUT_ABI)
    assert receipt.output_hash == keccak(OUTPUT_ABI)
    assert receipt.output == OUTPUT_ABI


def test_check_receipt_accepts_matching_expectations(receipt: InferenceReceipt) -> None:
    signer = check_receipt(
        receipt,
        chain_id=CHAIN_ID,
        request_id=receipt.request_id,
        model_hash=model_hash(MODEL_FILE),
        input_hash=keccak(INPUT_ABI),
        now=EXPIRY - 1,
    )
    assert signer == recover_signer(receipt)


OTHER_CID = model_cid(b"other model")
TAMPERED = {
    "chain_id": (CHAIN_ID + 1, "signature mismatch|request id mismatch"),
    "request_id": (b"\x01" * 32, "request id mismatch"),
    "model_cid": (OTHER_CID, "request id mismatch"),
    "model_hash": (model_hash(b"other model"), "model hash mismatch"),
    "mode": (InferenceMode.VANILLA, "request id mismatch"),
    "input_hash": (b"\x02" * 32, "request id mismatch"),
    "output": (OUTPUT_ABI[:-1] + b"\x01", "output hash mismatch"),
    "output_hash": (b"\x03" * 32, "output hash mismatch"),
    "sprinter": (b"\x04" * 20, "signature mismatch"),
    "expiry": (EXPIRY + 1, "signature mismatch"),
    "signature": (b"\x05" * 65, "signature"),
}


@pytest.mark.parametrize("field", list(TAMPERED))
def test_invalid_receipt_when_any_field_is_tampered(receipt: InferenceReceipt, field: str) -> None:
    value, message = TAMPERED[field]
    with pytest.raises(InvalidReceipt, match=message):
        check_receipt(dataclasses.replace(receipt, **{field: value}))


def test_every_field_is_covered_by_the_tampering_test() -> None:
    fields = {f.name for f in dataclasses.fields(InferenceReceipt)} - {"proof"}
    assert fields == set(TAMPERED)  # the proof is checked per mode by the chain


def test_invalid_receipt_when_tampered_fields_are_re_signed_consistently() -> None:
    # A consistent receipt for chain 1 signed by the right key still fails chain 1337.
    r = make_receipt(
        chain_id=1, model_cid=CID, model_hash=model_hash(MODEL_FILE), mode=0,
        input_abi=INPUT_ABI, output_abi=OUTPUT_ABI, expiry=EXPIRY, private_key=KEY,
    )  # fmt: skip
    assert check_receipt(r) == r.sprinter
    with pytest.raises(InvalidReceipt, match="chain id mismatch"):
        check_receipt(r, chain_id=CHAIN_ID)


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        ({"chain_id": 1}, "chain id mismatch"),
        ({"request_id": b"\x00" * 32}, "request id mismatch"),
        ({"model_hash": b"\x00" * 32}, "model hash mismatch"),
        ({"input_hash": b"\x00" * 32}, "input hash mismatch"),
        ({"now": EXPIRY + 1}, "expired"),
    ],
)
def test_invalid_receipt_for_each_failed_expectation(
    receipt: InferenceReceipt, expectation: dict, message: str
) -> None:
    with pytest.raises(InvalidReceipt, match=message):
        check_receipt(receipt, **expectation)


def test_invalid_receipt_signed_by_another_key_naming_another_sprinter(
    receipt: InferenceReceipt,
) -> None:
    forged = sign_receipt(receipt, OTHER_KEY)
    with pytest.raises(InvalidReceipt, match="signature mismatch"):
        check_receipt(forged)


def test_invalid_receipt_for_model_hash_not_inside_the_cid() -> None:
    r = make_receipt(
        chain_id=CHAIN_ID, model_cid=CID, model_hash=model_hash(b"not hello"), mode=0,
        input_abi=INPUT_ABI, output_abi=OUTPUT_ABI, expiry=EXPIRY, private_key=KEY,
    )  # fmt: skip
    with pytest.raises(InvalidReceipt, match="digest inside the model CID"):
        check_receipt(r)


def test_invalid_receipt_for_high_s_twin_signature(receipt: InferenceReceipt) -> None:
    sig = receipt.signature
    s = int.from_bytes(sig[32:64], "big")
    twin = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([sig[64] ^ 1])
    with pytest.raises(InvalidReceipt, match="high s"):
        recover_signer(dataclasses.replace(receipt, signature=twin))


@pytest.mark.parametrize("sig", [b"", b"\x00" * 64, b"\x00" * 65, b"\x01" * 64 + b"\x07"])
def test_invalid_receipt_for_malformed_signature(receipt: InferenceReceipt, sig: bytes) -> None:
    with pytest.raises(InvalidReceipt, match="signature"):
        recover_signer(dataclasses.replace(receipt, signature=sig))


def test_json_form_round_trips(receipt: InferenceReceipt) -> None:
    d = receipt_to_json(receipt)
    assert d["sprinter"] == KEY_ADDRESS and d["mode"] == 2 and d["chainId"] == CHAIN_ID
    assert d["requestId"].startswith("0x") and len(d["requestId"]) == 66
    assert receipt_from_json(d) == receipt
    lower = {**d, "sprinter": d["sprinter"].lower(), "expiry": hex(EXPIRY)}
    assert receipt_from_json(lower) == receipt


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requestId": "0x1234"}, "requestId.*32 bytes"),
        ({"modelHash": "abc"}, "modelHash.*0x"),
        ({"output": "0xzz"}, "output.*hex"),
        ({"mode": 7}, "mode"),
        ({"chainId": -1}, "chainId"),
        ({"expiry": 2**64}, "expiry"),
        ({"modelCID": 5}, "modelCID"),
        ({"sprinter": "0x" + "00" * 19}, "sprinter.*20 bytes"),
    ],
)
def test_invalid_receipt_json(receipt: InferenceReceipt, change: dict, message: str) -> None:
    with pytest.raises(InvalidReceipt, match=message):
        receipt_from_json({**receipt_to_json(receipt), **change})
    with pytest.raises(InvalidReceipt, match="JSON object"):
        receipt_from_json([1])


def test_leaf_commits_to_proof_and_signature(receipt: InferenceReceipt) -> None:
    leaf = receipt_leaf(receipt)
    assert receipt_leaf(dataclasses.replace(receipt, proof=b"p")) != leaf
    assert receipt_leaf(sign_receipt(receipt, OTHER_KEY)) != leaf
    assert receipt_leaf(receipt) == leaf


def test_hex_string_keys_are_accepted() -> None:
    from neurostack.protocol import sprinter_address

    assert to_checksum_address(sprinter_address("0x" + KEY.hex())) == KEY_ADDRESS


@pytest.mark.parametrize("key", [b"\x00" * 32, b"\x01" * 31, "0xnothex"])
def test_invalid_receipt_for_a_bad_private_key(key: bytes | str) -> None:
    from neurostack.protocol import sprinter_address

    with pytest.raises(InvalidReceipt, match="private key"):
        sprinter_address(key)
