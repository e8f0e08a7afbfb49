"""TEE attestation: the pluggable verifier interface and the development provider.

A TEE sprinter key is admitted to the registry only with an *attestation document*: a
statement, signed by hardware-rooted keys, that the key was generated inside an enclave
running code with a given *measurement*. The registry system contract hands the raw
document to an :class:`AttestationVerifier` chosen by the chain (the environment's
``attestation_verifier``) and then applies the chain's own policy to the result: the key
matches, the measurement is approved and not revoked, the document is fresh.

Real enclaves are not available here, so the default is :class:`DevAttestationVerifier`:
a document is ``abi.encode((address key, bytes32 measurement, uint64 timestamp, bytes sig))``
where ``sig`` (65 bytes ``r ‖ s ‖ v``, ``v`` in {0, 1}) is an *attestation root* key's
signature over ``keccak256("neurostack.attestation.dev.v1" ‖ key ‖ measurement ‖ uint64
timestamp)``. The roots are registry state, seeded from ``[inference] attestation_roots``.
docs/inference.md describes how an AWS Nitro or Intel TDX verifier plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import keccak

from neurostack.protocol.types import Address, Hash32

from .errors import InvalidAttestation
from .registry import RegistryView, Status, attestation_root_status

DEV_ATTESTATION_DOMAIN = b"neurostack.attestation.dev.v1"
DEV_ATTESTATION_ABI = "(address,bytes32,uint64,bytes)"

DEV_MEASUREMENT: Hash32 = Hash32(keccak(b"neurostack.measurement.dev.v1"))
"""The code measurement development documents attest: no enclave at all, the devnet's
ordinary sprinter processes. ``neurostack new`` approves it in ``[inference]
approved_measurements`` and signs the devnet's sprinter keys with it; a production chain
approves the measurements of its real enclave images instead, never this one."""


@dataclass(frozen=True)
class Attestation:
    """What a verified attestation document states."""

    key: Address
    measurement: Hash32
    timestamp: int
    issuer: bytes  # who vouched: a dev root address, a certificate fingerprint, ...


class AttestationVerifier(Protocol):
    """Checks an attestation document's authenticity and says what it attests.

    Implementations must be deterministic (no clock, no network: collateral such as
    certificate revocation lists comes from chain state or the document itself) and raise
    :class:`InvalidAttestation` with a clear message for anything they reject.
    """

    def verify(self, document: bytes, *, registry: RegistryView, now: int) -> Attestation: ...


def dev_attestation_digest(key: Address, measurement: Hash32, timestamp: int) -> Hash32:
    """The digest an attestation root signs in the development format."""
    return Hash32(keccak(DEV_ATTESTATION_DOMAIN + key + measurement + timestamp.to_bytes(8, "big")))


def make_dev_attestation(
    *, key: Address, measurement: Hash32, timestamp: int, root_private_key: bytes
) -> bytes:
    """A development attestation document for ``key``, signed by a dev attestation root."""
    signature = keys.PrivateKey(root_private_key).sign_msg_hash(
        dev_attestation_digest(key, measurement, timestamp)
    )
    return encode([DEV_ATTESTATION_ABI], [(key, measurement, timestamp, signature.to_bytes())])


class DevAttestationVerifier:
    """Accepts documents signed by an active attestation root of the registry."""

    def verify(self, document: bytes, *, registry: RegistryView, now: int) -> Attestation:
        try:
            ((key_hex, measurement, timestamp, sig),) = decode([DEV_ATTESTATION_ABI], document)
        except (DecodingError, ValueError, OverflowError) as exc:
            raise InvalidAttestation(
                f"attestation document is not ABI (address,bytes32,uint64,bytes): {exc}"
            ) from None
        key = Address(bytes.fromhex(key_hex[2:]))
        try:
            signer = keys.Signature(sig).recover_public_key_from_msg_hash(
                dev_attestation_digest(key, measurement, timestamp)
            )
        except (BadSignature, ValidationError, ValueError) as exc:
            raise InvalidAttestation(f"attestation signature is malformed: {exc}") from None
        root = Address(signer.to_canonical_address())
        if attestation_root_status(registry, root) is not Status.ACTIVE:
            raise InvalidAttestation(
                f"attestation is signed by 0x{root.hex()}, which is not an active attestation "
                "root of this chain; sign it with a root listed in [inference] attestation_roots"
            )
        return Attestation(
            key=key, measurement=Hash32(measurement), timestamp=timestamp, issuer=root
        )
