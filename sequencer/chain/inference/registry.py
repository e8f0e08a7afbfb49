"""The registry as py-evm state: views over a live state or a persisted state root.

The layout, typed reads and writes are protocol knowledge shared with light clients and
live in :mod:`neurostack.protocol.registry` (re-exported here); this module only binds a
:class:`RegistryView` to py-evm state.
"""

from __future__ import annotations

from eth.abc import AtomicDatabaseAPI, StateAPI
from eth.db.account import AccountDB
from eth_typing import Address as EvmAddress
from eth_typing import Hash32 as EvmHash32

from neurostack.protocol.registry import (
    OWNER_SLOT,
    REGISTRY_ADDRESS,
    ModelEntry,
    RegistryView,
    Status,
    StorageReader,
    StorageWriter,
    TeeKey,
    ZkModelEntry,
    attestation_root_status,
    chain_owner,
    measurement_status,
    model_of,
    model_slot,
    registry_from_storage,
    set_attestation_root,
    set_chain_owner,
    set_measurement,
    set_model,
    set_sprinter,
    set_tee_key,
    set_zk_blob,
    set_zk_model,
    slot_of,
    sprinter_status,
    tee_key_of,
    zk_blob,
    zk_blob_slot,
    zk_model_of,
)
from neurostack.protocol.types import Hash32

__all__ = [
    "OWNER_SLOT",
    "ModelEntry",
    "RegistryView",
    "Status",
    "StorageReader",
    "StorageWriter",
    "TeeKey",
    "ZkModelEntry",
    "attestation_root_status",
    "chain_owner",
    "live_registry",
    "measurement_status",
    "model_of",
    "model_slot",
    "registry_at",
    "registry_from_storage",
    "set_attestation_root",
    "set_chain_owner",
    "set_measurement",
    "set_model",
    "set_sprinter",
    "set_tee_key",
    "set_zk_blob",
    "set_zk_model",
    "slot_of",
    "sprinter_status",
    "tee_key_of",
    "zk_blob",
    "zk_blob_slot",
    "zk_model_of",
]

_REGISTRY = EvmAddress(REGISTRY_ADDRESS)


def live_registry(state: StateAPI) -> RegistryView:
    """The registry as the given (possibly mid-block) state holds it."""
    return RegistryView(lambda slot: state.get_storage(_REGISTRY, slot))


def registry_at(db: AtomicDatabaseAPI, state_root: Hash32) -> RegistryView:
    """The registry at a persisted state root (the parent block's), read-only."""
    accounts = AccountDB(db, EvmHash32(state_root))
    return RegistryView(lambda slot: accounts.get_storage(_REGISTRY, slot))
