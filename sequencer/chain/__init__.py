"""The state transition of a Neuro Stack chain: the Neuro fork (py-evm), its spec, genesis,
the block builder and ``state_transition``. No network, no clock, no node settings.

Entry points: :class:`ChainSpec` (all this package receives from the outside),
:func:`create_genesis`, :func:`build_block` (the sequencer), :func:`state_transition`
(*the* STF: every block, whoever built it) and the :class:`InvalidBlock` tree.
"""

from neurostack.protocol.fast_keccak import install as _install_fast_keccak

from .blocks import BlockInputs, ExecutedBlock, ReadyTransaction
from .builder import BlockBuilder, BuiltBlock, build_block
from .environment import BlockEnvironment, ExecutionMode, block_environment
from .exceptions import (
    Check,
    InvalidBlock,
    InvalidGenesis,
    InvalidHeader,
    InvalidInference,
    InvalidResult,
    InvalidTransaction,
    InvalidWitness,
)
from .fork import NeuroVM
from .genesis import NeuroChain, chain_class, create_genesis, genesis_hash
from .spec import ChainSpec, GasSchedule, GenesisTeeKey, InferencePolicy, RegistrySeed
from .stf import state_transition

__all__ = [
    "BlockBuilder",
    "BlockEnvironment",
    "BlockInputs",
    "BuiltBlock",
    "ChainSpec",
    "Check",
    "ExecutedBlock",
    "ExecutionMode",
    "GasSchedule",
    "GenesisTeeKey",
    "InferencePolicy",
    "InvalidBlock",
    "InvalidGenesis",
    "InvalidHeader",
    "InvalidInference",
    "InvalidResult",
    "InvalidTransaction",
    "InvalidWitness",
    "NeuroChain",
    "NeuroVM",
    "ReadyTransaction",
    "RegistrySeed",
    "block_environment",
    "build_block",
    "chain_class",
    "create_genesis",
    "genesis_hash",
    "state_transition",
]  # fmt: skip

_install_fast_keccak()  # py-evm and py-trie hash every trie node (fast_keccak's docstring)
