"""The sprinter/model registry as chain state: its address, storage layout, typed reads, writes.

The registry lives in the storage of :data:`REGISTRY_ADDRESS`. Its admin ABI is the
native system contract in ``sequencer.chain.inference.system_contract``; this module only
knows the layout, so the chain, light clients (``hub_client``) and explorers share it. Every slot is ``keccak256("neurostack.registry." ‖ namespace ‖ 0x00 ‖ key)`` (a
word-sized integer; entries spanning several words use the following slots), so entries
never collide and any tool can read them with ``eth_getStorageAt``:

============================  =======================  =================================
namespace                      key                      value (uint256 words)
============================  =======================  =================================
``owner``                      (none)                   chain owner address
``sprinter``                   address (20 bytes)       status: 0 unknown, 1 active, 2 revoked
``measurement``                measurement (32 bytes)   status: 1 approved, 2 revoked
``root``                       address                  attestation root status: 1 active, 2 revoked
``teekey``                     address                  +0 measurement, +1 attestedAt, +2 status
``model``                      keccak256(utf8(cid))     +0 modelHash, +1 owner,
                                                        +2 ``1<<128 | inferenceGas<<16 | royaltyBps``
``zkmodel``                    keccak256(utf8(cid))     +0 settingsHash (sha256), +1 verifyingKeyHash
                                                        (sha256), +2 ``1<<128 | nInputs<<8 | nOutputs``,
                                                        +3 the scales, one int8 byte each (inputs
                                                        then outputs) from the most significant byte
``zkblob``                     sha256 (32 bytes)        +0 byte length, +1… the bytes in 32-byte words
                                                        (circuit settings and verifying keys by hash)
``stakecfg``                   (none)                   +0 admission (0 list, 1 stake), +1 minBond,
                                                        +2 challengeWindow, +3 unbondingDelay,
                                                        +4 challengerShareBps (genesis, from the
                                                        spec; all zero: :class:`StakingParams`'s
                                                        defaults)
``bond``                       address                  +0 bonded wei, +1 unbonding wei,
                                                        +2 block from which ``withdraw`` may pay out
``optresult``                  request id (32 bytes)    +0 sprinter, +1 outputHash,
                                                        +2 ``status<<64 | blockNumber`` (status 1
                                                        recorded, 2 challenged)
``slashburn``                  (none)                   wei burned by slashing, in total
============================  =======================  =================================

The state transition reads the registry through a :class:`RegistryView` over the *parent*
block's state (``sequencer.chain.inference.registry_at``), so a change made in block N (a revoked key, a new
model price) applies from block N+1 on and every transaction of a block sees the same
registry, which keeps PIPE pre-execution stable. View functions called by contracts read
the live state (``live_registry``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from .hashing import keccak
from .types import Address, Hash32, ModelCID

REGISTRY_ADDRESS: Final = Address(bytes.fromhex("4e53" + "00" * 17 + "01"))
"""``0x4E53000000000000000000000000000000000001`` ("NS", system contract 1): where the
registry's native system contract and its storage live. It is outside OpenGradient's
precompile range (``0x…F4`` inference, ``0x…F5`` price history), so contracts written for
OpenGradient find the addresses they expect, and outside Ethereum's precompile range."""

StorageReader = Callable[[int], int]
StorageWriter = Callable[[int, int], None]

_NS = b"neurostack.registry."


class Status(IntEnum):
    """Status word of sprinters, measurements, attestation roots and TEE keys."""

    UNKNOWN = 0
    ACTIVE = 1
    REVOKED = 2


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: what its calls cost and who earns royalties."""

    model_hash: Hash32
    owner: Address
    inference_gas: int
    royalty_bps: int


@dataclass(frozen=True)
class TeeKey:
    """A sprinter key admitted through a TEE attestation document."""

    key: Address
    measurement: Hash32
    attested_at: int
    status: Status


@dataclass(frozen=True)
class RegistryView:
    """Read access to registry storage; ``read(slot) -> word``."""

    read: StorageReader


def slot_of(namespace: bytes, key: bytes = b"") -> int:
    """The storage slot of ``key`` in ``namespace`` (see the module docstring)."""
    return int.from_bytes(keccak(_NS + namespace + b"\x00" + key), "big")


OWNER_SLOT = slot_of(b"owner")


def model_slot(model_cid: str) -> int:
    """The first of a model entry's three slots."""
    return slot_of(b"model", keccak(model_cid.encode()))


def registry_from_storage(storage: dict[int, int]) -> RegistryView:
    """A registry over a plain slot map (genesis previews, proofs, unit tests)."""
    return RegistryView(lambda slot: storage.get(slot, 0))


# --- reads -----------------------------------------------------------------------------


def _address(word: int) -> Address:
    return Address(word.to_bytes(32, "big")[12:])


def chain_owner(view: RegistryView) -> Address:
    """The address allowed to call admin functions (the sequencer key's address)."""
    return _address(view.read(OWNER_SLOT))


def sprinter_status(view: RegistryView, sprinter: Address) -> Status:
    """Whether a key may sign VANILLA receipts."""
    return Status(view.read(slot_of(b"sprinter", sprinter)))


def measurement_status(view: RegistryView, measurement: Hash32) -> Status:
    """Whether a TEE code measurement is approved (ACTIVE), revoked or unknown."""
    return Status(view.read(slot_of(b"measurement", measurement)))


def attestation_root_status(view: RegistryView, root: Address) -> Status:
    """Whether an attestation root key may sign (dev) attestation documents."""
    return Status(view.read(slot_of(b"root", root)))


def tee_key_of(view: RegistryView, key: Address) -> TeeKey | None:
    """The TEE admission of ``key``, or ``None`` when it was never admitted."""
    base = slot_of(b"teekey", key)
    status = Status(view.read(base + 2))
    if status is Status.UNKNOWN:
        return None
    return TeeKey(
        key=key,
        measurement=Hash32(view.read(base).to_bytes(32, "big")),
        attested_at=view.read(base + 1),
        status=status,
    )


def model_of(view: RegistryView, model_cid: ModelCID | str) -> ModelEntry | None:
    """The registry entry of a model, or ``None`` when the model is not registered."""
    base = model_slot(model_cid)
    packed = view.read(base + 2)
    if not packed >> 128:
        return None
    return ModelEntry(
        model_hash=Hash32(view.read(base).to_bytes(32, "big")),
        owner=_address(view.read(base + 1)),
        inference_gas=(packed >> 16) & (2**64 - 1),
        royalty_bps=packed & 0xFFFF,
    )


# --- writes (used by the system contract and genesis) ----------------------------------


def set_chain_owner(write: StorageWriter, owner: Address) -> None:
    write(OWNER_SLOT, int.from_bytes(owner, "big"))


def set_sprinter(write: StorageWriter, sprinter: Address, status: Status) -> None:
    write(slot_of(b"sprinter", sprinter), int(status))


def set_measurement(write: StorageWriter, measurement: Hash32, status: Status) -> None:
    write(slot_of(b"measurement", measurement), int(status))


def set_attestation_root(write: StorageWriter, root: Address, status: Status) -> None:
    write(slot_of(b"root", root), int(status))


def set_tee_key(write: StorageWriter, entry: TeeKey) -> None:
    base = slot_of(b"teekey", entry.key)
    write(base, int.from_bytes(entry.measurement, "big"))
    write(base + 1, entry.attested_at)
    write(base + 2, int(entry.status))


def set_model(write: StorageWriter, model_cid: str, entry: ModelEntry) -> None:
    base = model_slot(model_cid)
    write(base, int.from_bytes(entry.model_hash, "big"))
    write(base + 1, int.from_bytes(entry.owner, "big"))
    write(base + 2, 1 << 128 | entry.inference_gas << 16 | entry.royalty_bps)


# --- ZK models (mode ZK, issue 9): the ``zkmodel`` and ``zkblob`` namespaces ------------

MAX_ZK_TENSORS: Final = 32
"""Inputs plus outputs of a registered circuit: one scale byte each fits one word."""

MAX_ZK_BLOB_BYTES: Final = 1 << 16
"""Largest circuit settings document or verifying key the registry stores (64 KiB)."""


@dataclass(frozen=True)
class ZkModelEntry:
    """A model's registered ZK circuit: the sha256 of its circuit settings and of its
    verifying key (both stored in ``zkblob``), and the fixed-point scales of its inputs
    and outputs (the settings hold them too; here a contract or explorer can read them)."""

    settings_hash: Hash32
    verifying_key_hash: Hash32
    input_scales: tuple[int, ...]
    output_scales: tuple[int, ...]


def zk_model_slot(model_cid: str) -> int:
    """The first of a ZK model entry's four slots."""
    return slot_of(b"zkmodel", keccak(model_cid.encode()))


def zk_blob_slot(sha256: bytes) -> int:
    """The length slot of the stored blob whose sha256 is ``sha256`` (data follows)."""
    return slot_of(b"zkblob", bytes(sha256))


def zk_model_of(view: RegistryView, model_cid: ModelCID | str) -> ZkModelEntry | None:
    """The registered ZK circuit of a model, or ``None`` when it has none."""
    base = zk_model_slot(model_cid)
    packed = view.read(base + 2)
    if not packed >> 128:
        return None
    n_in, n_out = (packed >> 8) & 0xFF, packed & 0xFF
    scales = view.read(base + 3).to_bytes(32, "big")
    signed = [b - 256 if b > 127 else b for b in scales[: n_in + n_out]]
    return ZkModelEntry(
        settings_hash=Hash32(view.read(base).to_bytes(32, "big")),
        verifying_key_hash=Hash32(view.read(base + 1).to_bytes(32, "big")),
        input_scales=tuple(signed[:n_in]),
        output_scales=tuple(signed[n_in:]),
    )


def zk_blob(view: RegistryView, sha256: bytes) -> bytes | None:
    """The stored bytes whose sha256 is ``sha256`` (unchecked: callers hash them), or
    ``None`` when nothing is stored under it."""
    base = zk_blob_slot(sha256)
    length = view.read(base)
    if not 0 < length <= MAX_ZK_BLOB_BYTES:
        return None
    words = (length + 31) // 32
    data = b"".join(view.read(base + 1 + i).to_bytes(32, "big") for i in range(words))
    return data[:length]


def set_zk_model(write: StorageWriter, model_cid: str, entry: ZkModelEntry) -> None:
    scales = [*entry.input_scales, *entry.output_scales]
    if len(scales) > MAX_ZK_TENSORS or not all(-128 <= s <= 127 for s in scales):
        raise ValueError(f"at most {MAX_ZK_TENSORS} tensors with int8 scales")
    base = zk_model_slot(model_cid)
    write(base, int.from_bytes(entry.settings_hash, "big"))
    write(base + 1, int.from_bytes(entry.verifying_key_hash, "big"))
    write(base + 2, 1 << 128 | len(entry.input_scales) << 8 | len(entry.output_scales))
    packed = bytes(s & 0xFF for s in scales).ljust(32, b"\x00")
    write(base + 3, int.from_bytes(packed, "big"))


def set_zk_blob(write: StorageWriter, sha256: bytes, data: bytes) -> int:
    """Store ``data`` under its ``sha256``; the number of words written."""
    if not 0 < len(data) <= MAX_ZK_BLOB_BYTES:
        raise ValueError(f"a stored blob has 1 to {MAX_ZK_BLOB_BYTES} bytes")
    base = zk_blob_slot(sha256)
    write(base, len(data))
    padded = data.ljust((len(data) + 31) // 32 * 32, b"\x00")
    for i in range(len(padded) // 32):
        write(base + 1 + i, int.from_bytes(padded[32 * i : 32 * i + 32], "big"))
    return 1 + len(padded) // 32
# --- staking and OPTIMISTIC results (issue 9: bonds, challenges) --------------------------


class Admission(IntEnum):
    """How sprinters are admitted for VANILLA and OPTIMISTIC (``[inference] sprinter_admission``)."""

    LIST = 0
    """The owner-administered list (``addSprinter``); the default, for devnets."""
    STAKE = 1
    """Anyone who bonds at least ``minBond`` with ``stake()``."""


class ResultStatus(IntEnum):
    """Stored status of an OPTIMISTIC result (pending/final is derived from the block)."""

    NONE = 0
    RECORDED = 1
    CHALLENGED = 2


@dataclass(frozen=True)
class StakingParams:
    """The chain's bond and challenge parameters, written into the registry at genesis so
    the state transition, PIPE and light clients read them from (proven) registry state."""

    admission: Admission = Admission.LIST
    min_bond: int = 10**18
    challenge_window: int = 600
    """Blocks after the block that used an OPTIMISTIC result during which it may be challenged."""
    unbonding_delay: int = 1_200
    """Blocks between ``unstake`` and the earliest ``withdraw``; longer than the window."""
    challenger_share_bps: int = 5_000
    """Share of a slashed bond paid to the challenger (basis points); the rest is burned."""


@dataclass(frozen=True)
class Bond:
    """A sprinter's stake: ``bonded`` admits it, ``unbonding`` waits for ``release_block``;
    both are slashable."""

    bonded: int
    unbonding: int
    release_block: int


@dataclass(frozen=True)
class OptimisticResult:
    """The OPTIMISTIC result a block used for a request: who vouched for which output, when."""

    sprinter: Address
    output_hash: Hash32
    block_number: int
    status: ResultStatus


STAKECFG_SLOT = slot_of(b"stakecfg")
SLASHBURN_SLOT = slot_of(b"slashburn")


def staking_params(view: RegistryView) -> StakingParams:
    """The bond and challenge parameters genesis wrote (defaults when a chain has none)."""
    words = [view.read(STAKECFG_SLOT + i) for i in range(5)]
    if not any(words):
        return StakingParams()
    return StakingParams(Admission(words[0]), words[1], words[2], words[3], words[4])


def bond_of(view: RegistryView, sprinter: Address) -> Bond:
    base = slot_of(b"bond", sprinter)
    return Bond(view.read(base), view.read(base + 1), view.read(base + 2))


def optimistic_result_of(view: RegistryView, request_id: bytes) -> OptimisticResult | None:
    """The recorded OPTIMISTIC result of ``request_id``, or ``None``."""
    base = slot_of(b"optresult", bytes(request_id))
    packed = view.read(base + 2)
    if not packed >> 64:
        return None
    return OptimisticResult(
        sprinter=_address(view.read(base)),
        output_hash=Hash32(view.read(base + 1).to_bytes(32, "big")),
        block_number=packed & (2**64 - 1),
        status=ResultStatus(packed >> 64),
    )


def is_final(view: RegistryView, request_id: bytes, block_number: int) -> bool:
    """Whether the request's OPTIMISTIC result is final at ``block_number``: recorded, its
    challenge window (``challengeWindow`` blocks after its block) passed, never challenged."""
    result = optimistic_result_of(view, request_id)
    if result is None or result.status is not ResultStatus.RECORDED:
        return False
    return block_number > result.block_number + staking_params(view).challenge_window


def slash_burned(view: RegistryView) -> int:
    """Wei burned by slashing since genesis (for supply accounting)."""
    return view.read(SLASHBURN_SLOT)


def set_staking_params(write: StorageWriter, params: StakingParams) -> None:
    values = (
        int(params.admission), params.min_bond, params.challenge_window,
        params.unbonding_delay, params.challenger_share_bps,
    )  # fmt: skip
    for i, value in enumerate(values):
        write(STAKECFG_SLOT + i, value)


def set_bond(write: StorageWriter, sprinter: Address, bond: Bond) -> None:
    base = slot_of(b"bond", sprinter)
    write(base, bond.bonded)
    write(base + 1, bond.unbonding)
    write(base + 2, bond.release_block)


def set_optimistic_result(
    write: StorageWriter, request_id: bytes, result: OptimisticResult
) -> None:
    base = slot_of(b"optresult", bytes(request_id))
    write(base, int.from_bytes(result.sprinter, "big"))
    write(base + 1, int.from_bytes(result.output_hash, "big"))
    write(base + 2, int(result.status) << 64 | result.block_number)


def set_slash_burned(write: StorageWriter, total: int) -> None:
    write(SLASHBURN_SLOT, total)
