"""Genesis of on-chain inference: the registry account seeded from the spec's ``RegistrySeed``.

An explicit step of building the genesis state (``sequencer.chain.genesis.genesis_state``
calls :func:`registry_account`). The registry account gets nonce 1 and a one-byte code
(see :data:`~.constants.REGISTRY_CODE`) so EIP-161 never deletes it and Solidity can call
it; its storage holds the chain owner, the genesis sprinters, attestation roots, approved
measurements and the genesis TEE keys. The inference precompile itself is stateless and
gets no account.

Genesis TEE keys go through the same door as ``registerTeeKey``: the fork's attestation
verifier must accept the document against the registry genesis is building (its roots
and measurements), the document must attest the listed key and an approved measurement.
The one rule genesis cannot apply is the document's age: genesis is a pure function of
the spec and reads no clock. The key's ``attestedAt`` is the document's own timestamp, so
the freshness rule of every block (``TEE_ATTESTATION_TTL`` after ``attestedAt``) applies
unchanged; ``heartbeat`` renews it. A rejected document raises
:class:`~sequencer.chain.exceptions.InvalidGenesis` naming the key.
"""

from __future__ import annotations

from typing import Any

from neurostack.protocol.registry import Bond, StakingParams, set_bond
from neurostack.protocol.registry import set_staking_params as _set_staking_params
from neurostack.protocol.types import Address

from ..exceptions import InvalidGenesis
from ..spec import GenesisTeeKey, RegistrySeed
from .attestation import AttestationVerifier
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


def registry_storage(seed: RegistrySeed, verifier: AttestationVerifier) -> dict[int, int]:
    """The registry's genesis storage for ``seed``; ``verifier`` checks the TEE keys'
    documents (the fork's attestation verifier)."""
    storage: dict[int, int] = {}

    def write(slot: int, value: int) -> None:
        storage[slot] = value

    set_chain_owner(write, seed.owner)
    for sprinter in seed.sprinters:
        set_sprinter(write, sprinter, Status.ACTIVE)
    for root in seed.attestation_roots:
        set_attestation_root(write, root, Status.ACTIVE)
    for measurement in seed.measurements:
        set_measurement(write, measurement, Status.ACTIVE)
    if seed.staking != StakingParams():  # defaults are protocol constants: no words, and
        _set_staking_params(write, seed.staking)  # existing chains keep their genesis hash
    if seed.genesis_bond:
        for sprinter in seed.sprinters:
            set_bond(write, sprinter, Bond(seed.genesis_bond, 0, 0))
    view = registry_from_storage(storage)
    for index, entry in enumerate(seed.tee_keys):
        set_tee_key(write, admit_genesis_tee_key(entry, index, view, verifier))
    return storage


def admit_genesis_tee_key(
    entry: GenesisTeeKey, index: int, registry: RegistryView, verifier: AttestationVerifier
) -> TeeKey:
    """The registry entry of one genesis TEE key, once its document checks out.

    The checks are ``registerTeeKey``'s (see :mod:`.system_contract`) except the age of
    the document (see the module docstring). Raises :class:`InvalidGenesis`.
    """
    try:
        attestation = verifier.verify(
            entry.document, registry=registry, now=GENESIS_ATTESTATION_TIME
        )
    except InvalidAttestation as exc:
        raise InvalidGenesis(
            index, entry.key, f"attestation rejected: {exc}",
            "sign a new document for this key or remove the entry",
        ) from None  # fmt: skip
    if attestation.key != entry.key:
        raise InvalidGenesis(
            index, entry.key,
            f"the attestation document is for 0x{attestation.key.hex()}, not for this key",
            "pair each key with its own document",
        )  # fmt: skip
    if measurement_status(registry, attestation.measurement) is not Status.ACTIVE:
        raise InvalidGenesis(
            index, entry.key,
            f"the document attests measurement 0x{attestation.measurement.hex()}, which is "
            "not an approved measurement of this chain",
            "approve it or re-attest the key",
        )  # fmt: skip
    return TeeKey(entry.key, attestation.measurement, attestation.timestamp, Status.ACTIVE)


def registry_account(
    seed: RegistrySeed, verifier: AttestationVerifier
) -> tuple[Address, dict[str, Any]]:
    """The registry's genesis account: its address and py-evm's account details."""
    storage = registry_storage(seed, verifier)
    return Address(REGISTRY_ADDRESS), {
        "balance": seed.genesis_bond * len(set(seed.sprinters)),
        "nonce": 1,
        "code": REGISTRY_CODE,
        "storage": storage,
    }
