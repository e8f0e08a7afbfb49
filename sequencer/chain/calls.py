"""Typed transactions built from call parameters, for executions that need more than
``eth_call``'s legacy spoof: an access list (``eth_createAccessList``) or a transaction
object to put in a block (``eth_simulateV1``).

The type follows geth's ``TransactionArgs.ToTransaction``: a ``gasPrice`` makes a legacy
transaction (an access-list one if a list is given), anything else an EIP-1559 one. py-evm
executes the unsigned form with the sender spoofed; the block records the same fields with
a zero signature, as geth's simulated blocks do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth.abc import SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address

from ..types import CallParams
from .tracing import AccessList


@dataclass(frozen=True)
class CallTransaction:
    """``executable`` runs as ``sender``; ``recorded`` is what a simulated block holds."""

    executable: SignedTransactionAPI
    recorded: SignedTransactionAPI
    sender: Address


def call_transaction(
    builder: Any,
    params: CallParams,
    *,
    sender: Address,
    chain_id: int,
    nonce: int,
    gas: int,
    access_list: AccessList,
) -> CallTransaction:
    """The transaction ``params`` describe, with the defaults already resolved by the caller.

    ``builder`` is the VM's transaction builder (``vm.get_transaction_builder()``).
    """
    to = Address(params.to or CREATE_CONTRACT_ADDRESS)
    common = {"nonce": nonce, "gas": gas, "to": to, "value": params.value, "data": params.data}
    typed = {"chain_id": chain_id, **common, "access_list": access_list}
    zero_signature = {"y_parity": 0, "r": 0, "s": 0}
    if params.gas_price is not None and not access_list:
        unsigned = builder.create_unsigned_transaction(gas_price=params.gas_price, **common)
        # a legacy transaction carries its chain id in v (EIP-155), with r = s = 0
        recorded = builder.new_transaction(
            gas_price=params.gas_price, v=35 + 2 * chain_id, r=0, s=0, **common
        )
    elif params.gas_price is not None:
        unsigned = builder.new_unsigned_access_list_transaction(gas_price=params.gas_price, **typed)
        recorded = builder.new_access_list_transaction(
            gas_price=params.gas_price, **typed, **zero_signature
        )
    else:
        tip = params.max_priority_fee_per_gas or 0
        cap = params.max_fee_per_gas
        fees = {"max_fee_per_gas": tip if cap is None else cap, "max_priority_fee_per_gas": tip}
        unsigned = builder.new_unsigned_dynamic_fee_transaction(**fees, **typed)
        recorded = builder.new_dynamic_fee_transaction(**fees, **typed, **zero_signature)
    executable = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=sender))
    # py-evm's inherited constructors make the fork that defined them (London's typed
    # transaction); the block's sedes wants this fork's class, which decoding gives
    return CallTransaction(executable, builder.decode(recorded.encode()), sender)
