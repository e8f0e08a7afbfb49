"""Registry words proven with ``eth_getProof`` against a verified state root, for the light
client's admission check (``neurostack.protocol.admission.signer_problem`` reads them
through a ``RegistryView``)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from neurostack.protocol.errors import InvalidProof
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import (
    REGISTRY_ADDRESS,
    Admission,
    RegistryView,
    bond_of,
    staking_params,
    tee_key_of,
)
from neurostack.protocol.state_proofs import verify_account_proof, verify_storage_proof
from neurostack.protocol.types import Address

from ._checks import MALFORMED, CheckName, Recorder, Rpc, hex_of, short
from ._consensus import proof_answer
from ._rpcwire import BlockHeader

PROOF_KEYS_PER_CALL = 512  # within geth's (and the node's) 1,024 keys per eth_getProof


class ProvenRegistry:
    """Registry words read through ``eth_getProof`` and checked against a state root.

    Every word the admission rule reads is fetched with its proof at ``block_number`` and
    verified against ``state_root`` (the verified header's) before it is used; a node that
    answers for another block, alters a proof node or claims another value is refused.
    """

    def __init__(self, rpc: Rpc, block_number: int, state_root: bytes, record: Recorder) -> None:
        self._rpc = rpc
        self._block = block_number
        self._root = bytes(state_root)
        self._record = record
        self._words: dict[int, int] = {}
        self.view = RegistryView(self.read)

    def read(self, slot: int) -> int:
        """The registry's storage word at ``slot``, proven."""
        if slot not in self._words:
            self._words[slot] = self._prove(slot)
        return self._words[slot]

    @property
    def slots(self) -> dict[int, int]:
        """Every word proven so far (slot -> value)."""
        return dict(self._words)

    def prefetch(self, slots: list[int]) -> None:
        """Prove many words with one ``eth_getProof`` (each checked as :meth:`read` does)."""
        wanted = [s for s in dict.fromkeys(slots) if s not in self._words]
        for i in range(0, len(wanted), PROOF_KEYS_PER_CALL):
            self._words.update(self._prove_all(wanted[i : i + PROOF_KEYS_PER_CALL]))

    def _prove(self, slot: int) -> int:
        return self._prove_all([slot])[slot]

    def _prove_all(self, slots: list[int]) -> dict[int, int]:
        fail = self._record.fail
        registry = "0x" + REGISTRY_ADDRESS.hex()
        raw = self._rpc.request(
            "eth_getProof", registry, [hex(slot) for slot in slots], hex(self._block)
        )
        where = f"block {self._block}'s state root {hex_of(self._root)}"
        try:
            answer = proof_answer(raw)
        except MALFORMED as exc:
            fail(CheckName.REGISTRY, f"the node's eth_getProof answer is malformed ({exc})")
        if answer.address != REGISTRY_ADDRESS:
            fail(
                CheckName.REGISTRY,
                f"asked for the registry's proof, got {hex_of(answer.address)}'s",
            )
        try:
            account = verify_account_proof(self._root, REGISTRY_ADDRESS, answer.account_proof)
        except InvalidProof as exc:
            fail(CheckName.REGISTRY, f"the registry's account proof fails against {where}: {exc}")
        if answer.storage_hash != account.storage_root:
            fail(
                CheckName.REGISTRY,
                f"the node claims the registry's storageHash is {hex_of(answer.storage_hash)}; "
                f"its proof against {where} proves {hex_of(account.storage_root)}",
            )
        values: dict[int, int] = {}
        for i, slot in enumerate(slots):
            if len(answer.storage) != len(slots) or answer.storage[i].slot != slot:
                fail(CheckName.REGISTRY, f"the answer does not carry the proof of slot {hex(slot)}")
            entry = answer.storage[i]
            try:
                value = verify_storage_proof(account.storage_root, slot, entry.proof)
            except InvalidProof as exc:
                fail(CheckName.REGISTRY, f"the proof of registry slot {hex(slot)} fails: {exc}")
            if entry.value != value:
                fail(
                    CheckName.REGISTRY,
                    f"the node claims registry slot {hex(slot)} holds {entry.value}; its proof "
                    f"against {where} proves {value}",
                )
            values[slot] = value
        return values


def admission_detail(
    signer: Address, mode: InferenceMode, registry: ProvenRegistry, parent: int, now: int
) -> str:
    """What made ``signer`` admissible (for people): its registry entry, proven."""
    who = to_checksum_address(signer)
    if mode is InferenceMode.TEE:
        key = tee_key_of(registry.view, signer)
        if key is not None:
            return (
                f"{who} is an admitted TEE key running approved measurement "
                f"{hex_of(key.measurement)}, attested {now - key.attested_at} s before the block "
                f"(registry of block {parent})"
            )
    if mode is InferenceMode.ZK:
        return f"{who} signed a ZK receipt: any key may, the proof is the credential (check zk)"
    params = staking_params(registry.view)
    bonded = bond_of(registry.view, signer).bonded
    if mode is InferenceMode.OPTIMISTIC or params.admission is Admission.STAKE:
        return (
            f"{who} bonds {bonded} wei, at least the minimum {params.min_bond} wei "
            f"(registry of block {parent})"
        )
    return f"{who} is an active sprinter (registry of block {parent})"


def registry_detail(registry: ProvenRegistry, parent: BlockHeader) -> str:
    words = ", ".join(
        f"{short(s.to_bytes(32, 'big'))}={v if v < 2**64 else short(v.to_bytes(32, 'big'))}"
        for s, v in registry.slots.items()
    )
    return (
        f"{len(registry.slots)} registry word(s) proven against block {parent.number}'s "
        f"stateRoot {hex_of(parent.state_root)}: {words}"
    )
