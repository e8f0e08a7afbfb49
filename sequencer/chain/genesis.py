"""Genesis: the chain class and the genesis block built from a ``ChainConfig``.

The genesis is a pure function of the config (and of the registered genesis hooks), so a
restarted node, a follower and a verifier all derive the same genesis hash. Its
timestamp is therefore fixed at 0 rather than read from a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from eth.abc import AtomicDatabaseAPI, ChainAPI
from eth.chains.base import Chain
from eth.constants import ZERO_ADDRESS
from eth.db.atomic import AtomicDB
from eth_typing import Address, BlockNumber
from eth_utils import to_canonical_address

from ..config import ChainConfig
from .fork import NeuroVM

GENESIS_EXTRA_DATA = b"\x00" * 32
"""``extraData`` holds ``inferenceRoot``; a block without inference receipts has the zero hash."""

GENESIS_TIMESTAMP = 0

GenesisState = dict[Address, dict[str, Any]]
"""py-evm's genesis state: ``{address: {"balance", "nonce", "code", "storage"}}``."""

GenesisHook = Callable[[ChainConfig, GenesisState], None]

GENESIS_HOOKS: list[GenesisHook] = []
"""Functions that add to the genesis state (system contracts, registries). Each receives
the config and the state dict and mutates the dict. They run in registration order."""


def chain_class(chain_id: int) -> type[Chain]:
    """The py-evm ``Chain`` subclass for this chain id: one Neuro VM from block 0."""
    return Chain.configure(  # type: ignore[return-value]
        __name__="NeuroChain", vm_configuration=((0, NeuroVM),), chain_id=chain_id
    )


def genesis_state(config: ChainConfig) -> GenesisState:
    """Premined balances plus whatever the genesis hooks add."""
    state: GenesisState = {
        to_canonical_address(address): {"balance": balance, "nonce": 0, "code": b"", "storage": {}}
        for address, balance in config.premine().items()
    }
    for hook in GENESIS_HOOKS:
        hook(config, state)
    return state


def genesis_params(config: ChainConfig) -> dict[str, Any]:
    """Header fields of the genesis block (the state root is computed from the state)."""
    return {
        "coinbase": ZERO_ADDRESS,
        "difficulty": 0,
        "gas_limit": config.chain.gas_limit,
        "timestamp": GENESIS_TIMESTAMP,
        "extra_data": GENESIS_EXTRA_DATA,
        "base_fee_per_gas": config.chain.base_fee,
        "nonce": b"\x00" * 8,
        "mix_hash": b"\x00" * 32,
    }


def create_genesis(config: ChainConfig, db: AtomicDatabaseAPI) -> ChainAPI:
    """Write the genesis block and state into ``db`` and return the chain on it."""
    state = cast(Any, genesis_state(config))  # py-evm's AccountDetails is this TypedDict
    return chain_class(config.chain.chain_id).from_genesis(db, genesis_params(config), state)


def genesis_hash(config: ChainConfig) -> bytes:
    """The genesis block hash this config produces (computed in memory)."""
    chain = create_genesis(config, AtomicDB())
    return chain.get_canonical_block_header_by_number(BlockNumber(0)).hash
