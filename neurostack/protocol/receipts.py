"""Inference receipts: the signed unit of the inference witness (DESIGN.md section 6).

A receipt binds an output to one request (chain, model, mode, input) and to the sprinter
key that signed it. ``check_receipt`` is what the chain's state transition, the bridge
and the SDK run; the admissibility of the signer for a mode (registry, attestation, ZK
proof) is decided by the caller, not here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError, EncodingError
from eth_keys import keys
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import to_checksum_address

from .cid import cid_digest
from .errors import InvalidCID, InvalidReceipt
from .hashing import check_bytes, keccak, uint_bytes
from .modes import InferenceMode
from .request import output_hash, request_id_from_hash
from .types import Address, Hash32, ModelCID, RequestId

DOMAIN = b"neurostack.inference.v1"
"""Domain separator prefixed to every signed receipt digest."""

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
LEAF_ABI = [
    "bytes32", "string", "bytes32", "uint8", "bytes32", "bytes",
    "bytes32", "address", "uint64", "bytes", "bytes",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class InferenceReceipt:
    """One inference result, signed by a sprinter. ``output`` is ``abi.encode(ModelOutput)``."""

    chain_id: int
    request_id: RequestId
    model_cid: ModelCID
    model_hash: Hash32
    mode: InferenceMode
    input_hash: Hash32
    output: bytes
    output_hash: Hash32
    sprinter: Address
    expiry: int
    proof: bytes = b""
    signature: bytes = b""


def receipt_digest(r: InferenceReceipt) -> Hash32:
    """``keccak256(DOMAIN ‖ uint256 chainId ‖ requestId ‖ modelHash ‖ inputHash ‖ outputHash
    ‖ uint8 mode ‖ uint64 expiry)``: what the sprinter signs."""
    try:
        return keccak(
            DOMAIN
            + uint_bytes(r.chain_id, 32, "chain id")
            + check_bytes(r.request_id, 32, "request id")
            + check_bytes(r.model_hash, 32, "model hash")
            + check_bytes(r.input_hash, 32, "input hash")
            + check_bytes(r.output_hash, 32, "output hash")
            + uint_bytes(int(r.mode), 1, "mode")
            + uint_bytes(r.expiry, 8, "expiry")
        )
    except ValueError as exc:
        raise InvalidReceipt(f"malformed receipt: {exc}") from None


# A signing key: raw bytes, hex, or an eth_keys PrivateKey built once by a caller that
# signs many receipts (building one derives the public key: about 0.1 ms).
SigningKey = bytes | str | PrivateKey


def _private_key(private_key: SigningKey) -> PrivateKey:
    if isinstance(private_key, PrivateKey):
        return private_key
    try:
        if isinstance(private_key, str):
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        return PrivateKey(private_key)
    except (ValidationError, ValueError) as exc:
        raise InvalidReceipt(f"not a secp256k1 private key: {exc}") from None


def sprinter_address(private_key: SigningKey) -> Address:
    """The address of a sprinter signing key."""
    return Address(_private_key(private_key).public_key.to_canonical_address())


def sign_digest(digest: bytes, private_key: SigningKey) -> bytes:
    """A 65-byte ``r ‖ s ‖ v`` signature (v ∈ {0, 1}, low s) of a 32-byte ``digest``."""
    return bytes(_private_key(private_key).sign_msg_hash(bytes(digest)).to_bytes())


def recover_digest_signer(digest: bytes, signature: object, what: str = "receipt") -> Address:
    """The address that signed ``digest``; InvalidReceipt naming ``what`` if the signature
    is malformed, high-s (EIP-2) or does not recover."""
    sig = signature
    if not isinstance(sig, (bytes, bytearray)) or len(sig) != 65:
        raise InvalidReceipt(f"{what} signature must be 65 bytes (r ‖ s ‖ v); sign the {what}")
    if int.from_bytes(sig[32:64], "big") > SECP256K1_N // 2:
        # A high-s twin is a second valid signature of the same digest; accepting it would
        # give one receipt two Merkle leaves.
        raise InvalidReceipt(f"{what} signature has a high s value (EIP-2); re-sign it")
    try:
        public_key = keys.Signature(bytes(sig)).recover_public_key_from_msg_hash(bytes(digest))
    except (BadSignature, ValidationError, ValueError) as exc:
        raise InvalidReceipt(f"{what} signature is malformed: {exc}") from None
    return Address(public_key.to_canonical_address())


def sign_receipt(r: InferenceReceipt, private_key: SigningKey) -> InferenceReceipt:
    """``r`` signed with ``private_key`` (65-byte ``r ‖ s ‖ v``, v ∈ {0, 1}, low s)."""
    return dataclasses.replace(r, signature=sign_digest(receipt_digest(r), private_key))


def make_receipt(
    *,
    chain_id: int,
    model_cid: str,
    model_hash: bytes,
    mode: int,
    input_abi: bytes,
    output_abi: bytes,
    expiry: int,
    private_key: SigningKey,
    proof: bytes = b"",
) -> InferenceReceipt:
    """Build and sign the receipt of one inference (request id and hashes computed here)."""
    key = _private_key(private_key)
    in_hash = keccak(bytes(input_abi))
    try:
        rid = request_id_from_hash(chain_id, model_cid, int(mode), in_hash)
        parsed_mode = InferenceMode(mode)
    except ValueError as exc:
        raise InvalidReceipt(f"cannot make a receipt: {exc}") from None
    unsigned = InferenceReceipt(
        chain_id=chain_id,
        request_id=rid,
        model_cid=ModelCID(model_cid),
        model_hash=Hash32(bytes(model_hash)),
        mode=parsed_mode,
        input_hash=in_hash,
        output=bytes(output_abi),
        output_hash=output_hash(output_abi),
        sprinter=Address(key.public_key.to_canonical_address()),
        expiry=expiry,
        proof=bytes(proof),
    )
    return sign_receipt(unsigned, key)


def recover_signer(r: InferenceReceipt) -> Address:
    """The address whose key signed ``r``; InvalidReceipt if the signature is malformed."""
    return recover_digest_signer(receipt_digest(r), r.signature)


def check_receipt(
    r: InferenceReceipt,
    *,
    chain_id: int | None = None,
    request_id: bytes | None = None,
    model_hash: bytes | None = None,
    input_hash: bytes | None = None,
    now: int | None = None,
) -> Address:
    """Verify a receipt's own consistency and each given expectation; return the signer.

    Always checked: the output hash, the request id (from chain id, CID, mode and input
    hash), the model hash (the digest inside the CID) and the signature (recovers to
    ``sprinter``). Raises InvalidReceipt whose message names the failed check.
    """
    if chain_id is not None and r.chain_id != chain_id:
        raise InvalidReceipt(
            f"chain id mismatch: receipt is for chain {r.chain_id}, not {chain_id}"
        )
    if request_id is not None and bytes(r.request_id) != bytes(request_id):
        raise InvalidReceipt(
            f"request id mismatch: receipt is for 0x{bytes(r.request_id).hex()}, "
            f"not 0x{bytes(request_id).hex()}"
        )
    if model_hash is not None and bytes(r.model_hash) != bytes(model_hash):
        raise InvalidReceipt("model hash mismatch: the receipt was made with another model file")
    if input_hash is not None and bytes(r.input_hash) != bytes(input_hash):
        raise InvalidReceipt("input hash mismatch: the receipt answers another input")
    if now is not None and now > r.expiry:
        raise InvalidReceipt(f"receipt expired at {r.expiry} (now {now}); request a new one")
    if not isinstance(r.output, (bytes, bytearray)) or keccak(bytes(r.output)) != r.output_hash:
        raise InvalidReceipt("output hash mismatch: the output is not the one that was signed")
    try:
        mode = InferenceMode(r.mode)
        expected_id = request_id_from_hash(r.chain_id, r.model_cid, mode, r.input_hash)
    except (ValueError, AttributeError) as exc:
        raise InvalidReceipt(f"malformed receipt: {exc}") from None
    if expected_id != r.request_id:
        raise InvalidReceipt(
            "request id mismatch: it is not the id of the receipt's chain, model, mode and input"
        )
    try:
        digest = cid_digest(r.model_cid)
    except InvalidCID as exc:
        raise InvalidReceipt(f"model CID invalid: {exc}") from None
    if digest != r.model_hash:
        raise InvalidReceipt("model hash mismatch: it is not the digest inside the model CID")
    signer = recover_signer(r)
    if signer != r.sprinter:
        raise InvalidReceipt(
            f"signature mismatch: signed by {to_checksum_address(signer)}, but the receipt "
            f"names sprinter {_address_text(r.sprinter)}"
        )
    return signer


def _address_text(a: object) -> str:
    try:
        return to_checksum_address(bytes(a))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return repr(a)


def receipt_leaf(r: InferenceReceipt) -> Hash32:
    """The receipt's leaf in the block's ``inferenceRoot`` Merkle tree: the keccak256 of
    :func:`encode_receipt`."""
    return keccak(encode_receipt(r))


def encode_receipt(r: InferenceReceipt) -> bytes:
    """The receipt's witness bytes, ``abi.encode(requestId, modelCID, modelHash, mode,
    inputHash, output, outputHash, sprinter, expiry, proof, signature)`` (``LEAF_ABI``);
    the chain id is not repeated (the request id and the signature commit to it)."""
    try:
        return eth_abi.encode(
            LEAF_ABI,
            [
                bytes(r.request_id), r.model_cid, bytes(r.model_hash), int(r.mode),
                bytes(r.input_hash), bytes(r.output), bytes(r.output_hash),
                bytes(r.sprinter), r.expiry, bytes(r.proof), bytes(r.signature),
            ],
        )  # fmt: skip
    except (EncodingError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise InvalidReceipt(f"malformed receipt: {exc}") from None


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def receipt_to_json(r: InferenceReceipt) -> dict[str, Any]:
    """JSON form: camelCase keys, bytes as 0x-hex, the sprinter checksummed, ints as ints."""
    return {
        "chainId": r.chain_id,
        "requestId": _hex(r.request_id),
        "modelCID": r.model_cid,
        "modelHash": _hex(r.model_hash),
        "mode": int(r.mode),
        "inputHash": _hex(r.input_hash),
        "output": _hex(r.output),
        "outputHash": _hex(r.output_hash),
        "sprinter": to_checksum_address(bytes(r.sprinter)),
        "expiry": r.expiry,
        "proof": _hex(r.proof),
        "signature": _hex(r.signature),
    }


def _read_hex(d: dict[str, Any], key: str, size: int | None = None) -> bytes:
    value = d.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidReceipt(f"receipt field {key!r} must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidReceipt(f"receipt field {key!r} is not valid hex") from None
    if size is not None and len(raw) != size:
        raise InvalidReceipt(f"receipt field {key!r} must be {size} bytes, got {len(raw)}")
    return raw


def _read_uint(d: dict[str, Any], key: str, bits: int) -> int:
    value = d.get(key)
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            raise InvalidReceipt(f"receipt field {key!r} must be an integer") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InvalidReceipt(f"receipt field {key!r} must be an integer from 0 to 2**{bits}-1")
    return value


def receipt_from_json(d: Any) -> InferenceReceipt:
    """Read :func:`receipt_to_json`'s form; InvalidReceipt on missing or malformed fields.

    This checks the form only; call :func:`check_receipt` to verify the receipt.
    """
    if not isinstance(d, dict):
        raise InvalidReceipt("a receipt must be a JSON object")
    try:
        mode = InferenceMode(_read_uint(d, "mode", 8))
    except ValueError:
        raise InvalidReceipt(
            f"receipt field 'mode' is {d.get('mode')!r}, not a known mode"
        ) from None
    if not isinstance(d.get("modelCID"), str):
        raise InvalidReceipt("receipt field 'modelCID' must be a string")
    return InferenceReceipt(
        chain_id=_read_uint(d, "chainId", 256),
        request_id=RequestId(_read_hex(d, "requestId", 32)),
        model_cid=ModelCID(d["modelCID"]),
        model_hash=Hash32(_read_hex(d, "modelHash", 32)),
        mode=mode,
        input_hash=Hash32(_read_hex(d, "inputHash", 32)),
        output=_read_hex(d, "output"),
        output_hash=Hash32(_read_hex(d, "outputHash", 32)),
        sprinter=Address(_read_hex(d, "sprinter", 20)),
        expiry=_read_uint(d, "expiry", 64),
        proof=_read_hex(d, "proof") if "proof" in d else b"",
        signature=_read_hex(d, "signature") if "signature" in d else b"",
    )


def decode_receipt(data: bytes, chain_id: int) -> InferenceReceipt:
    """The receipt :func:`encode_receipt` encoded, for ``chain_id`` (the encoding leaves it
    out); :class:`InvalidReceipt` when ``data`` is not that encoding. Checks the form only."""
    try:
        fields = eth_abi.decode(LEAF_ABI, bytes(data), strict=True)
    except (DecodingError, ValueError, OverflowError, TypeError) as exc:
        raise InvalidReceipt(f"not an ABI-encoded receipt ({LEAF_ABI}): {exc}") from None
    rid, cid, mhash, mode, ihash, output, ohash, sprinter, expiry, proof, signature = fields
    try:
        parsed_mode = InferenceMode(mode)
    except ValueError:
        raise InvalidReceipt(f"receipt mode {mode} is not a known mode") from None
    return InferenceReceipt(
        chain_id=chain_id,
        request_id=RequestId(rid),
        model_cid=ModelCID(cid),
        model_hash=Hash32(mhash),
        mode=parsed_mode,
        input_hash=Hash32(ihash),
        output=bytes(output),
        output_hash=Hash32(ohash),
        sprinter=Address(bytes.fromhex(sprinter[2:])),
        expiry=expiry,
        proof=bytes(proof),
        signature=bytes(signature),
    )
