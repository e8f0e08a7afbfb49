"""The Neuro fork: py-evm's Prague VM with the inference precompiles, fee settlement and a
block environment, as subclasses (py-evm's own extension mechanism).

- :class:`NeuroComputation` — Prague's precompile map merged, when the class is defined,
  with ``0x…F4`` (``runModelInference``), the registry system contract at
  ``0x4E53…0001`` and ``0x…F5``, reserved for OpenGradient's price-history precompile
  (every call reverts with a clear reason, :mod:`.inference.opengradient`). py-evm's
  EIP-2929 warm-address set is built from the same map.
- :class:`NeuroTransactionExecutor` — Prague's executor; it opens each transaction in the
  block's inference accumulator and, after py-evm's own finalisation (refund, tip),
  settles the transaction's inference fees (:mod:`.inference.fees`). Building, validating
  and calls all execute through it.
- :class:`NeuroState` — carries the per-block :class:`~.environment.BlockEnvironment`
  and its :class:`~.inference.outputs.InferenceOutputs`, and the fork's verification
  rules: ``receipt_verifiers`` (mode → verifier, :mod:`.inference.verify`) and the TEE
  ``attestation_verifier``.
- :class:`NeuroVM` — hands its ``environment`` and ``outputs`` to whatever state py-evm
  builds. They live on the VM instance, so two blocks or calls on different threads
  never see each other's. Sealing shares the block's transactions between the block
  objects py-evm makes on the way (py-evm deep-copies all of them three times, which
  also drops their recovered senders), and EIP-6110's deposit scan reads the receipts
  the block just produced instead of reading them back from the database (same result).

Nothing here is a registry filled at import time: a fork with more precompiles, modes or
another attestation verifier is a further subclass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from hashlib import sha256
from typing import Any, ClassVar, cast

import rlp
from eth.abc import (
    BlockAndMetaWitness,
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    MessageAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
    WithdrawalAPI,
)
from eth.constants import MAX_UNCLES
from eth.validation import validate_length_lte
from eth.vm.base import VM, get_parent_header
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES
from eth.vm.forks.prague.state import PragueState
from eth.vm.interrupt import EVMMissingData
from eth_typing import Address
from eth_utils import ValidationError, keccak
from eth_utils.logging import ExtendedDebugLogger

from neurostack.protocol.modes import InferenceMode

from .accounts import NeuroAccountDB
from .environment import BlockEnvironment, fork_state
from .executor import PragueExecutor, PragueMessageComputation, state_logger
from .inference.attestation import AttestationVerifier, DevAttestationVerifier
from .inference.constants import (
    INFERENCE_PRECOMPILE_ADDRESS,
    PRICE_HISTORY_ADDRESS,
    REGISTRY_ADDRESS,
)
from .inference.fees import settle_transaction
from .inference.opengradient import run_price_history
from .inference.outputs import InferenceOutputs, begin_transaction
from .inference.precompile import run_model_inference
from .inference.system_contract import run_registry
from .inference.verify import RECEIPT_VERIFIERS, ReceiptVerifier
from .receipts import copy_header, encode_receipt, make_receipt
from .roots import ordered_trie_root_and_nodes

NEURO_PRECOMPILES = {
    **PRAGUE_PRECOMPILES,
    INFERENCE_PRECOMPILE_ADDRESS: run_model_inference,
    REGISTRY_ADDRESS: run_registry,
    PRICE_HISTORY_ADDRESS: run_price_history,
}
"""Prague's precompiles, the fork's two system addresses and the reserved ``0x…F5``."""


class NeuroComputation(PragueMessageComputation):
    """Prague's computation with the Neuro precompiles."""

    _precompiles = NEURO_PRECOMPILES  # type: ignore[assignment]


class NeuroTransactionExecutor(PragueExecutor):
    """Prague's executor, opening and settling each transaction's inference calls."""

    def build_evm_message(self, transaction: SignedTransactionAPI) -> MessageAPI:
        outputs = fork_state(self.vm_state).outputs
        if outputs is not None:
            begin_transaction(outputs)
        return super().build_evm_message(transaction)

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        computation = super().finalize_computation(transaction, computation)
        outputs = fork_state(self.vm_state).outputs
        if outputs is not None:
            settle_transaction(self.vm_state, transaction, computation, outputs)
        return computation


class NeuroState(PragueState):
    """Prague's state with the block environment and the fork's verification rules."""

    account_db_class = NeuroAccountDB
    computation_class = NeuroComputation
    transaction_executor_class = NeuroTransactionExecutor
    environment: BlockEnvironment | None = None
    outputs: InferenceOutputs | None = None
    receipt_verifiers: ClassVar[Mapping[InferenceMode, ReceiptVerifier]] = RECEIPT_VERIFIERS
    attestation_verifier: ClassVar[AttestationVerifier] = DevAttestationVerifier()

    @property
    def logger(self) -> ExtendedDebugLogger:
        return state_logger(self)  # py-evm's, without a lookup by name on every access

    def delta_balance(self, address: Address, delta: int) -> None:
        # BaseState's, without its two one-line wrappers: five calls per transfer
        accounts = self._account_db
        accounts.set_balance(address, accounts.get_balance(address) + delta)


class NeuroVM(PragueVM):
    """The chain's VM: Prague rules, Neuro precompiles, an explicit block environment."""

    fork = "prague"  # consensus rules are Prague's; tools that look at the name see that
    _state_class = NeuroState
    environment: BlockEnvironment | None = None
    outputs: InferenceOutputs | None = None

    @property
    def state(self) -> StateAPI:
        # py-evm builds (and in import_block re-builds) the state lazily; attach the
        # environment whichever path created it.
        state: Any = VM.state.fget(self)  # type: ignore[attr-defined]
        if state.environment is not self.environment or state.outputs is not self.outputs:
            state.environment = self.environment
            state.outputs = self.outputs
        return state

    # -- sealing without deep copies (same blocks as py-evm's own methods) --

    sealing_receipts: Sequence[ReceiptAPI] | None = None
    """The receipts of the block being sealed (set by ``seal_block``), for the deposit scan."""

    def process_deposit_request_data(self, block: BlockAPI) -> None:
        receipts = self.sealing_receipts
        if receipts is None:
            super().process_deposit_request_data(block)
            return
        # py-evm's loop over the same receipts, which it would first read back from the
        # database; a receipts-shaped view of the block does the same
        view = cast(BlockAPI, _WithReceipts(block, receipts))
        super().process_deposit_request_data(view)

    @staticmethod
    def compute_requests_hash(block: BlockAPI) -> BlockAPI:
        m = sha256()
        for r in block.block_requests:
            if len(r) > 1:
                m.update(sha256(r).digest())
        return _replace(block, header=block.header.copy(requests_hash=m.digest()))

    def pack_block(self, block: BlockAPI, *args: Any, **kwargs: Any) -> BlockAPI:
        if args:
            return super().pack_block(block, *args, **kwargs)
        if "uncles" in kwargs:
            uncles = kwargs.pop("uncles")
            kwargs.setdefault("uncles_hash", keccak(rlp.encode(uncles)))
        else:
            uncles = block.uncles
        unknown = set(kwargs).difference(self.get_header()._meta.field_names)  # type: ignore[attr-defined]
        if unknown:
            return super().pack_block(block, **kwargs)  # py-evm's error
        return _replace(block, uncles=uncles, header=block.header.copy(**kwargs))

    def add_receipt_to_header(
        self, old_header: BlockHeaderAPI, receipt: ReceiptAPI
    ) -> BlockHeaderAPI:
        # Byzantium's (the bloom filters' union is their bitwise or), without
        # Serializable.copy's deep copy of the other (immutable) fields and rlp's checks
        return copy_header(
            old_header, bloom=old_header.bloom | receipt.bloom, gas_used=receipt.gas_used
        )

    @classmethod
    def make_receipt(
        cls,
        base_header: BlockHeaderAPI,
        transaction: SignedTransactionAPI,
        computation: ComputationAPI,
        state: StateAPI,
    ) -> ReceiptAPI:
        # Byzantium's, with the receipt built directly (.receipts)
        gas_used = base_header.gas_used + cls.finalize_gas_used(transaction, computation)
        status = (
            EIP658_TRANSACTION_STATUS_CODE_FAILURE
            if computation.is_error
            else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
        )
        return make_receipt(transaction, status, gas_used, computation.get_log_entries())

    # -- ordered-trie roots built in one pass, once per block (.roots) --

    def set_block_transactions_and_withdrawals(
        self,
        base_block: BlockAPI,
        new_header: BlockHeaderAPI,
        transactions: Sequence[SignedTransactionAPI],
        receipts: Sequence[ReceiptAPI],
        withdrawals: Sequence[WithdrawalAPI] | None = None,
    ) -> BlockAPI:
        # py-evm's method, with the roots (and the nodes it stores) from .roots
        tx_root, tx_nodes = ordered_trie_root_and_nodes(transactions)
        self.chaindb.persist_trie_data_dict(tx_nodes)
        receipt_root, receipt_nodes = ordered_trie_root_and_nodes(receipts, encode_receipt)
        self.chaindb.persist_trie_data_dict(receipt_nodes)
        fields: dict[str, Any] = {"transactions": transactions}
        header_fields: dict[str, Any] = {"transaction_root": tx_root, "receipt_root": receipt_root}
        if withdrawals:
            withdrawals_root, withdrawal_nodes = ordered_trie_root_and_nodes(withdrawals)
            self.chaindb.persist_trie_data_dict(withdrawal_nodes)
            fields["withdrawals"] = withdrawals
            header_fields["withdrawals_root"] = withdrawals_root
        fields["header"] = new_header.copy(**header_fields)
        return _replace(base_block, **fields)

    def validate_block(self, block: BlockAPI) -> None:
        # py-evm's VM.validate_block and Prague's blob checks, with the transactions root
        # from .roots (the one the block was sealed with: computed once)
        if not isinstance(block, self.get_block_class()):
            raise ValidationError(f"This vm ({self!r}) cannot validate a block of type {block!r}")
        if block.is_genesis:
            validate_length_lte(
                block.header.extra_data, self.extra_data_max_bytes, title="BlockHeader.extra_data"
            )
        else:
            self.validate_header(block.header, get_parent_header(block.header, self.chaindb))
        tx_root, _ = ordered_trie_root_and_nodes(block.transactions)
        if tx_root != block.header.transaction_root:
            raise ValidationError(
                f"Block's transaction_root ({block.header.transaction_root!r}) "
                f"does not match expected value: {tx_root!r}"
            )
        if len(block.uncles) > MAX_UNCLES:
            raise ValidationError(f"Blocks may have a maximum of {MAX_UNCLES} uncles.")
        state_root = block.header.state_root
        if not self.chaindb.exists(state_root) and self.state.make_state_root() != state_root:
            raise ValidationError("`state_root` does not match or was not found in the db.")
        if keccak(rlp.encode(block.uncles)) != block.header.uncles_hash:
            raise ValidationError("`uncles_hash` and block `uncles` do not match.")
        self.validate_block_blobs(block)

    def finalize_block(self, block: BlockAPI) -> BlockAndMetaWitness:
        if block.number > 0:
            snapshot = self.state.snapshot()
            try:
                self._assign_block_rewards(block)
            except EVMMissingData:
                self.state.revert(snapshot)
                raise
            else:
                self.state.commit(snapshot)
        meta_witness = self.state.persist()
        final = _replace(block, header=block.header.copy(state_root=self.state.state_root))
        return BlockAndMetaWitness(final, meta_witness)


def _replace(block: BlockAPI, **fields: Any) -> BlockAPI:
    """``block.copy(**fields)`` without deep-copying the fields left as they are: the
    transactions and withdrawals are immutable, and a copy would lose their senders."""
    values = dict(block.as_dict())  # type: ignore[attr-defined]
    values.update(fields)
    copied = type(block)(**values)
    copied.block_requests = list(block.block_requests)
    return copied


class _WithReceipts:
    """A block whose ``get_receipts`` answers the receipts it was executed with."""

    def __init__(self, block: BlockAPI, receipts: Sequence[ReceiptAPI]) -> None:
        self._block = block
        self._receipts = receipts
        self.block_requests = block.block_requests

    def get_receipts(self, chaindb: object) -> Sequence[ReceiptAPI]:
        return self._receipts


def attestation_verifier_of(vm_class: type[NeuroVM]) -> AttestationVerifier:
    """The attestation verifier of a fork (genesis checks its TEE keys with it)."""
    return cast(type[NeuroState], vm_class.get_state_class()).attestation_verifier
