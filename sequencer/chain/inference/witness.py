"""The block's inference witness and its commitment, ``inferenceRoot``, in ``extraData``.

- The witness of a block is the list of receipts its execution used, in order of first
  use (identical requests share one receipt, listed once). Receipts of transactions the
  builder threw out are not in it.
- ``inferenceRoot = merkle_root([receipt_leaf(r) for r in witness])`` (protocol's Merkle
  rules; 32 zero bytes for a block without inference) is the header's ``extraData``.
- :func:`inference_proof` answers ``neuro_getInferenceProof``: one receipt with its
  Merkle branch, index and leaf count, checkable against a header alone.
- The state-transition function (``sequencer.chain.stf``) checks a published block's
  witness: execution must use exactly its receipts, in order, and their root must be the
  header's ``extraData``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from neurostack.protocol.merkle import merkle_branch, merkle_root, verify_merkle_branch
from neurostack.protocol.receipts import InferenceReceipt, receipt_leaf, receipt_to_json
from neurostack.protocol.types import Hash32

from .calls import TransactionInferences


@dataclass(frozen=True)
class InferenceProof:
    """One receipt of a block and the Merkle branch tying it to the block's ``inferenceRoot``."""

    receipt: InferenceReceipt
    index: int
    leaf_count: int
    branch: tuple[Hash32, ...]
    root: Hash32


def inference_root(receipts: Sequence[InferenceReceipt]) -> Hash32:
    """The Merkle root of ``receipts`` (zero hash for none)."""
    return merkle_root([receipt_leaf(r) for r in receipts])


def inference_proof(receipts: Sequence[InferenceReceipt], request_id: bytes) -> InferenceProof:
    """The proof of the receipt for ``request_id`` in a block's witness (LookupError if absent)."""
    leaves = [receipt_leaf(r) for r in receipts]
    for index, receipt in enumerate(receipts):
        if bytes(receipt.request_id) == bytes(request_id):
            return InferenceProof(
                receipt=receipt,
                index=index,
                leaf_count=len(leaves),
                branch=tuple(merkle_branch(leaves, index)),
                root=merkle_root(leaves),
            )
    raise LookupError(f"request 0x{bytes(request_id).hex()} is not in this block's witness")


def verify_inference_proof(proof: InferenceProof, header_extra_data: bytes) -> bool:
    """Whether ``proof`` ties its receipt to a header whose ``extraData`` is given."""
    return bytes(header_extra_data) == bytes(proof.root) and verify_merkle_branch(
        receipt_leaf(proof.receipt), list(proof.branch), proof.index, proof.root, proof.leaf_count
    )


def proof_to_json(proof: InferenceProof) -> dict[str, Any]:
    """The JSON form of ``neuro_getInferenceProof`` (hex strings, JSON numbers for counts)."""
    return {
        "receipt": receipt_to_json(proof.receipt),
        "leaf": "0x" + receipt_leaf(proof.receipt).hex(),
        "index": proof.index,
        "leafCount": proof.leaf_count,
        "branch": ["0x" + bytes(h).hex() for h in proof.branch],
        "inferenceRoot": "0x" + bytes(proof.root).hex(),
    }


def witness_to_json(receipts: Sequence[InferenceReceipt]) -> dict[str, Any]:
    """The JSON form of ``neuro_getInferenceWitness``: receipts in order and their root."""
    return {
        "receipts": [receipt_to_json(r) for r in receipts],
        "inferenceRoot": "0x" + inference_root(receipts).hex(),
    }


def inferences_to_json(record: TransactionInferences) -> list[dict[str, Any]]:
    """A transaction receipt's additive ``inferences`` field: one entry per model call
    (a mode-ZK call also carries its ABI ``input``, which a light client checks the proof
    against after hashing it to the receipt's ``inputHash``)."""
    return [
        {
            "requestId": "0x" + bytes(c.request_id).hex(),
            "modelCID": c.model_cid,
            "mode": c.mode.name,
            "sprinter": to_checksum_address(bytes(c.sprinter)),
            "modelGas": hex(c.model_gas),
            **({"input": "0x" + bytes(c.input_abi).hex()} if c.input_abi else {}),
        }
        for c in record.calls
    ]
