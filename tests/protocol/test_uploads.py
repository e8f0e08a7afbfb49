"""The upload-authorisation rule: the owner's EIP-712 signature of a ModelUpload message
bound to one hub, one file, one name, version and description. A signature made for
anything else recovers to another address."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from neurostack.protocol.uploads import (
    InvalidHubId,
    InvalidUploadSignature,
    model_upload,
    parse_hub_id,
    recover_upload_signer,
    sign_upload,
    upload_typed_data,
)

OWNER = Account.from_key("0x" + "11" * 32)
HUB = bytes.fromhex("ab" * 32)
DIGEST = hashlib.sha256(b"an onnx model").digest()
UPLOAD = model_upload(HUB, DIGEST, "mlp", "2", "a tiny regressor")


def test_signature_is_what_a_wallet_signs_with_eth_sign_typed_data_v4() -> None:
    """A wallet gets the JSON of ``upload_typed_data`` (``eth_signTypedData_v4``)."""
    as_sent = json.loads(json.dumps(upload_typed_data(UPLOAD)))
    wallet = Account.sign_message(encode_typed_data(full_message=as_sent), OWNER.key)
    assert sign_upload(UPLOAD, OWNER.key) == bytes(wallet.signature)
    assert as_sent["domain"] == {"name": "NeuroStack Hub", "version": "1", "salt": "0x" + "ab" * 32}


def test_recovers_the_owner() -> None:
    assert recover_upload_signer(UPLOAD, sign_upload(UPLOAD, OWNER.key)) == OWNER.address


def test_fields_are_normalised_as_the_hub_stores_them() -> None:
    upload = model_upload(HUB, DIGEST, "  mlp ", " ", "kept as is ")
    assert (upload.name, upload.version, upload.description) == ("mlp", "1", "kept as is ")


@pytest.mark.parametrize(
    "change",
    [
        {"hub_id": bytes.fromhex("cd" * 32)},
        {"file_sha256": hashlib.sha256(b"another model").digest()},
        {"name": "mlp-v2"},
        {"version": "3"},
        {"description": "something else"},
    ],
)
def test_invalid_signature_for_another_hub_file_name_version_or_description(
    change: dict[str, object],
) -> None:
    signature = sign_upload(UPLOAD, OWNER.key)
    assert recover_upload_signer(dataclasses.replace(UPLOAD, **change), signature) != OWNER.address


def test_invalid_personal_sign_of_the_digest_as_a_login_challenge_would_be() -> None:
    """A site asking the owner to personal-sign 32 bytes (the old upload format, or a
    'login challenge' that is really a model's sha256) gets nothing it can upload with."""
    personal = Account.sign_message(encode_defunct(primitive=DIGEST), OWNER.key).signature
    assert recover_upload_signer(UPLOAD, personal) != OWNER.address
    hashed = Account.sign_message(encode_defunct(hexstr=DIGEST.hex()), OWNER.key).signature
    assert recover_upload_signer(UPLOAD, hashed) != OWNER.address


def test_invalid_typed_signature_from_another_domain() -> None:
    """The same message signed under another application's EIP-712 domain."""
    other = upload_typed_data(UPLOAD)
    other["domain"] = {**other["domain"], "name": "NeuroStack Login"}
    signature = Account.sign_message(encode_typed_data(full_message=other), OWNER.key).signature
    assert recover_upload_signer(UPLOAD, signature) != OWNER.address


@pytest.mark.parametrize("signature", ["0x1234", "not hex", b"\x00" * 65])
def test_invalid_malformed_signature(signature: str | bytes) -> None:
    with pytest.raises(InvalidUploadSignature, match="malformed"):
        recover_upload_signer(UPLOAD, signature)


@pytest.mark.parametrize("value", ["0x1234", "zz" * 32, b"\x01" * 31])
def test_invalid_hub_id(value: str | bytes) -> None:
    with pytest.raises(InvalidHubId):
        parse_hub_id(value)
