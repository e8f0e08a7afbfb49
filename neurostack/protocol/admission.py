"""Which keys may sign inference receipts of which mode: the registry's admission rule.

:func:`signer_problem` is the one rule, shared by the chain's state transition
(``sequencer.chain.inference.verify``) and light clients (``hub_client``), which read the
same registry storage through a :class:`~.registry.RegistryView` — the chain over the
parent block's state, a light client over storage proven with ``eth_getProof`` against the
parent header's state root. A block's receipts are judged by the registry *as of its
parent*, at the block's own timestamp:

- VANILLA: the signer is an active sprinter;
- TEE: the signer was admitted by an attestation document, is not revoked, its code
  measurement is approved (not revoked), and it was attested at most
  :data:`TEE_ATTESTATION_TTL` seconds before the block;
- ZK: any key (the proof is the credential; the chain verifies it against the model's
  registered circuit, ``sequencer.chain.inference.zk``; the signer is who gets paid);
- OPTIMISTIC: the signer is admitted as for VANILLA *and* bonds at least the chain's
  ``minBond`` (native token held by the registry, ``stake()``); only the bonded amount
  counts, not what is unbonding;
- with ``sprinter_admission = "stake"`` (the registry's ``stakecfg``), VANILLA admits a
  signer that bonds at least ``minBond`` instead of one on the owner's list; a key the
  owner revoked stays refused in both admission modes.

The bond parameters are registry words written at genesis, so a light client proves them
like the rest of the registry.
"""

from __future__ import annotations

from typing import Final

from .modes import InferenceMode
from .registry import (
    Admission,
    RegistryView,
    Status,
    bond_of,
    measurement_status,
    sprinter_status,
    staking_params,
    tee_key_of,
)
from .types import Address

TEE_ATTESTATION_TTL: Final = 86_400
"""Seconds a TEE key's attestation stays fresh; ``heartbeat`` renews it."""


def signer_problem(
    signer: Address, mode: InferenceMode, *, registry: RegistryView, now: int
) -> str | None:
    """Why ``signer`` may not sign receipts of ``mode`` in a block at ``now``; ``None`` if it may."""
    who = f"0x{bytes(signer).hex()}"
    if mode is InferenceMode.VANILLA or mode is InferenceMode.OPTIMISTIC:
        return _bonded_sprinter_problem(signer, mode, registry)
    if mode is InferenceMode.TEE:
        key = tee_key_of(registry, signer)
        if key is None or key.status is not Status.ACTIVE:
            state = "revoked" if key is not None else "not admitted"
            return f"signer {who} is {state} as a TEE key (registerTeeKey with an attestation)"
        if measurement_status(registry, key.measurement) is not Status.ACTIVE:
            return (
                f"TEE key {who} runs measurement 0x{key.measurement.hex()}, which is not approved"
            )
        if now - key.attested_at > TEE_ATTESTATION_TTL:
            return (
                f"TEE key {who} was last attested at {key.attested_at}, more than "
                f"{TEE_ATTESTATION_TTL} s before this block; send a heartbeat"
            )
        return None
    if mode is InferenceMode.ZK:
        return None
    return f"{mode.name} receipts are not supported by this node yet"


def _bonded_sprinter_problem(
    signer: Address, mode: InferenceMode, registry: RegistryView
) -> str | None:
    """VANILLA and OPTIMISTIC: the owner's list or a bond, and a bond for OPTIMISTIC."""
    who = f"0x{bytes(signer).hex()}"
    status = sprinter_status(registry, signer)
    if status is Status.REVOKED:
        return f"signer {who} is revoked as a sprinter"
    params = staking_params(registry)
    if params.admission is Admission.LIST and status is not Status.ACTIVE:
        return f"signer {who} is not registered as a sprinter"
    if params.admission is Admission.STAKE or mode is InferenceMode.OPTIMISTIC:
        bonded = bond_of(registry, signer).bonded
        if bonded < params.min_bond:
            return (
                f"signer {who} bonds {bonded} wei, less than the minimum {params.min_bond} "
                f"wei {mode.name} receipts need (stake() on the registry)"
            )
    return None
