"""Prague's transaction executor and message call without their eager debug strings.

py-evm formats its ``DEBUG2`` trace lines before asking the logger whether it wants them:
for every transaction ``repr(transaction)``, four ``encode_hex``, a keccak of the call
data, and a logger looked up by name on each ``state.logger`` access (eth-utils'
``get_logger``, which swaps the logging module's logger class twice per call). That was a
tenth of the block producer's time per transfer, for lines that are off unless someone
enables ``DEBUG2`` on the ``eth.vm`` loggers.

The methods below are py-evm's, statement for statement (the versions named in each
docstring, as pinned in ``pyproject.toml``), with each trace line formatted only when the
logger shows ``DEBUG2``. ``tests/sequencer/chain/test_executor.py`` pins the source of the
py-evm methods they stand for, so an upgrade of py-evm that changes one fails there, and
runs the same blocks through plain py-evm and this fork (receipts, roots, block hashes).
"""

from __future__ import annotations

from eth._utils.address import generate_contract_address
from eth.abc import (
    ComputationAPI,
    MessageAPI,
    SignedTransactionAPI,
    StateAPI,
    TransactionContextAPI,
)
from eth.constants import CREATE_CONTRACT_ADDRESS, STACK_DEPTH_LIMIT
from eth.exceptions import InsufficientFunds, StackDepthLimit
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueTransactionExecutor
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from eth.vm.message import Message
from eth_utils import encode_hex, keccak
from eth_utils.logging import ExtendedDebugLogger, get_extended_debug_logger

BLOB_TX_TYPE = 3
PY_EVM_VERSION = "0.12.1b1"
"""The py-evm release whose methods are restated below (pinned in ``pyproject.toml``)."""

_loggers: dict[str, ExtendedDebugLogger] = {}


def state_logger(state: StateAPI) -> ExtendedDebugLogger:
    """py-evm's ``BaseState.logger`` (``eth.vm.state.<class name>``), looked up once."""
    name = f"eth.vm.state.{type(state).__name__}"
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = get_extended_debug_logger(name)
    return logger


def _tracing(logger: ExtendedDebugLogger) -> bool:
    return bool(logger.show_debug2)  # what ``debug2`` asks (cached on the logger)


_FIELDS_VALID = "_neuro_fields_valid"


def validate_fields(transaction: SignedTransactionAPI) -> None:
    """``transaction.validate()`` (the ranges and types of its fields), once per object: a
    transaction is immutable, and admission, building and re-verification each asked."""
    if transaction.__dict__.get(_FIELDS_VALID) is not True:
        transaction.validate()
        transaction.__dict__[_FIELDS_VALID] = True


class PragueExecutor(PragueTransactionExecutor):
    """Prague's executor; trace lines formatted only when shown."""

    def validate_transaction(self, transaction: SignedTransactionAPI) -> None:
        """``FrontierTransactionExecutor.validate_transaction`` (py-evm 0.12.1b1)."""
        validate_fields(transaction)
        self.vm_state.validate_transaction(transaction)

    def build_evm_message(self, transaction: SignedTransactionAPI) -> MessageAPI:
        """``CancunTransactionExecutor.build_evm_message`` (py-evm 0.12.1b1)."""
        state = self.vm_state
        london_gas_fee = transaction.gas * state.get_gas_price(transaction)
        blob_data_fee = (
            self.calc_data_fee(transaction)  # type: ignore[arg-type]
            if transaction.type_id == BLOB_TX_TYPE
            else 0
        )
        state.delta_balance(transaction.sender, -1 * (london_gas_fee + blob_data_fee))
        state.increment_nonce(transaction.sender)

        msg_refund = self.calc_message_refund(transaction)
        message_gas = transaction.gas - transaction.intrinsic_gas

        if transaction.to == CREATE_CONTRACT_ADDRESS:
            contract_address = generate_contract_address(
                transaction.sender, state.get_nonce(transaction.sender) - 1
            )
            data = b""
            code = transaction.data
            is_delegation = False
        else:
            contract_address = None
            data = transaction.data
            code, delegation_address = self.get_code_at_address(transaction.to)
            is_delegation = delegation_address is not None

        logger = state.logger
        if _tracing(logger):
            logger.debug2(
                f"TRANSACTION: {transaction!r}; "
                f"sender: {encode_hex(transaction.sender)} | "
                f"to: {encode_hex(transaction.to)} | "
                f"data-hash: {encode_hex(keccak(transaction.data))} | "
                f"gas: {transaction.gas} | "
                f"code: {encode_hex(code)} | "
            )
        return Message(
            gas=message_gas,
            to=transaction.to,
            sender=transaction.sender,
            value=transaction.value,
            data=data,
            code=code,
            create_address=contract_address,  # type: ignore[arg-type]  # None: a call
            refund=msg_refund,
            is_delegation=is_delegation,
        )

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        """``SpuriousDragonTransactionExecutor.finalize_computation`` around
        ``FrontierTransactionExecutor.finalize_computation`` (py-evm 0.12.1b1)."""
        state = self.vm_state
        logger = state.logger
        tracing = _tracing(logger)
        # the context the computation ran with (build_computation made it from the same
        # transaction and state; py-evm makes it a second time here)
        transaction_context = computation.transaction_context

        gas_remaining = computation.get_gas_remaining()
        gas_used = transaction.gas - gas_remaining
        gas_refund = self.calculate_gas_refund(computation, gas_used)

        computation.data_floor_gas = self.calc_data_floor_gas(  # type: ignore[attr-defined]
            transaction, gas_used, gas_refund
        )
        data_floor_gas = computation.data_floor_gas  # type: ignore[attr-defined]
        gas_refund_amount = (
            gas_refund + gas_remaining - data_floor_gas
        ) * transaction_context.gas_price
        if gas_refund_amount:
            if tracing:
                logger.debug2(
                    f"TRANSACTION REFUND: {gas_refund_amount} -> "
                    f"{encode_hex(computation.msg.sender)}"
                )
            state.delta_balance(computation.msg.sender, gas_refund_amount)

        gas_used = transaction.gas - gas_remaining - gas_refund + data_floor_gas
        transaction_fee = gas_used * state.get_tip(transaction)
        if tracing:
            logger.debug2(f"TRANSACTION FEE: {transaction_fee} -> {encode_hex(state.coinbase)}")
        state.delta_balance(state.coinbase, transaction_fee)

        for account in computation.get_accounts_for_deletion():
            if tracing:
                logger.debug2(f"DELETING ACCOUNT: {encode_hex(account)}")
            state.delete_account(account)

        # EIP-161 state clearing (Spurious Dragon)
        for account in collect_touched_accounts(computation):
            if state.account_exists(account) and state.account_is_empty(account):
                if tracing:
                    logger.debug2(f"CLEARING EMPTY ACCOUNT: {encode_hex(account)}")
                state.delete_account(account)

        return computation


class PragueMessageComputation(PragueComputation):
    """Prague's computation; the value-transfer trace line formatted only when shown."""

    @classmethod
    def apply_message(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        """``FrontierComputation.apply_message`` (py-evm 0.12.1b1)."""
        snapshot = state.snapshot()

        if message.depth > STACK_DEPTH_LIMIT:
            raise StackDepthLimit("Stack depth limit reached")

        if message.should_transfer_value and message.value:
            sender_balance = state.get_balance(message.sender)
            if sender_balance < message.value:
                raise InsufficientFunds(f"Insufficient funds: {sender_balance} < {message.value}")
            state.delta_balance(message.sender, -1 * message.value)
            state.delta_balance(message.storage_address, message.value)
            if _tracing(cls.logger):
                cls.logger.debug2(
                    f"TRANSFERRED: {message.value} from {encode_hex(message.sender)} -> "
                    f"{encode_hex(message.storage_address)}"
                )

        state.touch_account(message.storage_address)

        computation = cls.apply_computation(
            state, message, transaction_context, parent_computation=parent_computation
        )

        if computation.is_error:
            state.revert(snapshot)
        else:
            state.commit(snapshot)
        return computation
