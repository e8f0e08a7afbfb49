"""Genesis: the chain class and the genesis block, built from a :class:`ChainSpec`.

The genesis is a pure function of the spec (and of the fork class), so a restarted node, a
follower and a verifier all derive the same genesis hash. Its timestamp is therefore
fixed at 0 rather than read from a clock. The genesis state is built in two explicit
steps: the spec's allocations, then the registry system contract
(:func:`~.inference.genesis.registry_account`).
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from eth.abc import AtomicDatabaseAPI
from eth.chains.base import Chain
from eth.constants import ZERO_ADDRESS
from eth.db.atomic import AtomicDB
from eth_typing import Address, BlockNumber

from .fork import NeuroVM, attestation_verifier_of
from .inference.genesis import registry_account
from .spec import ChainSpec

GENESIS_EXTRA_DATA = b"\x00" * 32
"""``extraData`` holds ``inferenceRoot``; a block without inference receipts has the zero hash."""

GENESIS_TIMESTAMP = 0

GenesisState = dict[Address, dict[str, Any]]
"""py-evm's genesis state: ``{address: {"balance", "nonce", "code", "storage"}}``."""


class NeuroChain(Chain):
    """A py-evm chain that knows its spec (``state_transition`` and the builder read it)."""

    spec: ClassVar[ChainSpec] = None  # type: ignore[assignment]  # set by chain_class()


def chain_class(spec: ChainSpec, vm_class: type[NeuroVM] = NeuroVM) -> type[NeuroChain]:
    """The chain class of ``spec``: one fork (``vm_class``, the Neuro VM) from block 0."""
    return NeuroChain.configure(  # type: ignore[return-value]
        __name__="NeuroChain",
        vm_configuration=((0, vm_class),),
        chain_id=spec.chain_id,
        spec=spec,
    )


def genesis_state(spec: ChainSpec, vm_class: type[NeuroVM] = NeuroVM) -> GenesisState:
    """The spec's allocations plus the registry system contract."""
    state: GenesisState = {}
    for address, balance in spec.alloc:
        account = state.setdefault(
            Address(address), {"balance": 0, "nonce": 0, "code": b"", "storage": {}}
        )
        account["balance"] += balance
    registry, account = registry_account(spec.registry, attestation_verifier_of(vm_class))
    state[Address(registry)] = account
    return state


def genesis_params(spec: ChainSpec) -> dict[str, Any]:
    """Header fields of the genesis block (the state root is computed from the state)."""
    return {
        "coinbase": ZERO_ADDRESS,
        "difficulty": 0,
        "gas_limit": spec.gas_limit,
        "timestamp": GENESIS_TIMESTAMP,
        "extra_data": GENESIS_EXTRA_DATA,
        "base_fee_per_gas": spec.base_fee,
        "nonce": b"\x00" * 8,
        "mix_hash": b"\x00" * 32,
    }


def create_genesis(
    spec: ChainSpec, db: AtomicDatabaseAPI, vm_class: type[NeuroVM] = NeuroVM
) -> NeuroChain:
    """Write the genesis block and state into ``db`` and return the chain on it."""
    state = cast(Any, genesis_state(spec, vm_class))  # py-evm's AccountDetails is this TypedDict
    cls = chain_class(spec, vm_class)
    return cast(NeuroChain, cls.from_genesis(db, genesis_params(spec), state))


def genesis_hash(spec: ChainSpec, vm_class: type[NeuroVM] = NeuroVM) -> bytes:
    """The genesis block hash this spec produces (computed in memory)."""
    chain = create_genesis(spec, AtomicDB(), vm_class)
    return chain.get_canonical_block_header_by_number(BlockNumber(0)).hash
