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
- OPTIMISTIC: not supported yet (no signer is admissible).
"""

from __future__ import annotations

from typing import Final

from .modes import InferenceMode
from .registry import RegistryView, Status, measurement_status, sprinter_status, tee_key_of
from .types import Address

TEE_ATTESTATION_TTL: Final = 86_400
"""Seconds a TEE key's attestation stays fresh; ``heartbeat`` renews it."""


def signer_problem(
    signer: Address, mode: InferenceMode, *, registry: RegistryView, now: int
) -> str | None:
    """Why ``signer`` may not sign receipts of ``mode`` in a block at ``now``; ``None`` if it may."""
    who = f"0x{bytes(signer).hex()}"
    if mode is InferenceMode.VANILLA:
        status = sprinter_status(registry, signer)
        if status is Status.ACTIVE:
            return None
        state = "revoked" if status is Status.REVOKED else "not registered"
        return f"signer {who} is {state} as a sprinter"
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
