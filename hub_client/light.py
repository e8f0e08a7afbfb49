"""The light client: check one inference transaction trusting nothing the RPC cannot prove.

:func:`verify_inference` (``RollupClient.verify_inference``) runs these checks, in order,
and stops at the first that fails with :class:`~hub_client.errors.VerificationFailed`
naming it:

========== =====================================================================================
check      what is proven
========== =====================================================================================
header     the block's header fields hash (keccak of their RLP) to the block hash
anchor     that hash is the trusted block hash the caller gave (else: skipped, not anchored)
transaction the transaction, re-encoded from the node's JSON, is in the header's
           ``transactionsRoot`` (with every other transaction of the block), at its index
status     its receipt is in ``receiptsRoot``: whether it succeeded
receipt    each model call's receipt (``neuro_getInferenceProof``, or the block's witness when
           the request's latest use is a later block) is for the request named,
           signed by its sprinter over its hashes, for the transaction's chain id, not expired
           at the block's timestamp (``neurostack.protocol.receipts.check_receipt``)
merkle     its Merkle branch leads to the header's ``extraData`` (``inferenceRoot``)
parent     the parent header's fields hash to the header's ``parentHash``
registry   the registry words the admission rule reads are proven by ``eth_getProof``
           against the *parent's* ``stateRoot`` (the state transition reads the registry as
           of the parent block)
admission  the signer may sign receipts of that mode (``neurostack.protocol.admission``)
zk         each mode-ZK call's proof verifies under the model's registered circuit (proven
           registry words) for the call's input (hashing to the receipt's ``inputHash``) and
           the receipt's output, with the chain's SRS the caller gives (``zk_srs``;
           :mod:`hub_client._zkcheck`)
========== =====================================================================================

What it cannot prove without re-executing the block: *which* of the block's receipts the
transaction consumed. The node's word for that is the receipt's ``inferences`` field;
every receipt it names is then proven to be committed by the same block, valid, and signed
by an admissible key. Only re-executing the block settles it (a follower node; not built yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from eth_utils import to_checksum_address

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.merkle import merkle_branch, merkle_root
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.mpt import ordered_trie_root
from neurostack.protocol.receipts import receipt_leaf
from neurostack.protocol.tensors import ModelOutput
from neurostack.protocol.types import Address, Hash32, RequestId

from ._checks import (
    MALFORMED,
    Check,
    CheckName,
    Outcome,
    Recorder,
    Rpc,
    committed_receipt,
    hex_of,
    verified_header,
)
from ._consensus import DecodedTransaction, hex_bytes, receipt_bytes, transaction_from_json
from ._registryproof import ProvenRegistry, admission_detail, registry_detail
from ._rpcwire import (
    BlockHeader,
    InferenceProof,
    VerifiedInference,
    block_param,
    parse_proof,
    parse_witness,
)
from ._zkcheck import check_zk, zk_inputs
from .errors import InferenceNotFound, RollupError

__all__ = ["Check", "CheckName", "InferenceVerification", "Outcome", "verify_admission",
           "verify_inference"]  # fmt: skip


@dataclass(frozen=True)
class InferenceVerification:
    """What :func:`verify_inference` proved about one transaction and its model calls."""

    tx_hash: Hash32
    tx_index: int
    sender: Address
    chain_id: int
    succeeded: bool
    block_number: int
    block_hash: Hash32
    block_timestamp: int
    parent_hash: Hash32
    registry_state_root: Hash32  # the parent's stateRoot: where admission was proven
    inference_root: Hash32  # the header's extraData
    anchored: bool  # True when the block hash equals a trusted hash the caller gave
    inferences: tuple[VerifiedInference, ...]
    checks: tuple[Check, ...]


# --- the whole check ----------------------------------------------------------------------


def verify_inference(
    rpc: Rpc,
    tx_hash: bytes,
    *,
    trusted_block_hash: bytes | None = None,
    zk_srs: bytes | None = None,
) -> InferenceVerification:
    """Check the transaction ``tx_hash`` and every model call it made (module docstring).

    Raises :class:`VerificationFailed` naming the failed check, ``InferenceNotFound`` when
    the node knows no such mined transaction or names no model call of it, and the
    ``RollupError`` tree when the node cannot be reached or answers an error.
    """
    record = Recorder()
    lookup = rpc.request("eth_getTransactionByHash", hex_of(tx_hash))
    if lookup is not None and not isinstance(lookup, Mapping):
        record.fail(CheckName.HEADER, "the node's transaction lookup is not an object")
    if lookup is None:
        raise InferenceNotFound(f"the node knows no transaction {hex_of(tx_hash)}")
    if lookup.get("blockHash") is None:
        raise InferenceNotFound(
            f"transaction {hex_of(tx_hash)} is still pending", hint="wait until it is included"
        )
    try:
        block_hash = hex_bytes(lookup["blockHash"], 32)
    except MALFORMED as exc:
        record.fail(CheckName.HEADER, f"the node names no valid block for the transaction ({exc})")
    block = rpc.request("eth_getBlockByHash", hex_of(block_hash), True)
    header = verified_header(block, block_hash, record, CheckName.HEADER)
    record.passed(CheckName.HEADER, f"block {header.number}'s fields hash to {header.hash_hex}")

    if trusted_block_hash is None:
        record.skipped(CheckName.ANCHOR, "no trusted block hash given: the block is not anchored")
    elif bytes(trusted_block_hash) != bytes(header.hash):
        record.fail(
            CheckName.ANCHOR,
            f"the transaction's block is {header.hash_hex}, not the trusted "
            f"{hex_of(trusted_block_hash)}",
        )
    else:
        record.passed(CheckName.ANCHOR, f"{header.hash_hex} is the trusted block hash")

    index, tx = _included_transaction(block, header, tx_hash, record)
    receipt = _proven_receipt(rpc, header, index, record)
    if tx.chain_id is None:
        record.fail(CheckName.TRANSACTION, "the transaction has no chain id (pre-EIP-155)")

    request_ids = _named_requests(receipt, tx_hash)
    checked: list[tuple[VerifiedInference, Address]] = []
    for request_id in request_ids:
        proof = _proof_in_block(rpc, request_id, header, record)
        signer, output = committed_receipt(
            proof, header, record, chain_id=tx.chain_id, request_id=request_id
        )
        checked.append((_verified(proof, output, signer, header), signer))

    parent_hash = bytes(header.parent_hash)
    parent = verified_header(
        rpc.request("eth_getBlockByHash", hex_of(parent_hash), False), parent_hash, record,
        CheckName.PARENT,
    )  # fmt: skip
    record.passed(CheckName.PARENT, f"block {parent.number} hashes to the header's parentHash")
    registry = ProvenRegistry(rpc, parent.number, parent.state_root, record)
    inferences = []
    for inference, signer in checked:
        mode = InferenceMode(inference.receipt.mode)
        problem = signer_problem(signer, mode, registry=registry.view, now=header.timestamp)
        if problem is not None:
            record.passed(CheckName.REGISTRY, registry_detail(registry, parent))
            record.fail(CheckName.ADMISSION, problem)
        detail = admission_detail(signer, mode, registry, parent.number, header.timestamp)
        inferences.append(_with_admission(inference, detail))
    record.passed(CheckName.REGISTRY, registry_detail(registry, parent))
    for inference in inferences:
        record.passed(CheckName.ADMISSION, inference.admission or "")
    inputs = zk_inputs(receipt)
    for inference in inferences:
        if inference.receipt.mode == InferenceMode.ZK:
            detail = check_zk(
                inference, inputs.get(bytes(inference.request_id)), registry, zk_srs, record
            )
            record.passed(CheckName.ZK, detail)

    return InferenceVerification(
        tx_hash=Hash32(bytes(tx_hash)), tx_index=index, sender=tx.sender, chain_id=tx.chain_id,
        succeeded=receipt["status"] == "0x1", block_number=header.number,
        block_hash=header.hash, block_timestamp=header.timestamp,
        parent_hash=Hash32(parent_hash), registry_state_root=parent.state_root,
        inference_root=Hash32(header.extra_data), anchored=trusted_block_hash is not None,
        inferences=tuple(inferences), checks=tuple(record.checks),
    )  # fmt: skip


def verify_admission(
    rpc: Rpc,
    signer: bytes,
    mode: InferenceMode,
    *,
    block: int | str = "latest",
    trusted_block_hash: bytes | None = None,
) -> str:
    """Prove from block ``block``'s registry whether ``signer`` may sign ``mode`` receipts in
    the block after it (judged at ``block``'s timestamp). Returns what made it admissible;
    raises :class:`VerificationFailed` (check ``admission`` with the rule's reason when it
    may not, ``header``/``anchor``/``registry`` when the node's answers do not verify)."""
    record = Recorder()
    raw = rpc.request("eth_getBlockByNumber", block_param(block), False)
    if raw is None:
        raise InferenceNotFound(f"block {block} does not exist on this chain (yet)")
    try:
        claimed = hex_bytes(raw["hash"], 32)
    except MALFORMED as exc:
        record.fail(CheckName.HEADER, f"the node's block {block} has no valid hash ({exc})")
    header = verified_header(raw, claimed, record, CheckName.HEADER)
    if trusted_block_hash is not None and bytes(trusted_block_hash) != bytes(header.hash):
        record.fail(
            CheckName.ANCHOR,
            f"block {header.number} is {header.hash_hex}, not the trusted {hex_of(trusted_block_hash)}",
        )
    registry = ProvenRegistry(rpc, header.number, header.state_root, record)
    problem = signer_problem(Address(bytes(signer)), mode, registry=registry.view,
                             now=header.timestamp)  # fmt: skip
    if problem is not None:
        record.fail(CheckName.ADMISSION, problem)
    return admission_detail(Address(bytes(signer)), mode, registry, header.number, header.timestamp)


def _included_transaction(
    block: Mapping[str, Any], header: BlockHeader, tx_hash: bytes, record: Recorder
) -> tuple[int, DecodedTransaction]:
    fail = record.fail
    try:
        decoded = [transaction_from_json(tx) for tx in block["transactions"]]
    except MALFORMED as exc:
        fail(CheckName.TRANSACTION, f"a transaction of the block cannot be re-encoded ({exc})")
    root = ordered_trie_root([tx.encoded for tx in decoded])
    if root != header.transactions_root:
        fail(
            CheckName.TRANSACTION,
            f"the block's {len(decoded)} transactions have the root {hex_of(root)}, the header "
            f"says transactionsRoot {hex_of(header.transactions_root)}",
        )
    found = [i for i, tx in enumerate(decoded) if tx.hash == bytes(tx_hash)]
    if not found:
        fail(
            CheckName.TRANSACTION, f"transaction {hex_of(tx_hash)} is not in block {header.number}"
        )
    record.passed(
        CheckName.TRANSACTION,
        f"transaction {found[0]} of {len(decoded)} under transactionsRoot "
        f"{hex_of(header.transactions_root)}, sent by {to_checksum_address(decoded[found[0]].sender)}",
    )
    return found[0], decoded[found[0]]


def _proven_receipt(rpc: Rpc, header: BlockHeader, index: int, record: Recorder) -> dict[str, Any]:
    receipts = rpc.request("eth_getBlockReceipts", header.hash_hex)
    try:
        root = ordered_trie_root([receipt_bytes(r) for r in receipts])
        receipt = dict(receipts[index])
    except MALFORMED as exc:
        record.fail(CheckName.STATUS, f"the block's receipts cannot be re-encoded ({exc})")
    if root != header.receipts_root:
        record.fail(
            CheckName.STATUS,
            f"the block's receipts have the root {hex_of(root)}, the header says receiptsRoot "
            f"{hex_of(header.receipts_root)}",
        )
    outcome = "succeeded" if receipt["status"] == "0x1" else "reverted"
    record.passed(CheckName.STATUS, f"{outcome}: receipt {index} under receiptsRoot {hex_of(root)}")
    return receipt


def _proof_in_block(
    rpc: Rpc, request_id: RequestId, header: BlockHeader, record: Recorder
) -> InferenceProof:
    """The proof of ``request_id``'s receipt in ``header``'s block (unchecked yet).

    ``neuro_getInferenceProof(requestId)`` answers the *latest* block whose witness holds
    that request; when an identical request was served again in a later block, the branch
    is built here from this block's witness (``neuro_getInferenceWitness``) instead. Either
    way ``committed_receipt`` then checks it against the header.
    """
    raw = rpc.request("neuro_getInferenceProof", hex_of(request_id))
    try:
        proof = None if raw is None else parse_proof(raw)
    except RollupError as exc:
        record.fail(CheckName.RECEIPT, str(exc))
    if proof is not None and (
        bytes(proof.receipt.request_id) != bytes(request_id)
        or proof.block_hash is None
        or bytes(proof.block_hash) == bytes(header.hash)
    ):
        return proof  # committed_receipt names a receipt of another request
    raw = rpc.request("neuro_getInferenceWitness", hex(header.number))
    try:
        witness = parse_witness(raw)
    except RollupError as exc:
        record.fail(CheckName.RECEIPT, str(exc))
    leaves = [receipt_leaf(r) for r in witness.receipts]
    for index, receipt in enumerate(witness.receipts):
        if bytes(receipt.request_id) == bytes(request_id):
            return InferenceProof(
                receipt=receipt, index=index, leaf_count=len(leaves),
                branch=tuple(merkle_branch(leaves, index)), inference_root=merkle_root(leaves),
                block_number=header.number, block_hash=header.hash,
            )  # fmt: skip
    record.fail(
        CheckName.RECEIPT,
        f"block {header.number}'s witness holds no receipt of request {hex_of(request_id)}",
    )


def _named_requests(receipt: Mapping[str, Any], tx_hash: bytes) -> list[RequestId]:
    try:
        ids = [RequestId(hex_bytes(c["requestId"], 32)) for c in receipt.get("inferences") or []]
    except MALFORMED:
        ids = []
    if not ids:
        raise InferenceNotFound(
            f"the node names no model call of transaction {hex_of(tx_hash)}",
            hint="did its contract call the inference precompile?",
        )
    return list(dict.fromkeys(ids))  # identical requests share one receipt


def _verified(
    proof: InferenceProof, output: ModelOutput, signer: Address, header: BlockHeader
) -> VerifiedInference:
    return VerifiedInference(
        receipt=proof.receipt, output=output, sprinter=signer, block_number=header.number,
        block_hash=header.hash, inference_root=Hash32(header.extra_data), index=proof.index,
        leaf_count=proof.leaf_count, branch=proof.branch,
    )  # fmt: skip


def _with_admission(inference: VerifiedInference, detail: str) -> VerifiedInference:
    return replace(inference, admission=detail)
