"""``eth_simulateV1``: calls run in a chain of simulated blocks on top of a block, as geth does.

Each simulated block is built like a real one (py-evm's pre-processing, the calls as
transactions, post-processing, sealing), so its state root, receipts, bloom and hash are
real and ``BLOCKHASH`` of an earlier simulated block works. The blocks are persisted into
a scratch database that reads through to the chain's and keeps its own writes in memory;
it is dropped at the end, so nothing reaches the chain's store.

Following geth (``internal/ethapi/simulate.go``):

- block numbers default to one more than the previous block and must increase; a gap is
  filled with empty blocks; timestamps must increase (default: previous + 1 here, the
  spec's default; geth adds 12, an L1 slot);
- without ``validation`` the base fee is 0 unless overridden and a call's nonce is not
  checked (it runs at the sender's current nonce); with it, base fee, nonce and balance are
  checked like a transaction's (never the signature, nor that the sender has no code);
- a call's gas defaults to what is left of the block's gas limit, and all calls of one
  request share a gas budget (geth's RPC gas cap);
- state overrides apply before a block's calls; ``traceTransfers`` adds native-token
  transfers to the call's logs as ERC-7528 ``Transfer`` events (not to the receipts).

A call that reverts or fails is a result (status 0 with its error); a call that cannot run
at all (nonce, fee, balance, intrinsic gas) rejects the whole request, with the kind of
rejection the RPC layer maps onto execution-apis' error codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from eth.abc import AtomicWriteBatchAPI, BlockAPI, BlockHeaderAPI, ChainAPI, ComputationAPI
from eth.constants import ZERO_ADDRESS
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB
from eth.exceptions import OutOfGas, Revert
from eth.vm import opcode_values as op
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError

from ..errors import InvalidCall
from ..types import CallParams
from .calls import call_transaction
from .genesis import GENESIS_EXTRA_DATA
from .inference.outputs import InferenceOutputs
from .overrides import BlockOverrides, StateOverrides, apply_state_overrides
from .tracing import TransferTracer, traced_computation_class, use_computation_class

MAX_BLOCKS = 256  # geth's maxSimulateBlocks (also the BLOCKHASH window)
MAX_CALLS = 1000  # over all blocks; geth allows 10,000, py-evm is ~100x slower per call
GAS_BUDGET = 50_000_000  # geth's default RPC gas cap, shared by all calls of a request
TIMESTAMP_INCREMENT = 1


@dataclass(frozen=True)
class SimulatedBlockInput:
    """One entry of ``blockStateCalls``."""

    overrides: BlockOverrides = field(default_factory=BlockOverrides)
    state: StateOverrides = field(default_factory=dict)
    calls: tuple[CallParams, ...] = ()


@dataclass(frozen=True)
class SimulatedLog:
    """A log of a call's result; ``index`` counts over the block, transfer logs included."""

    address: Address
    topics: tuple[int, ...]
    data: bytes
    index: int


@dataclass(frozen=True)
class CallOutcome:
    return_data: bytes
    gas_used: int
    max_used_gas: int  # before the refund
    logs: tuple[SimulatedLog, ...] = ()
    reverted: bool = False  # the call ran REVERT: ``return_data`` is the revert data
    failure: str | None = None  # why it failed (out of gas, invalid opcode, ...); None: ok


@dataclass(frozen=True)
class SimulatedBlock:
    block: BlockAPI
    calls: tuple[CallOutcome, ...]
    senders: tuple[Address, ...]  # per transaction: the calls are not really signed


class SimulationRejected(InvalidCall):
    """The request cannot be simulated. ``kind`` says why, in geth's error classes:
    ``nonce_too_low``, ``nonce_too_high``, ``base_fee_too_low``, ``intrinsic_gas``,
    ``insufficient_funds``, ``block_gas_limit``, ``block_number``, ``block_timestamp``,
    ``client_limit``, ``invalid_params``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ScratchDB(BaseAtomicDB):
    """Reads fall through to ``base``; writes stay in this object and are dropped with it."""

    def __init__(self, base: Any) -> None:
        self._base = base
        self._writes: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._writes:
            value = self._writes[key]
            if value is None:
                raise KeyError(key)
            return value
        return cast(bytes, self._base[key])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._writes[key] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._writes[key] = None

    def _exists(self, key: bytes) -> bool:
        if key in self._writes:
            return self._writes[key] is not None
        return key in self._base

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch


def simulate(
    chain: ChainAPI,
    base: BlockHeaderAPI,
    blocks: Sequence[SimulatedBlockInput],
    *,
    validation: bool = False,
    trace_transfers: bool = False,
    environment: Any = None,
) -> list[SimulatedBlock]:
    """Simulate ``blocks`` on the state after ``base``; raises ``SimulationRejected``."""
    check_limits(blocks)
    scratch: ChainAPI = cast(Any, type(chain))(ScratchDB(chain.chaindb.db))
    budget = [GAS_BUDGET]
    out: list[SimulatedBlock] = []
    parent = base
    for number, timestamp, spec in plan_blocks(base, blocks):
        built = _simulate_block(
            scratch,
            parent,
            number,
            timestamp,
            spec,
            validation,
            trace_transfers,
            environment,
            budget,
        )
        scratch.chaindb.persist_block(built.block)
        out.append(built)
        parent = built.block.header
    return out


def check_limits(blocks: Sequence[SimulatedBlockInput]) -> None:
    if not blocks:
        raise SimulationRejected("invalid_params", "empty input")
    if len(blocks) > MAX_BLOCKS:
        raise SimulationRejected("client_limit", "too many blocks")
    calls = sum(len(b.calls) for b in blocks)
    if calls > MAX_CALLS:
        raise SimulationRejected("client_limit", f"too many calls: {calls} > {MAX_CALLS}")


def plan_blocks(
    base: BlockHeaderAPI, blocks: Sequence[SimulatedBlockInput]
) -> list[tuple[int, int, SimulatedBlockInput]]:
    """(number, timestamp, input) of every block to build, gaps filled (geth's sanitizeChain)."""
    prev_number: int = base.block_number
    prev_time: int = base.timestamp
    planned: list[tuple[int, int, SimulatedBlockInput]] = []
    for spec in blocks:
        wanted = spec.overrides
        number = prev_number + 1 if wanted.number is None else wanted.number
        if number <= prev_number:
            raise SimulationRejected(
                "block_number", f"block numbers must be in order: {number} <= {prev_number}"
            )
        if number - base.block_number > MAX_BLOCKS:
            raise SimulationRejected("client_limit", "too many blocks")
        for gap in range(prev_number + 1, number):
            prev_time += TIMESTAMP_INCREMENT
            planned.append((gap, prev_time, SimulatedBlockInput()))
        timestamp = prev_time + TIMESTAMP_INCREMENT if wanted.time is None else wanted.time
        if timestamp <= prev_time:
            raise SimulationRejected(
                "block_timestamp",
                f"block timestamps must be in order: {timestamp} <= {prev_time}",
            )
        prev_number, prev_time = number, timestamp
        planned.append((number, timestamp, spec))
    return planned


def _header(
    scratch: ChainAPI, parent: BlockHeaderAPI, number: int, timestamp: int, wanted: BlockOverrides,
    validation: bool,
) -> BlockHeaderAPI:  # fmt: skip
    vm_class = scratch.get_vm_class_for_block_number(BlockNumber(number))
    header = vm_class.create_header_from_parent(
        parent,
        timestamp=timestamp,
        gas_limit=parent.gas_limit if wanted.gas_limit is None else wanted.gas_limit,
        coinbase=parent.coinbase if wanted.fee_recipient is None else wanted.fee_recipient,
        extra_data=GENESIS_EXTRA_DATA,
    )
    fields: dict[str, Any] = {}
    if wanted.prev_randao is not None:
        fields["mix_hash"] = wanted.prev_randao
    if wanted.base_fee_per_gas is not None:
        fields["base_fee_per_gas"] = wanted.base_fee_per_gas
    elif not validation:  # geth: avoids gasPrice < baseFee for calls that give no fees
        fields["base_fee_per_gas"] = 0
    return header.copy(**fields) if fields else header


def _simulate_block(
    scratch: ChainAPI, parent: BlockHeaderAPI, number: int, timestamp: int,
    spec: SimulatedBlockInput, validation: bool, trace_transfers: bool, environment: Any,
    budget: list[int],
) -> SimulatedBlock:  # fmt: skip
    vm: Any = scratch.get_vm(
        _header(scratch, parent, number, timestamp, spec.overrides, validation)
    )
    vm.environment = environment  # type: ignore[attr-defined]
    vm.outputs = InferenceOutputs() if environment is not None else None
    state = vm.state
    base_class = state.computation_class
    precompiles = dict(base_class.get_precompiles())
    apply_state_overrides(state, spec.state, precompiles)
    tracer = TransferTracer() if trace_transfers else None
    use_computation_class(
        state,
        traced_computation_class(
            base_class,
            precompiles=precompiles,
            on_frame=tracer.on_frame if tracer else None,
            before_opcode={op.SELFDESTRUCT: tracer.before_selfdestruct} if tracer else None,
        ),
    )
    vm.block_preprocessing(vm.get_block())
    header = vm.get_header()
    builder = vm.get_transaction_builder()
    outcomes: list[CallOutcome] = []
    recorded: list[Any] = []
    receipts: list[Any] = []
    senders: list[Address] = []
    log_index = 0
    for params in spec.calls:
        sender = Address(params.sender or ZERO_ADDRESS)
        state_nonce = state.get_nonce(sender)
        remaining = header.gas_limit - header.gas_used
        gas = remaining if params.gas is None else params.gas
        if gas > remaining:
            raise SimulationRejected(
                "block_gas_limit",
                f"block gas limit reached: remaining: {remaining}, required: {gas}",
            )
        if budget[0] <= 0:
            raise SimulationRejected(
                "client_limit", f"gas budget of one eth_simulateV1 request ({GAS_BUDGET}) used up"
            )
        nonce = state_nonce if params.nonce is None else params.nonce
        if validation:
            _check_nonce(sender, nonce, state_nonce)
        tx = call_transaction(
            builder,
            params,
            sender=sender,
            chain_id=scratch.chain_id,
            nonce=nonce if validation else state_nonce,  # unchecked: run at the state's
            gas=min(gas, budget[0]),
            access_list=params.access_list,
        )
        intrinsic = tx.executable.intrinsic_gas
        if tx.executable.gas < intrinsic:
            raise SimulationRejected(
                "intrinsic_gas",
                f"intrinsic gas too low: have {tx.executable.gas}, want {intrinsic}",
            )
        state.lock_changes()  # a new transaction: fresh EIP-2929 access sets
        try:
            computation = state.apply_transaction(tx.executable)
        except ValidationError as exc:
            raise _rejection(sender, str(exc)) from None
        gas_used = cast(Any, type(vm)).finalize_gas_used(tx.executable, computation)
        budget[0] -= gas_used
        entries = () if computation.is_error else computation.get_raw_log_entries()
        injected = tracer.injected if tracer else set()
        receipt = tx.recorded.make_receipt(
            EIP658_TRANSACTION_STATUS_CODE_FAILURE
            if computation.is_error
            else EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
            header.gas_used + gas_used,
            tuple((a, t, d) for counter, a, t, d in entries if counter not in injected),
        )
        header = vm.add_receipt_to_header(header, receipt)
        logs = tuple(
            SimulatedLog(Address(address), tuple(topics), data, log_index + i)
            for i, (_, address, topics, data) in enumerate(entries)
        )
        log_index += len(logs)
        outcomes.append(_outcome(computation, tx.executable.gas, gas_used, logs))
        recorded.append(tx.recorded)
        receipts.append(receipt)
        senders.append(sender)
    block = vm.set_block_transactions_and_withdrawals(vm.get_block(), header, recorded, receipts)
    block = vm.block_postprocessing(block)
    # mine_block without its validate_block: overridden base fees and gas limits are the
    # point of a simulation, not header errors
    block = vm.finalize_block(vm.pack_block(block, extra_data=GENESIS_EXTRA_DATA)).block
    return SimulatedBlock(block, tuple(outcomes), tuple(senders))


def _outcome(
    computation: ComputationAPI, gas: int, gas_used: int, logs: tuple[SimulatedLog, ...]
) -> CallOutcome:
    max_used = gas - computation.get_gas_remaining()
    if not computation.is_error:
        return CallOutcome(computation.output, gas_used, max_used, logs)
    error = computation.error
    if isinstance(error, Revert):
        return CallOutcome(computation.output, gas_used, max_used, reverted=True)
    reason = "out of gas" if isinstance(error, OutOfGas) else (str(error) or type(error).__name__)
    return CallOutcome(b"", gas_used, max_used, failure=reason)


def _check_nonce(sender: Address, nonce: int, state_nonce: int) -> None:
    if nonce < state_nonce:
        raise SimulationRejected(
            "nonce_too_low",
            f"nonce too low: address 0x{sender.hex()}, tx: {nonce} state: {state_nonce}",
        )
    if nonce > state_nonce:
        raise SimulationRejected(
            "nonce_too_high",
            f"nonce too high: address 0x{sender.hex()}, tx: {nonce} state: {state_nonce}",
        )


def _rejection(sender: Address, text: str) -> SimulationRejected:
    """py-evm's validation failure as geth's error class and message."""
    lowered = text.lower()
    if "base fee" in lowered:
        return SimulationRejected(
            "base_fee_too_low", f"max fee per gas less than block base fee: {text}"
        )
    if "balance" in lowered or "afford" in lowered or "insufficient funds" in lowered:
        return SimulationRejected(
            "insufficient_funds",
            f"insufficient funds for gas * price + value: address 0x{sender.hex()} ({text})",
        )
    if "gas" in lowered:
        return SimulationRejected("intrinsic_gas", f"intrinsic gas too low: {text}")
    return SimulationRejected("invalid_params", text)
