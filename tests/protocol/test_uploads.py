"""The upload-authorisation rule: an owner's EIP-191 personal-sign of the file's sha256."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from neurostack.protocol.uploads import (
    InvalidUploadSignature,
    recover_upload_signer,
    sign_upload,
)

OWNER = Account.from_key("0x" + "11" * 32)
DIGEST = hashlib.sha256(b"an onnx model").digest()


def test_signature_is_what_a_wallet_personal_sign_gives() -> None:
    wallet = Account.sign_message(encode_defunct(primitive=DIGEST), OWNER.key).signature
    assert sign_upload(DIGEST, OWNER.key) == bytes(wallet)


def test_recovers_the_owner() -> None:
    assert recover_upload_signer(DIGEST, sign_upload(DIGEST, OWNER.key)) == OWNER.address


def test_invalid_other_file_recovers_someone_else() -> None:
    other = hashlib.sha256(b"another model").digest()
    assert recover_upload_signer(other, sign_upload(DIGEST, OWNER.key)) != OWNER.address


@pytest.mark.parametrize("signature", ["0x1234", "not hex", b"\x00" * 65])
def test_invalid_malformed_signature(signature: str | bytes) -> None:
    with pytest.raises(InvalidUploadSignature, match="malformed"):
        recover_upload_signer(DIGEST, signature)
