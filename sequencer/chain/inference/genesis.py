"""Genesis of on-chain inference: the registry account seeded from ``[inference]``.

Registered as a ``sequencer.chain.genesis.GENESIS_HOOKS`` entry. The registry account gets
nonce 1 and a one-byte code (see :data:`~.constants.REGISTRY_CODE`) so EIP-161 never
deletes it and Solidity can call it; its storage holds the chain owner (the sequencer
key's address), the genesis sprinters, attestation roots and approved measurements.
The inference precompile itself is stateless and gets no account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_keys import keys
from eth_utils import is_hex, to_canonical_address

from neurostack.protocol.types import ZERO_ADDRESS, Address, Hash32

from ...config import ChainConfig
from ...errors import ConfigError
from .constants import REGISTRY_ADDRESS, REGISTRY_CODE
from .registry import (
    Status,
    set_attestation_root,
    set_chain_owner,
    set_measurement,
    set_sprinter,
)


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


def registry_storage(config: ChainConfig, owner: Address) -> dict[int, int]:
    """The registry's genesis storage for ``config`` and chain owner ``owner``."""
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
    return storage


def seed_registry(config: ChainConfig, state: dict[Any, dict[str, Any]]) -> None:
    """The genesis hook: add the registry account to the genesis state."""
    try:
        storage = registry_storage(config, chain_owner_address(config))
    except ConfigError:
        raise
    except ValueError as exc:  # a bad address in [inference]
        raise ConfigError(f"[inference]: {exc}") from None
    state[REGISTRY_ADDRESS] = {"balance": 0, "nonce": 1, "code": REGISTRY_CODE, "storage": storage}
