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
receipt    each model call's receipt (``neuro_getInferenceProof``) is for the request named,
           signed by its sprinter over its hashes, for the transaction's chain id, not expired
           at the block's timestamp (``neurostack.protocol.receipts.check_receipt``)
merkle     its Merkle branch leads to the header's ``extraData`` (``inferenceRoot``)
parent     the parent header's fields hash to the header's ``parentHash``
registry   the registry words the admission rule reads are proven by ``eth_getProof``
           against the *parent's* ``stateRoot`` (the state transition reads the registry as
           of the parent block)
admission  the signer may sign receipts of that mode (``neurostack.protocol.admission``)
========== =====================================================================================

What it cannot prove without re-executing the block: *which* of the block's receipts the
transaction consumed. The node's word for that is the receipt's ``inferences`` field;
every receipt it names is then proven to be committed by the same block, valid, and signed
by an admissible key. Re-execution is the follower's job (``neurostack node --follow``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NoReturn, Protocol

from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeyValidationError
from eth_utils import to_checksum_address
from rlp.exceptions import RLPException

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.errors import InvalidProof, InvalidReceipt, InvalidTensor
from neurostack.protocol.merkle import merkle_branch, merkle_root, verify_merkle_branch
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.mpt import ordered_trie_root
from neurostack.protocol.receipts import check_receipt, receipt_leaf
from neurostack.protocol.registry import REGISTRY_ADDRESS, RegistryView, tee_key_of
from neurostack.protocol.state_proofs import verify_account_proof, verify_storage_proof
from neurostack.protocol.tensors import ModelOutput, decode_model_output
from neurostack.protocol.types import Address, Hash32, RequestId

from ._consensus import (
    DecodedTransaction,
    hex_bytes,
    proof_answer,
    receipt_bytes,
    transaction_from_json,
)
from ._rpcwire import (
    BlockHeader,
    InferenceProof,
    VerifiedInference,
    block_param,
    parse_header,
    parse_proof,
    parse_witness,
)
from .errors import InferenceNotFound, RollupError, VerificationFailed

# Malformed data from a node surfaces as one of these while it is decoded or checked.
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, RLPException, BadSignature,
              KeyValidationError)  # fmt: skip


class CheckName(StrEnum):
    """The checks of :func:`verify_inference`, in the order they run."""

    HEADER = "header"
    ANCHOR = "anchor"
    TRANSACTION = "transaction"
    STATUS = "status"
    RECEIPT = "receipt"
    MERKLE = "merkle"
    PARENT = "parent"
    REGISTRY = "registry"
    ADMISSION = "admission"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``detail`` says what was proven or why it failed."""

    name: CheckName
    outcome: Outcome
    detail: str


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


class Rpc(Protocol):
    """What the light client needs from a JSON-RPC client (``RollupClient.request``)."""

    def request(self, method: str, *params: Any) -> Any: ...


class Recorder:
    """Collects check outcomes; :meth:`fail` records the failure and builds its exception."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def passed(self, name: CheckName, detail: str) -> None:
        self.checks.append(Check(name, Outcome.PASSED, detail))

    def skipped(self, name: CheckName, detail: str) -> None:
        self.checks.append(Check(name, Outcome.SKIPPED, detail))

    def fail(self, name: CheckName, reason: str) -> NoReturn:
        self.checks.append(Check(name, Outcome.FAILED, reason))
        raise VerificationFailed(name.value, reason, checks=tuple(self.checks))


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _short(value: bytes) -> str:
    text = _hex(value)
    return f"{text[:10]}…{text[-8:]}"


# --- pieces shared with RollupClient.verify_inference_proof -------------------------------


def verified_header(
    raw: Any, expected_hash: bytes, record: Recorder, name: CheckName
) -> BlockHeader:
    """A header from the node's JSON whose fields hash to ``expected_hash``."""
    if not isinstance(raw, Mapping):
        record.fail(name, f"the node serves no block {_hex(expected_hash)}")
    try:
        header = parse_header(raw)
        matches = header.hash_matches()
    except (RollupError, *_MALFORMED) as exc:
        record.fail(name, f"the node's header of block {_hex(expected_hash)} is malformed ({exc})")
    if not matches:
        record.fail(name, f"block {header.number}'s fields do not hash to {header.hash_hex}")
    if bytes(header.hash) != bytes(expected_hash):
        record.fail(
            name, f"the node sent block {header.hash_hex} where {_hex(expected_hash)} was asked"
        )
    return header


def committed_receipt(
    proof: InferenceProof,
    header: BlockHeader,
    record: Recorder,
    *,
    chain_id: int | None,
    request_id: bytes | None = None,
) -> tuple[Address, ModelOutput]:
    """Check ``proof``'s receipt and its Merkle branch to ``header`` (already hash-checked);
    returns the signer and the decoded output. Records ``receipt`` and ``merkle``."""
    receipt = proof.receipt
    rid = _hex(receipt.request_id)
    if request_id is not None and bytes(receipt.request_id) != bytes(request_id):
        record.fail(
            CheckName.RECEIPT,
            f"asked for the receipt of request {_hex(request_id)}, the node sent request {rid}'s",
        )
    try:
        # The receipt was valid when the block was sealed: judge its expiry at that moment.
        signer = check_receipt(receipt, chain_id=chain_id, now=header.timestamp)
        output = decode_model_output(receipt.output)
    except (InvalidReceipt, InvalidTensor) as exc:
        record.fail(CheckName.RECEIPT, f"request {rid}: {exc}")
    record.passed(
        CheckName.RECEIPT,
        f"request {rid}: model {receipt.model_cid}, {InferenceMode(receipt.mode).name}, "
        f"signed by {to_checksum_address(signer)}",
    )
    try:
        leaf = receipt_leaf(receipt)
    except InvalidReceipt as exc:
        record.fail(CheckName.MERKLE, f"request {rid}: no leaf for the receipt ({exc})")
    root = header.extra_data
    if bytes(proof.inference_root) != bytes(root):
        record.fail(
            CheckName.MERKLE,
            f"the proof's inferenceRoot {_hex(proof.inference_root)} is not block "
            f"{header.number}'s extraData {_hex(root)}",
        )
    if proof.leaf is not None and bytes(proof.leaf) != bytes(leaf):
        record.fail(
            CheckName.MERKLE, f"the proof's leaf is not the hash of request {rid}'s receipt"
        )
    if proof.block_hash is not None and bytes(proof.block_hash) != bytes(header.hash):
        record.fail(
            CheckName.MERKLE,
            f"the proof of request {rid} names block {_hex(proof.block_hash)}, "
            f"not {header.hash_hex}",
        )
    if not verify_merkle_branch(
        leaf, list(proof.branch), proof.index, Hash32(root), proof.leaf_count
    ):
        record.fail(
            CheckName.MERKLE,
            f"the Merkle branch of request {rid} does not lead to block {header.number}'s "
            f"inferenceRoot {_hex(root)}",
        )
    record.passed(
        CheckName.MERKLE,
        f"request {rid}: leaf {proof.index} of {proof.leaf_count} under inferenceRoot {_hex(root)}",
    )
    return signer, output


# --- the registry, proven -----------------------------------------------------------------


class ProvenRegistry:
    """Registry words read through ``eth_getProof`` and checked against a state root.

    Every word the admission rule reads is fetched with its proof at ``block_number`` and
    verified against ``state_root`` (the verified header's) before it is used; a node that
    answers for another block, alters a proof node or claims another value is refused.
    """

    def __init__(self, rpc: Rpc, block_number: int, state_root: bytes, record: Recorder) -> None:
        self._rpc = rpc
        self._block = block_number
        self._root = bytes(state_root)
        self._record = record
        self._words: dict[int, int] = {}
        self.view = RegistryView(self.read)

    def read(self, slot: int) -> int:
        """The registry's storage word at ``slot``, proven."""
        if slot not in self._words:
            self._words[slot] = self._prove(slot)
        return self._words[slot]

    @property
    def slots(self) -> dict[int, int]:
        """Every word proven so far (slot -> value)."""
        return dict(self._words)

    def _prove(self, slot: int) -> int:
        fail = self._record.fail
        registry = "0x" + REGISTRY_ADDRESS.hex()
        raw = self._rpc.request("eth_getProof", registry, [hex(slot)], hex(self._block))
        where = f"block {self._block}'s state root {_hex(self._root)}"
        try:
            answer = proof_answer(raw)
        except _MALFORMED as exc:
            fail(CheckName.REGISTRY, f"the node's eth_getProof answer is malformed ({exc})")
        if answer.address != REGISTRY_ADDRESS:
            fail(
                CheckName.REGISTRY, f"asked for the registry's proof, got {_hex(answer.address)}'s"
            )
        try:
            account = verify_account_proof(self._root, REGISTRY_ADDRESS, answer.account_proof)
        except InvalidProof as exc:
            fail(CheckName.REGISTRY, f"the registry's account proof fails against {where}: {exc}")
        if answer.storage_hash != account.storage_root:
            fail(
                CheckName.REGISTRY,
                f"the node claims the registry's storageHash is {_hex(answer.storage_hash)}; "
                f"its proof against {where} proves {_hex(account.storage_root)}",
            )
        if len(answer.storage) != 1 or answer.storage[0].slot != slot:
            fail(CheckName.REGISTRY, f"the answer does not carry the proof of slot {hex(slot)}")
        entry = answer.storage[0]
        try:
            value = verify_storage_proof(account.storage_root, slot, entry.proof)
        except InvalidProof as exc:
            fail(CheckName.REGISTRY, f"the proof of registry slot {hex(slot)} fails: {exc}")
        if entry.value != value:
            fail(
                CheckName.REGISTRY,
                f"the node claims registry slot {hex(slot)} holds {entry.value}; its proof "
                f"against {where} proves {value}",
            )
        return value


def admission_detail(
    signer: Address, mode: InferenceMode, registry: ProvenRegistry, parent: int, now: int
) -> str:
    """What made ``signer`` admissible (for people): its registry entry, proven."""
    who = to_checksum_address(signer)
    if mode is InferenceMode.TEE:
        key = tee_key_of(registry.view, signer)
        if key is not None:
            return (
                f"{who} is an admitted TEE key running approved measurement "
                f"{_hex(key.measurement)}, attested {now - key.attested_at} s before the block "
                f"(registry of block {parent})"
            )
    return f"{who} is an active sprinter (registry of block {parent})"


# --- the whole check ----------------------------------------------------------------------


def verify_inference(
    rpc: Rpc, tx_hash: bytes, *, trusted_block_hash: bytes | None = None
) -> InferenceVerification:
    """Check the transaction ``tx_hash`` and every model call it made (module docstring).

    Raises :class:`VerificationFailed` naming the failed check, ``InferenceNotFound`` when
    the node knows no such mined transaction or names no model call of it, and the
    ``RollupError`` tree when the node cannot be reached or answers an error.
    """
    record = Recorder()
    lookup = rpc.request("eth_getTransactionByHash", _hex(tx_hash))
    if lookup is not None and not isinstance(lookup, Mapping):
        record.fail(CheckName.HEADER, "the node's transaction lookup is not an object")
    if lookup is None:
        raise InferenceNotFound(f"the node knows no transaction {_hex(tx_hash)}")
    if lookup.get("blockHash") is None:
        raise InferenceNotFound(
            f"transaction {_hex(tx_hash)} is still pending", hint="wait until it is included"
        )
    try:
        block_hash = hex_bytes(lookup["blockHash"], 32)
    except _MALFORMED as exc:
        record.fail(CheckName.HEADER, f"the node names no valid block for the transaction ({exc})")
    block = rpc.request("eth_getBlockByHash", _hex(block_hash), True)
    header = verified_header(block, block_hash, record, CheckName.HEADER)
    record.passed(CheckName.HEADER, f"block {header.number}'s fields hash to {header.hash_hex}")

    if trusted_block_hash is None:
        record.skipped(CheckName.ANCHOR, "no trusted block hash given: the block is not anchored")
    elif bytes(trusted_block_hash) != bytes(header.hash):
        record.fail(
            CheckName.ANCHOR,
            f"the transaction's block is {header.hash_hex}, not the trusted "
            f"{_hex(trusted_block_hash)}",
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
        rpc.request("eth_getBlockByHash", _hex(parent_hash), False), parent_hash, record,
        CheckName.PARENT,
    )  # fmt: skip
    record.passed(CheckName.PARENT, f"block {parent.number} hashes to the header's parentHash")
    registry = ProvenRegistry(rpc, parent.number, parent.state_root, record)
    inferences = []
    for inference, signer in checked:
        mode = InferenceMode(inference.receipt.mode)
        problem = signer_problem(signer, mode, registry=registry.view, now=header.timestamp)
        if problem is not None:
            record.passed(CheckName.REGISTRY, _registry_detail(registry, parent))
            record.fail(CheckName.ADMISSION, problem)
        detail = admission_detail(signer, mode, registry, parent.number, header.timestamp)
        inferences.append(_with_admission(inference, detail))
    record.passed(CheckName.REGISTRY, _registry_detail(registry, parent))
    for inference in inferences:
        record.passed(CheckName.ADMISSION, inference.admission or "")

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
    except _MALFORMED as exc:
        record.fail(CheckName.HEADER, f"the node's block {block} has no valid hash ({exc})")
    header = verified_header(raw, claimed, record, CheckName.HEADER)
    if trusted_block_hash is not None and bytes(trusted_block_hash) != bytes(header.hash):
        record.fail(
            CheckName.ANCHOR,
            f"block {header.number} is {header.hash_hex}, not the trusted {_hex(trusted_block_hash)}",
        )
    registry = ProvenRegistry(rpc, header.number, header.state_root, record)
    problem = signer_problem(Address(bytes(signer)), mode, registry=registry.view,
                             now=header.timestamp)  # fmt: skip
    if problem is not None:
        record.fail(CheckName.ADMISSION, problem)
    return admission_detail(Address(bytes(signer)), mode, registry, header.number, header.timestamp)


def _registry_detail(registry: ProvenRegistry, parent: BlockHeader) -> str:
    words = ", ".join(
        f"{_short(s.to_bytes(32, 'big'))}={v if v < 2**64 else _short(v.to_bytes(32, 'big'))}"
        for s, v in registry.slots.items()
    )
    return (
        f"{len(registry.slots)} registry word(s) proven against block {parent.number}'s "
        f"stateRoot {_hex(parent.state_root)}: {words}"
    )


def _included_transaction(
    block: Mapping[str, Any], header: BlockHeader, tx_hash: bytes, record: Recorder
) -> tuple[int, DecodedTransaction]:
    fail = record.fail
    try:
        decoded = [transaction_from_json(tx) for tx in block["transactions"]]
    except _MALFORMED as exc:
        fail(CheckName.TRANSACTION, f"a transaction of the block cannot be re-encoded ({exc})")
    root = ordered_trie_root([tx.encoded for tx in decoded])
    if root != header.transactions_root:
        fail(
            CheckName.TRANSACTION,
            f"the block's {len(decoded)} transactions have the root {_hex(root)}, the header "
            f"says transactionsRoot {_hex(header.transactions_root)}",
        )
    found = [i for i, tx in enumerate(decoded) if tx.hash == bytes(tx_hash)]
    if not found:
        fail(CheckName.TRANSACTION, f"transaction {_hex(tx_hash)} is not in block {header.number}")
    record.passed(
        CheckName.TRANSACTION,
        f"transaction {found[0]} of {len(decoded)} under transactionsRoot "
        f"{_hex(header.transactions_root)}, sent by {to_checksum_address(decoded[found[0]].sender)}",
    )
    return found[0], decoded[found[0]]


def _proven_receipt(rpc: Rpc, header: BlockHeader, index: int, record: Recorder) -> dict[str, Any]:
    receipts = rpc.request("eth_getBlockReceipts", header.hash_hex)
    try:
        root = ordered_trie_root([receipt_bytes(r) for r in receipts])
        receipt = dict(receipts[index])
    except _MALFORMED as exc:
        record.fail(CheckName.STATUS, f"the block's receipts cannot be re-encoded ({exc})")
    if root != header.receipts_root:
        record.fail(
            CheckName.STATUS,
            f"the block's receipts have the root {_hex(root)}, the header says receiptsRoot "
            f"{_hex(header.receipts_root)}",
        )
    outcome = "succeeded" if receipt["status"] == "0x1" else "reverted"
    record.passed(CheckName.STATUS, f"{outcome}: receipt {index} under receiptsRoot {_hex(root)}")
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
    raw = rpc.request("neuro_getInferenceProof", _hex(request_id))
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
        f"block {header.number}'s witness holds no receipt of request {_hex(request_id)}",
    )


def _named_requests(receipt: Mapping[str, Any], tx_hash: bytes) -> list[RequestId]:
    try:
        ids = [RequestId(hex_bytes(c["requestId"], 32)) for c in receipt.get("inferences") or []]
    except _MALFORMED:
        ids = []
    if not ids:
        raise InferenceNotFound(
            f"the node names no model call of transaction {_hex(tx_hash)}",
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
