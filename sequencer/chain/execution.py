"""Read-only execution: ``eth_call`` and ``eth_estimateGas`` on the state after a block.

A call runs on a throw-away state built on the block's header (its number and timestamp,
its post-state) with the base fee set to 0, as geth does when no gas price is given: a
call without fee fields needs no balance for gas. Nothing is persisted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from eth.abc import BlockHeaderAPI, ChainAPI, ComputationAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS, ZERO_ADDRESS
from eth.exceptions import OutOfGas, Revert
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_typing import Address
from eth_utils import ValidationError

from ..errors import ExecutionReverted, InvalidCall
from ..types import CallParams
from .environment import BlockEnvironment
from .fork import NeuroVM
from .inference.errors import UnpaidInferenceOutput
from .inference.outputs import InferenceOutputs

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
ESTIMATE_ERROR_RATIO = 0.015
PLAIN_TRANSFER_GAS = 21_000  # geth stops the binary search within 1.5 % of the answer


def revert_message(data: bytes) -> str:
    """geth's text for revert data: ``execution reverted[: reason]``."""
    if data[:4] == ERROR_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], data[4:])
        except (DecodingError, UnicodeDecodeError):
            return "execution reverted"  # malformed Error(string): the data still goes back
        return f"execution reverted: {reason}"
    if data[:4] == PANIC_SELECTOR and len(data) == 36:
        return f"execution reverted: panic: 0x{int.from_bytes(data[4:], 'big'):x}"
    return "execution reverted"


def _gas_price(params: CallParams) -> int:
    if params.gas_price is not None:
        return params.gas_price
    if params.max_fee_per_gas is not None:
        # base fee is 0 in the call context: the effective price is the tip, capped
        tip = params.max_priority_fee_per_gas or 0
        return min(params.max_fee_per_gas, tip)
    return 0


def run_call(
    chain: ChainAPI,
    header: BlockHeaderAPI,
    params: CallParams,
    *,
    gas: int | None = None,
    environment: BlockEnvironment | None = None,
) -> ComputationAPI:
    """Execute ``params`` on the state after ``header``; the computation, errors included.

    ``environment`` is what the call's model calls see (PIPE's ``SIMULATE`` environment
    for ``eth_call``); without one a call of a Neuro precompile fails.
    """
    vm = cast(NeuroVM, chain.get_vm(header.copy(base_fee_per_gas=0)))
    vm.environment = environment
    vm.outputs = InferenceOutputs() if environment is not None else None
    state = vm.state
    sender = Address(params.sender or ZERO_ADDRESS)
    nonce = params.nonce if params.nonce is not None else state.get_nonce(sender)
    fields: dict[str, Any] = {
        "nonce": nonce,
        "gas_price": _gas_price(params),
        "gas": gas if gas is not None else (params.gas or header.gas_limit),
        "to": Address(params.to or CREATE_CONTRACT_ADDRESS),
        "value": params.value,
        "data": params.data,
    }
    unsigned: Any
    if params.access_list:  # EIP-2930: warm accounts and slots, paid for up front
        builder: Any = vm.get_transaction_builder()
        unsigned = builder.new_unsigned_access_list_transaction(
            chain_id=chain.chain_id, access_list=params.access_list, **fields
        )
    else:
        unsigned = vm.create_unsigned_transaction(**fields)
    # duck-typed as a signed transaction whose sender is given, as py-evm's own eth_call does
    tx = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=sender))
    try:
        return state.apply_transaction(tx)
    except ValidationError as exc:
        raise InvalidCall(_validation_message(str(exc))) from None
    except UnpaidInferenceOutput as exc:  # a call's gas for its model output: "out of gas"
        raise InvalidCall(str(exc)) from None


def _validation_message(text: str) -> str:
    if "Sender does not have enough balance" in text or "insufficient" in text.lower():
        return f"insufficient funds for gas * price + value ({text})"
    if "Insufficient gas" in text or "intrinsic" in text.lower():
        return f"intrinsic gas too low ({text})"
    return text


def raise_for_error(computation: ComputationAPI) -> None:
    """Turn a failed computation into ``ExecutionReverted`` or ``InvalidCall``."""
    if not computation.is_error:
        return
    error = computation.error
    if isinstance(error, Revert):
        data = computation.output
        raise ExecutionReverted(data, revert_message(data))
    if isinstance(error, OutOfGas):
        raise InvalidCall("out of gas")
    raise InvalidCall(str(error) or type(error).__name__)


def call(
    chain: ChainAPI,
    header: BlockHeaderAPI,
    params: CallParams,
    environment: BlockEnvironment | None = None,
) -> bytes:
    """``eth_call``: the return data, or ``ExecutionReverted`` / ``InvalidCall``."""
    computation = run_call(chain, header, params, environment=environment)
    raise_for_error(computation)
    return computation.output


def estimate_gas(
    chain: ChainAPI,
    header: BlockHeaderAPI,
    params: CallParams,
    environment: BlockEnvironment | None = None,
    balance_of: Callable[[bytes], int] | None = None,
) -> int:
    """``eth_estimateGas``: the smallest gas limit that succeeds, found by binary search.

    Like geth: the upper bound is the given gas or the block gas limit (lowered to what the
    sender can pay when a gas price is given); if the call fails even there, a revert
    raises ``ExecutionReverted`` and anything else ``InvalidCall``.
    """
    hi = params.gas or header.gas_limit
    price = _gas_price(params)
    if price > 0 and balance_of is not None:
        affordable = (balance_of(params.sender or ZERO_ADDRESS) - params.value) // price
        hi = max(min(hi, affordable), 0)

    def attempt(gas: int) -> ComputationAPI | None:
        try:
            computation = run_call(chain, header, params, gas=gas, environment=environment)
        except InvalidCall:
            return None
        return computation

    # geth's shortcut: a plain transfer to an account without code costs exactly 21000
    if (
        params.to
        and not params.data
        and not chain.get_vm(header).state.get_code(Address(params.to))
    ):
        plain = attempt(PLAIN_TRANSFER_GAS)
        if plain is not None and not plain.is_error:
            return PLAIN_TRANSFER_GAS

    top = attempt(hi)
    if top is None:
        # run again to raise the real reason (intrinsic gas, balance)
        run_call(chain, header, params, gas=hi, environment=environment)
        raise InvalidCall(f"gas required exceeds allowance ({hi})")
    if top.is_error:
        if isinstance(top.error, Revert):
            raise_for_error(top)
        raise InvalidCall(f"gas required exceeds allowance ({hi})")

    used = hi - top.get_gas_remaining()
    lo = max(used - 1, 0)
    # Most calls succeed with what they used plus the 63/64 reserve: try that first.
    optimistic = (used + top.get_gas_refund() + 2300) * 64 // 63
    if optimistic < hi:
        result = attempt(optimistic)
        if result is not None and not result.is_error:
            hi = optimistic
        else:
            lo = optimistic
    while lo + 1 < hi:
        if (hi - lo) / hi < ESTIMATE_ERROR_RATIO:
            break
        mid = (lo + hi) // 2
        result = attempt(mid)
        if result is not None and not result.is_error:
            hi = mid
        else:
            lo = mid
    return hi
