"""The model-upload authorisation rule shared by the hub and the SDK.

An upload is authorised by the owner's EIP-191 personal-sign (``eth_sign`` /
``personal_sign``, what wallets do) of the model file's 32-byte sha256 digest, so nobody
can publish under another address. Pure: signing and recovery, no I/O.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import to_checksum_address

from .errors import ProtocolError


class InvalidUploadSignature(ProtocolError, ValueError):
    """The signature is not 65 bytes of a recoverable secp256k1 signature."""


def upload_message(file_sha256: bytes) -> SignableMessage:
    """The EIP-191 message an owner signs to upload the file with this sha256 digest."""
    return encode_defunct(primitive=bytes(file_sha256))


def sign_upload(file_sha256: bytes, private_key: bytes | str) -> bytes:
    """The owner's 65-byte signature authorising the upload of this file."""
    return bytes(Account.sign_message(upload_message(file_sha256), private_key).signature)


def recover_upload_signer(file_sha256: bytes, signature: bytes | str) -> str:
    """The EIP-55 address that signed the upload of this file."""
    try:
        signer = Account.recover_message(upload_message(file_sha256), signature=signature)
    except Exception:  # noqa: BLE001 - malformed hex, wrong length, bad v: several types
        raise InvalidUploadSignature(
            "the upload signature is malformed: expected 65 bytes of hex, an EIP-191 "
            "personal-sign of the file's sha256 digest"
        ) from None
    return to_checksum_address(signer)
