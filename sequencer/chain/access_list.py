"""``eth_createAccessList``: the EIP-2930 access list a transaction would use, as geth makes it.

The transaction runs with the access-list tracer (``tracing.AccessListTracer``) on a
throw-away state after the given block, with the base fee at 0 like ``eth_call``. A run
with a list can touch more than the run that produced it (a warm account changes gas, so
control flow), so it runs again with the list it found until the list stops changing; the
answer is that list and the gas the last run used. A transaction that fails still gets its
list, with the failure's text in ``error`` (geth's ``vmErr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, ChainAPI, ComputationAPI
from eth.constants import ZERO_ADDRESS
from eth.exceptions import OutOfGas, Revert
from eth_typing import Address
from eth_utils import ValidationError

from ..errors import InvalidCall
from ..types import CallParams
from .calls import call_transaction
from .execution import revert_message
from .inference.outputs import InferenceOutputs
from .tracing import (
    AccessList,
    AccessListTracer,
    traced_computation_class,
    use_computation_class,
)

MAX_RUNS = 32
"""A list grows by what each run touches; a contract whose accesses never settle is refused
after this many runs instead of looping (geth bounds it only by its RPC timeout)."""


@dataclass(frozen=True)
class AccessListResult:
    access_list: AccessList
    gas_used: int
    error: str | None = None  # why the transaction failed, if it did


def create_access_list(
    chain: ChainAPI, header: BlockHeaderAPI, params: CallParams, environment: Any = None
) -> AccessListResult:
    """The access list and gas of ``params`` run on the state after ``header``.

    Raises ``InvalidCall`` when the transaction cannot run at all (nonce, balance, intrinsic
    gas), like geth's ``failed to apply transaction``.
    """
    call_header = header.copy(base_fee_per_gas=0)
    vm = chain.get_vm(call_header)
    sender = Address(params.sender or ZERO_ADDRESS)
    nonce = params.nonce if params.nonce is not None else vm.state.get_nonce(sender)
    recipient = Address(params.to or generate_contract_address(sender, nonce))
    precompiles = set(vm.state.computation_class.get_precompiles())
    excluded: set[bytes] = {sender, recipient, *precompiles}
    access_list = AccessListTracer(params.access_list, excluded).access_list()
    for _ in range(MAX_RUNS):
        tracer = AccessListTracer(access_list, excluded)
        vm = chain.get_vm(call_header)
        vm.environment = environment  # type: ignore[attr-defined]
        vm.outputs = InferenceOutputs() if environment is not None else None  # type: ignore[attr-defined]
        base = vm.state.computation_class
        use_computation_class(
            vm.state, traced_computation_class(base, before_opcode=tracer.hooks())
        )
        tx = call_transaction(
            vm.get_transaction_builder(),
            params,
            sender=sender,
            chain_id=chain.chain_id,
            nonce=nonce,
            gas=params.gas or header.gas_limit,
            access_list=access_list,
        )
        try:
            computation = vm.state.apply_transaction(tx.executable)
        except ValidationError as exc:
            raise InvalidCall(f"failed to apply transaction: {exc}") from None
        found = tracer.access_list()
        if found == access_list:
            gas_used = cast(Any, type(vm)).finalize_gas_used(tx.executable, computation)
            return AccessListResult(access_list, gas_used, failure(computation))
        access_list = found
    raise InvalidCall(
        f"access list did not settle after {MAX_RUNS} runs: the transaction touches "
        "different accounts each time it runs"
    )


def failure(computation: ComputationAPI) -> str | None:
    """geth's text for a failed execution (``execution reverted[: reason]``, ``out of gas``)."""
    if not computation.is_error:
        return None
    error = computation.error
    if isinstance(error, Revert):
        return revert_message(computation.output)
    if isinstance(error, OutOfGas):
        return "out of gas"
    return str(error) or type(error).__name__
