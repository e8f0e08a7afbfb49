"""The model-upload authorisation rule shared by the hub, the SDK and the CLI.

An upload is authorised by the owner's EIP-712 signature (``eth_signTypedData_v4``, what
wallets show field by field) of a typed ``ModelUpload`` message::

    domain   EIP712Domain(string name, string version, bytes32 salt)
             name "NeuroStack Hub", version "1", salt = the hub's id (32 bytes, GET /v1/hub)
    message  ModelUpload(bytes32 fileHash, string name, string version, string description)
             fileHash = sha256 of the model file

The domain binds a signature to one hub and to this purpose, the message to one file
under one name, version and description. So a signature made for anything else verifies
to some other address and is refused: a personal-sign (EIP-191) of the same 32 bytes (a
login challenge, or the upload format used before), a signature for another hub, or for
another file, name, version or description. The chain id is deliberately not in the
domain: a hub serves many chains, and a wallet would refuse to sign a domain whose chain
id is not the one it is connected to.

Pure: encoding, signing and recovery with ``eth_account.messages.encode_typed_data``; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address

# eth_account is imported by the functions that sign or recover: importing it costs about
# half a second of CPU (eth_keyfile builds py_ecc's BLS tables), which the hub, the SDK and
# the explorer would otherwise pay at every start for the hub-id helpers below.
if TYPE_CHECKING:
    from eth_account.messages import SignableMessage

from .errors import ProtocolError

UPLOAD_DOMAIN_NAME = "NeuroStack Hub"
UPLOAD_DOMAIN_VERSION = "1"
UPLOAD_PRIMARY_TYPE = "ModelUpload"
UPLOAD_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "salt", "type": "bytes32"},
    ],
    UPLOAD_PRIMARY_TYPE: [
        {"name": "fileHash", "type": "bytes32"},
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "description", "type": "string"},
    ],
}
DEFAULT_MODEL_VERSION = "1"


class InvalidUploadSignature(ProtocolError, ValueError):
    """The signature is not 65 bytes of a recoverable secp256k1 signature."""


class InvalidHubId(ProtocolError, ValueError):
    """A hub id that is not 32 bytes of hex."""


@dataclass(frozen=True)
class ModelUpload:
    """What an owner authorises: this file, under these names, on this hub.

    Build it with :func:`model_upload`, which normalises the fields the way the hub
    stores them (so the signed values are the stored values)."""

    hub_id: bytes  # 32 bytes: the hub's id, the EIP-712 domain's salt
    file_sha256: bytes  # 32 bytes
    name: str
    version: str
    description: str


def parse_hub_id(value: str | bytes) -> bytes:
    """A hub id from 32 bytes or its ``0x`` hex form; :class:`InvalidHubId` otherwise."""
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = bytes.fromhex(value.strip().removeprefix("0x"))
        except ValueError:
            raw = b""
    if len(raw) != 32:
        raise InvalidHubId(f"{value!r} is not a hub id (32 bytes of 0x-prefixed hex)")
    return raw


def model_upload(
    hub_id: bytes, file_sha256: bytes, name: str, version: str = "", description: str = ""
) -> ModelUpload:
    """The upload to sign or check: name and version stripped, an empty version is
    :data:`DEFAULT_MODEL_VERSION`, the description as given."""
    if len(file_sha256) != 32:
        raise ProtocolError("the file hash of an upload is its 32-byte sha256 digest")
    return ModelUpload(
        hub_id=parse_hub_id(hub_id),
        file_sha256=bytes(file_sha256),
        name=name.strip(),
        version=version.strip() or DEFAULT_MODEL_VERSION,
        description=description,
    )


def upload_typed_data(upload: ModelUpload) -> dict[str, Any]:
    """The full EIP-712 message, JSON-ready: what ``eth_signTypedData_v4`` takes."""
    return {
        "types": UPLOAD_TYPES,
        "primaryType": UPLOAD_PRIMARY_TYPE,
        "domain": {
            "name": UPLOAD_DOMAIN_NAME,
            "version": UPLOAD_DOMAIN_VERSION,
            "salt": "0x" + upload.hub_id.hex(),
        },
        "message": {
            "fileHash": "0x" + upload.file_sha256.hex(),
            "name": upload.name,
            "version": upload.version,
            "description": upload.description,
        },
    }


def upload_message(upload: ModelUpload) -> SignableMessage:
    """The EIP-712 signable message of an upload."""
    from eth_account.messages import encode_typed_data

    return encode_typed_data(full_message=upload_typed_data(upload))


def sign_upload(upload: ModelUpload, private_key: bytes | str) -> bytes:
    """The owner's 65-byte signature authorising ``upload``."""
    from eth_account import Account

    return bytes(Account.sign_message(upload_message(upload), private_key).signature)


def recover_upload_signer(upload: ModelUpload, signature: bytes | str) -> str:
    """The EIP-55 address that signed ``upload`` (some unrelated address if the signature
    was made for anything else)."""
    from eth_account import Account

    try:
        signer = Account.recover_message(upload_message(upload), signature=signature)
    except Exception:  # noqa: BLE001 - malformed hex, wrong length, bad v: several types
        raise InvalidUploadSignature(
            "the upload signature is malformed: expected 65 bytes of hex, the owner's "
            "EIP-712 signature of the ModelUpload message"
        ) from None
    return to_checksum_address(signer)
