"""The chain spec: every consensus value of one chain, in one frozen object.

``sequencer.chain`` receives a :class:`ChainSpec` and nothing else from the outside: the
genesis, the state-transition function and the block builder read their chain id, gas
limit, base fee, genesis allocations, inference policy, registry seed and gas schedule
from it. Two nodes with equal specs derive the same genesis and judge every block alike.

It holds no key and no node setting (ports, data dir, deadlines, redundancy, dev
methods): ``sequencer.chainspec.chain_spec`` builds it from a project's ``chain.toml``
alone, so a follower that has only the public ``chain.toml`` builds the same spec as the
sequencer. The fork's fixed addresses (the inference precompile, the registry) are
constants of the fork; :data:`INFERENCE_PRECOMPILE_ADDRESS` and :data:`REGISTRY_ADDRESS`
name them for readers of the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import StakingParams
from neurostack.protocol.types import Address, Hash32

from .inference.constants import (
    ATTESTATION_VERIFY_GAS,
    DEFAULT_MAX_OUTPUT_BYTES,
    INFERENCE_BASE_GAS,
    INFERENCE_GAS_PER_BYTE,
    INFERENCE_OUTPUT_GAS_PER_BYTE,
    INFERENCE_PRECOMPILE_ADDRESS,
    REGISTRY_ADDRESS,
    REGISTRY_READ_GAS,
    REGISTRY_WRITE_GAS,
    VERIFY_GAS,
)

__all__ = [
    "INFERENCE_PRECOMPILE_ADDRESS",
    "REGISTRY_ADDRESS",
    "ChainSpec",
    "GasSchedule",
    "GenesisTeeKey",
    "InferencePolicy",
    "RegistrySeed",
    "StakingParams",
]


@dataclass(frozen=True)
class InferencePolicy:
    """The chain's proof policy and prices (``[inference]`` in chain.toml)."""

    modes: frozenset[InferenceMode] = frozenset({InferenceMode.VANILLA, InferenceMode.TEE})
    default_model_gas: int = 50_000
    allow_unregistered_models: bool = True
    max_calls_per_tx: int = 4
    zk_srs: Mapping[Hash32, bytes] = field(default_factory=lambda: MappingProxyType({}))
    """Mode ZK: the structured reference strings (KZG parameters) proofs are checked with,
    by sha256 (``[[inference.zk_srs]]`` files; a circuit's settings name the one it uses)."""
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    """Largest model output (ABI bytes) a call may return; a larger one reverts the call."""


@dataclass(frozen=True)
class GasSchedule:
    """What the inference precompile and the registry system contract charge.

    The defaults are the protocol's (:mod:`.inference.constants`); ``chain.toml`` does not
    change them. They live in the spec so the whole state transition is a function of it.
    """

    inference_base: int = INFERENCE_BASE_GAS
    inference_per_byte: int = INFERENCE_GAS_PER_BYTE
    inference_output_per_byte: int = INFERENCE_OUTPUT_GAS_PER_BYTE
    verify: Mapping[InferenceMode, int] = field(
        default_factory=lambda: MappingProxyType(dict(VERIFY_GAS))
    )
    registry_read: int = REGISTRY_READ_GAS
    registry_write: int = REGISTRY_WRITE_GAS
    attestation_verify: int = ATTESTATION_VERIFY_GAS


@dataclass(frozen=True)
class GenesisTeeKey:
    """A TEE key admitted in genesis with the attestation document vouching for it."""

    key: Address
    document: bytes


@dataclass(frozen=True)
class RegistrySeed:
    """The registry system contract's genesis content."""

    owner: Address
    """The chain owner: administers the registry (the sequencer's address)."""
    sprinters: tuple[Address, ...] = ()
    attestation_roots: tuple[Address, ...] = ()
    measurements: tuple[Hash32, ...] = ()
    tee_keys: tuple[GenesisTeeKey, ...] = ()
    staking: StakingParams = field(default_factory=StakingParams)
    """Sprinter admission, bonds and the OPTIMISTIC challenge game (``[inference]``
    ``sprinter_admission``, ``min_bond``, ``challenge_window``, ``unbonding_delay``,
    ``challenger_share_bps``); written into the registry's ``stakecfg`` words."""
    genesis_bond: int = 0
    """Wei each genesis sprinter has bonded from block 0 (``[inference] genesis_bond``); the
    registry account's genesis balance is the sum, so every bond is backed."""


@dataclass(frozen=True)
class ChainSpec:
    """All a node needs to derive the genesis and to validate every block of a chain."""

    chain_id: int
    gas_limit: int
    base_fee: int
    """The genesis block's base fee per gas; later ones follow EIP-1559."""
    alloc: tuple[tuple[Address, int], ...]
    """Genesis balances, in wei (an address listed twice gets the sum)."""
    registry: RegistrySeed
    inference: InferencePolicy = InferencePolicy()
    gas: GasSchedule = GasSchedule()
