"""Genesis of on-chain inference: the registry account seeded from ``[inference]``.

Registered as a ``sequencer.chain.genesis.GENESIS_HOOKS`` entry. The registry account gets
nonce 1 and a one-byte code (see :data:`~.constants.REGISTRY_CODE`) so EIP-161 never
deletes it and Solidity can call it; its storage holds the chain owner (the sequencer
key's address), the genesis sprinters, attestation roots, approved measurements and the
genesis TEE keys. The inference precompile itself is stateless and gets no account.

Genesis TEE keys (``[inference] tee_keys``) go through the same door as
``registerTeeKey``: the attestation verifier must accept the document against the
registry genesis is building (its roots and measurements), the document must attest the
listed key and an approved measurement. The one rule genesis cannot apply is the
document's age: genesis is a pure function of the config and reads no clock. The key's
``attestedAt`` is the document's own timestamp, so the freshness rule of every block
(``TEE_ATTESTATION_TTL`` after ``attestedAt``) applies unchanged; ``heartbeat`` renews it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_keys import keys
from eth_utils import is_hex, to_canonical_address

from neurostack.protocol.types import ZERO_ADDRESS, Address, Hash32

from ...config import ChainConfig, GenesisTeeKey
from ...errors import ConfigError
from .attestation import AttestationVerifier, DevAttestationVerifier
from .constants import REGISTRY_ADDRESS, REGISTRY_CODE
from .errors import InvalidAttestation
from .registry import (
    RegistryView,
    Status,
    TeeKey,
    measurement_status,
    registry_from_storage,
    set_attestation_root,
    set_chain_owner,
    set_measurement,
    set_sprinter,
    set_tee_key,
)

GENESIS_ATTESTATION_TIME = 0
"""The ``now`` genesis hands the attestation verifier: the genesis block's timestamp
(genesis reads no clock). The development verifier does not look at it."""


def chain_owner_address(config: ChainConfig) -> Address:
    """The sequencer key's address (the registry's owner); zero address without a key file."""
    try:
        text = Path(config.key_file).read_text().strip()
    except OSError:
        return ZERO_ADDRESS
    try:
        return Address(
            keys.PrivateKey(
                bytes.fromhex(text.removeprefix("0x"))
            ).public_key.to_canonical_address()
        )
    except ValueError:
        raise ConfigError(f"{config.key_file}: not a hex private key") from None


def registry_storage(
    config: ChainConfig, owner: Address, verifier: AttestationVerifier | None = None
) -> dict[int, int]:
    """The registry's genesis storage for ``config`` and chain owner ``owner``.

    ``verifier`` checks the documents of ``[inference] tee_keys`` (the development
    verifier by default, as in :func:`~.environment.block_environment`); a chain that plugs
    in a hardware verifier passes the same one here.
    """
    storage: dict[int, int] = {}

    def write(slot: int, value: int) -> None:
        storage[slot] = value

    section = config.inference
    set_chain_owner(write, owner)
    for sprinter in section.sprinters:
        set_sprinter(write, Address(to_canonical_address(sprinter)), Status.ACTIVE)
    for root in section.attestation_roots:
        set_attestation_root(write, Address(to_canonical_address(root)), Status.ACTIVE)
    for measurement in section.approved_measurements:
        raw = bytes.fromhex(measurement.removeprefix("0x")) if is_hex(measurement) else b""
        if len(raw) != 32:
            raise ConfigError(
                f"[inference] approved_measurements: {measurement!r} is not a 32-byte hex string"
            )
        set_measurement(write, Hash32(raw), Status.ACTIVE)
    view = registry_from_storage(storage)
    listed = [entry.key for entry in section.tee_keys]
    if len(set(listed)) != len(listed):
        twice = sorted({k for k in listed if listed.count(k) > 1})
        raise ConfigError(f"[inference] tee_keys: {twice} listed more than once; keep one each")
    for index, entry in enumerate(section.tee_keys):
        set_tee_key(write, admit_genesis_tee_key(entry, index, view, verifier))
    return storage


def admit_genesis_tee_key(
    entry: GenesisTeeKey,
    index: int,
    registry: RegistryView,
    verifier: AttestationVerifier | None = None,
) -> TeeKey:
    """The registry entry of one ``[inference] tee_keys`` item, once its document checks out.

    The checks are ``registerTeeKey``'s (see :mod:`.system_contract`) except the age of
    the document (see the module docstring). Raises :class:`ConfigError` naming the entry.
    """
    where = f"[inference] tee_keys[{index}] ({entry.key})"
    try:
        attestation = (verifier or DevAttestationVerifier()).verify(
            entry.document, registry=registry, now=GENESIS_ATTESTATION_TIME
        )
    except InvalidAttestation as exc:
        raise ConfigError(
            f"{where}: attestation rejected: {exc}; sign a new document for this key "
            "(make_dev_attestation with keys/attestation-root.key) or remove the entry"
        ) from None
    key = Address(to_canonical_address(entry.key))
    if attestation.key != key:
        raise ConfigError(
            f"{where}: the attestation document is for 0x{attestation.key.hex()}, not for this "
            "key; pair each key with its own document"
        )
    if measurement_status(registry, attestation.measurement) is not Status.ACTIVE:
        raise ConfigError(
            f"{where}: the document attests measurement 0x{attestation.measurement.hex()}, "
            "which is not in [inference] approved_measurements; approve it or re-attest the key"
        )
    return TeeKey(key, attestation.measurement, attestation.timestamp, Status.ACTIVE)


def seed_registry(config: ChainConfig, state: dict[Any, dict[str, Any]]) -> None:
    """The genesis hook: add the registry account to the genesis state."""
    try:
        storage = registry_storage(config, chain_owner_address(config))
    except ConfigError:
        raise
    except ValueError as exc:  # a bad address in [inference]
        raise ConfigError(f"[inference]: {exc}") from None
    state[REGISTRY_ADDRESS] = {"balance": 0, "nonce": 1, "code": REGISTRY_CODE, "storage": storage}
