"""The witness commitment: ``inferenceRoot`` in ``extraData``, Merkle proofs of single
receipts, and a verifier re-executing published blocks with their witnesses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from eth.db.atomic import AtomicDB

from neurostack.protocol.receipts import receipt_leaf
from sequencer.chain import InvalidInference, InvalidWitness, state_transition
from sequencer.chain.genesis import create_genesis
from sequencer.chain.inference import (
    inference_proof,
    proof_to_json,
    registry_at,
    verify_inference_proof,
)
from sequencer.chain.inference.registry import chain_owner
from sequencer.records import InferenceRecords

from .conftest import Rig
from .kit import OWNER_KEY, address_of, receipt_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three_receipt_block(rig: Rig) -> Iterator[tuple[object, list]]:
    """A block whose three transactions used three different receipts."""
    for i, wallet in enumerate(rig.wallets[1:4]):
        data = rig.predict_data([700 + i])
        request = wallet.requests_of(rig.consumer, data)
        rig.feed.witness[request.request_id] = receipt_for(request)
        wallet.send(rig.consumer, data)
    block = rig.mine()
    witness = list(rig.feed.blocks[-1].witness)
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
    """A verifier's own chain: the same genesis, rebuilt in memory from the spec."""
    return create_genesis(rig.node.spec, AtomicDB())


def _published_witness(rig: Rig, block) -> list:
    """What neuro_getInferenceWitness serves: the record the node committed with the block."""
    return list(InferenceRecords(rig.node.store).load(block.hash).receipts)


def test_verifier_reexecutes_every_block_with_its_witness(rig: Rig, three_receipt_block) -> None:
    chain = _judge_chain(rig)
    head = rig.node.head().header.block_number
    assert len(rig.feed.blocks) == head  # one executed block per block after genesis
    for number in range(1, head + 1):
        block = rig.node.block_by_number(number)
        witness = _published_witness(rig, block)
        assert tuple(witness) == rig.feed.blocks[number - 1].witness
        executed = state_transition(chain, block, witness)
        assert executed.block.hash == block.hash
        chain.persist_block(executed.block)
    # a verifier with only a database reads the registry at any state root
    registry = registry_at(chain.chaindb.db, rig.node.head().header.state_root)
    assert chain_owner(registry) == address_of(OWNER_KEY)


def test_invalid_witness_missing_extra_or_reordered_is_detected(
    rig: Rig, three_receipt_block
) -> None:
    block, witness = three_receipt_block
    chain = _judge_chain(rig)
    for number in range(1, block.header.block_number):
        parent = rig.node.block_by_number(number)
        chain.persist_block(state_transition(chain, parent, _published_witness(rig, parent)).block)
    with pytest.raises(InvalidInference, match="no receipt in the witness") as missing:
        state_transition(chain, block, witness[:2])
    assert missing.value.request_id == witness[2].request_id and missing.value.tx_index == 2
    with pytest.raises(InvalidWitness, match="order of first use") as reordered:
        state_transition(chain, block, list(reversed(witness)))
    assert reordered.value.request_id == witness[2].request_id
    unused = receipt_for(dataclasses.replace(
        rig.wallets[1].requests_of(rig.consumer, rig.predict_data([799]))))  # fmt: skip
    with pytest.raises(InvalidWitness, match="no transaction of the block used") as extra:
        state_transition(chain, block, [*witness, unused])
    assert extra.value.request_id == unused.request_id
    with pytest.raises(InvalidWitness, match="twice"):
        state_transition(chain, block, [witness[0], *witness])
    assert state_transition(chain, block, witness).block.hash == block.hash
