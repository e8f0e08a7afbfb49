"""Re-executing a published block with its inference witness: the follower's and Judge's check.

A verifier that follows a chain gets each block and its witness (``neuro_getInferenceWitness``),
re-executes the block's transactions on its own state in ``SEAL`` mode, and accepts the
block only if every transaction ran (no receipt missing or invalid), the witness was used
exactly, ``extraData`` is the root of the witness, and the re-built block hash (so the
state root, receipts root, gas used and logs) equals the published one.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth.abc import BlockAPI, ChainAPI

from neurostack.protocol.receipts import InferenceReceipt

from ..builder import ListSource, build_block
from .environment import InferencePolicy, block_environment
from .errors import BlockInvalidInference, InvalidInferenceWitness
from .witness import check_block_witness, extra_data, witness_map


def replay_block(
    chain: ChainAPI,
    block: BlockAPI,
    witness: Sequence[InferenceReceipt],
    policy: InferencePolicy,
) -> BlockAPI:
    """Re-execute ``block`` on ``chain`` (which holds its parent) with ``witness``; the re-built
    block, not yet persisted. Raises :class:`InvalidInferenceWitness` or
    :class:`BlockInvalidInference` when the block does not verify."""
    header = block.header
    parent = chain.get_block_header_by_hash(header.parent_hash)
    env = block_environment(policy, chain.get_vm(parent).state, witness=witness_map(witness))
    built = build_block(
        chain,
        parent,
        ListSource(block.transactions),
        timestamp=header.timestamp,
        coinbase=header.coinbase,
        gas_limit=header.gas_limit,
        environment=env,
        extra_data=extra_data,
    )
    if built.deferred:
        raise BlockInvalidInference(
            f"block {header.block_number} is invalid: transaction 0x{built.deferred[0].hash.hex()} "
            "needs an inference receipt its witness lacks or that fails verification"
        )
    if built.rejected:
        tx, reason = built.rejected[0]
        raise InvalidInferenceWitness(
            f"block {header.block_number} is invalid: transaction 0x{tx.hash.hex()} cannot be "
            f"applied ({reason})"
        )
    check_block_witness(env, witness, header.extra_data)
    if built.block.hash != block.hash:
        raise InvalidInferenceWitness(
            f"block {header.block_number} re-executed to another block (state root "
            f"0x{built.block.header.state_root.hex()}, published 0x{header.state_root.hex()})"
        )
    return built.block
