"""The witness commitment: ``inferenceRoot`` in ``extraData``, Merkle proofs of single
receipts, and a verifier re-executing published blocks with their witnesses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from eth.db.atomic import AtomicDB

from neurostack.protocol.receipts import receipt_leaf
from sequencer.chain.genesis import create_genesis
from sequencer.chain.inference import (
    BlockInvalidInference,
    InvalidInferenceWitness,
    block_witness,
    inference_proof,
    policy_from_config,
    proof_to_json,
    registry_at,
    replay_block,
    verify_inference_proof,
    witness_map,
)
from sequencer.chain.inference.registry import chain_owner

from .conftest import Rig
from .kit import OWNER_KEY, address_of, receipt_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three_receipt_block(rig: Rig) -> Iterator[tuple[object, list]]:
    """A block whose three transactions used three different receipts."""
    for i, wallet in enumerate(rig.wallets[1:4]):
        data = rig.predict_data([700 + i])
        request = wallet.requests_of(rig.consumer, data)
        rig.hooks.witness[request.request_id] = receipt_for(request)
        wallet.send(rig.consumer, data)
    block = rig.mine()
    witness = block_witness(rig.hooks.environments[-1])
    assert len(witness) == 3
    yield block, witness


def test_every_receipt_has_a_proof_against_the_header(rig: Rig, three_receipt_block) -> None:
    block, witness = three_receipt_block
    for receipt in witness:
        proof = inference_proof(witness, receipt.request_id)
        assert proof.leaf_count == 3
        assert verify_inference_proof(proof, block.header.extra_data)
        body = proof_to_json(proof)
        assert body["inferenceRoot"] == "0x" + block.header.extra_data.hex()
        assert body["leaf"] == "0x" + receipt_leaf(receipt).hex()
        tampered = dataclasses.replace(
            proof, receipt=dataclasses.replace(receipt, expiry=receipt.expiry + 1)
        )
        assert not verify_inference_proof(tampered, block.header.extra_data)
    with pytest.raises(LookupError):
        inference_proof(witness, b"\x00" * 32)


def _judge_chain(rig: Rig):
    """A verifier's own chain: the same genesis, rebuilt in memory."""
    return create_genesis(rig.node.config, AtomicDB())


def test_verifier_reexecutes_every_block_with_its_witness(rig: Rig, three_receipt_block) -> None:
    policy = policy_from_config(rig.node.config.inference)
    chain = _judge_chain(rig)
    head = rig.node.head().header.block_number
    assert len(rig.hooks.environments) == head  # one environment per block after genesis
    for number in range(1, head + 1):
        block = rig.node.block_by_number(number)
        rebuilt = replay_block(
            chain, block, block_witness(rig.hooks.environments[number - 1]), policy
        )
        assert rebuilt.hash == block.hash
        chain.persist_block(rebuilt)
    # a verifier with only a database reads the registry at any state root
    registry = registry_at(chain.chaindb.db, rig.node.head().header.state_root)
    assert chain_owner(registry) == address_of(OWNER_KEY)


def test_invalid_witness_missing_extra_or_reordered_is_detected(
    rig: Rig, three_receipt_block
) -> None:
    block, witness = three_receipt_block
    policy = policy_from_config(rig.node.config.inference)
    chain = _judge_chain(rig)
    for number in range(1, block.header.block_number):
        chain.persist_block(replay_block(chain, rig.node.block_by_number(number),
                                         block_witness(rig.hooks.environments[number - 1]), policy))  # fmt: skip
    with pytest.raises(BlockInvalidInference, match="needs an inference receipt"):
        replay_block(chain, block, witness[:2], policy)
    with pytest.raises(InvalidInferenceWitness, match="witness lists 3"):
        replay_block(chain, block, list(reversed(witness)), policy)
    unused = receipt_for(dataclasses.replace(
        rig.wallets[1].requests_of(rig.consumer, rig.predict_data([799]))))  # fmt: skip
    with pytest.raises(InvalidInferenceWitness, match="witness lists 4"):
        replay_block(chain, block, [*witness, unused], policy)
    with pytest.raises(InvalidInferenceWitness, match="twice"):
        witness_map([witness[0], witness[0]])
    assert replay_block(chain, block, witness, policy).hash == block.hash
