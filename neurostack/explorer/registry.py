"""The sprinter/model registry as the explorer sees it: storage reads over JSON-RPC.

The layout is protocol knowledge (``neurostack.protocol.registry``); here every slot is
an ``eth_getStorageAt`` of :data:`REGISTRY_ADDRESS` at a given block, so the model and
sprinter pages show the registry exactly as the chain's state transition reads it (the
parent block's state for a receipt in block N).
"""

from __future__ import annotations

from dataclasses import dataclass

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import (
    REGISTRY_ADDRESS,
    ModelEntry,
    RegistryView,
    Status,
    TeeKey,
    chain_owner,
    measurement_status,
    model_of,
    sprinter_status,
    tee_key_of,
)
from neurostack.protocol.types import Address

from .node import NodeReader

REGISTRY_HEX = "0x" + bytes(REGISTRY_ADDRESS).hex()

TEE_ATTESTATION_TTL = 86_400
"""Seconds a TEE attestation stays fresh (the chain's ``TEE_ATTESTATION_TTL``; a test
checks they agree, since the explorer does not import the sequencer)."""


def registry_view(reader: NodeReader, block: int | str = "latest") -> RegistryView:
    """The registry as of ``block``, read slot by slot (cached for the view's lifetime)."""
    cache: dict[int, int] = {}

    def read(slot: int) -> int:
        if slot not in cache:
            cache[slot] = reader.storage(REGISTRY_HEX, slot, block)
        return cache[slot]

    return RegistryView(read)


def address_bytes(address: str) -> Address:
    return Address(bytes.fromhex(address.removeprefix("0x")))


def read_model(reader: NodeReader, cid: str, block: int | str = "latest") -> ModelEntry | None:
    """The registry entry of ``cid`` at ``block`` (``None``: not registered)."""
    return model_of(registry_view(reader, block), cid)


@dataclass(frozen=True)
class Admission:
    """How a key may sign receipts, as of one block."""

    owner_added: Status  # VANILLA: added by the chain owner (or revoked)
    tee: TeeKey | None  # TEE: admitted with an attestation document
    measurement: Status | None  # the TEE key's code measurement: approved or revoked
    fresh_until: int | None  # block time until which its attestation is fresh
    chain_owner: str
    bonded_rule: tuple[bool, bool] = (False, False)
    """VANILLA and OPTIMISTIC under the bond rules (``sprinter_admission``, ``minBond``),
    from the shared admission rule; VANILLA's also covers the owner's list."""

    def tee_fresh(self, now: int) -> bool:
        return self.fresh_until is not None and now <= self.fresh_until

    def admissible(self, mode: str, now: int) -> bool:
        """Whether a receipt of ``mode`` signed by this key passes the chain's check."""
        if mode == "VANILLA":
            return self.bonded_rule[0]
        if mode == "OPTIMISTIC":
            return self.bonded_rule[1]
        if mode == "TEE":
            return (
                self.tee is not None
                and self.tee.status is Status.ACTIVE
                and self.measurement is Status.ACTIVE
                and self.tee_fresh(now)
            )
        return False  # ZK: not accepted by this chain version


def read_admission(reader: NodeReader, key: str, block: int | str = "latest") -> Admission:
    view = registry_view(reader, block)
    address = address_bytes(key)
    tee = tee_key_of(view, address)
    return Admission(
        owner_added=sprinter_status(view, address),
        tee=tee,
        measurement=measurement_status(view, tee.measurement) if tee is not None else None,
        fresh_until=tee.attested_at + TEE_ATTESTATION_TTL if tee is not None else None,
        chain_owner="0x" + bytes(chain_owner(view)).hex(),
        bonded_rule=(
            signer_problem(address, InferenceMode.VANILLA, registry=view, now=0) is None,
            signer_problem(address, InferenceMode.OPTIMISTIC, registry=view, now=0) is None,
        ),
    )
