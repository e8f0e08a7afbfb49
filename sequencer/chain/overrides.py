"""State and block overrides of read-only executions (geth's ``override`` package).

A state override replaces an account's balance, nonce, code or storage (all of it with
``state``, some slots with ``stateDiff``) before a simulated block runs, and may move a
precompile to another address. A block override sets header fields of a simulated block.
Both act only on a throw-away state; nothing here can reach the chain's database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth.abc import StateAPI
from eth_typing import Address

from ..errors import InvalidCall


@dataclass(frozen=True)
class AccountOverride:
    """``None`` leaves a field as it is; ``state`` replaces the whole storage."""

    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    state: Mapping[int, int] | None = None
    state_diff: Mapping[int, int] | None = None
    move_precompile_to: Address | None = None


StateOverrides = Mapping[Address, AccountOverride]


@dataclass(frozen=True)
class BlockOverrides:
    """Header fields of a simulated block; ``None`` takes the default (see ``simulation``)."""

    number: int | None = None
    time: int | None = None
    gas_limit: int | None = None
    fee_recipient: Address | None = None
    prev_randao: bytes | None = None
    base_fee_per_gas: int | None = None


class OverrideRejected(InvalidCall):
    """An override that cannot be applied; the message is geth's."""


def apply_state_overrides(
    state: StateAPI, overrides: StateOverrides, precompiles: dict[Address, Any]
) -> None:
    """Apply ``overrides`` to ``state`` in address order, moving precompiles inside the
    ``precompiles`` map (the executing computation class's), as geth's
    ``StateOverride.Apply`` does, with its messages."""
    moved_to: set[Address] = set()
    for address in sorted(overrides):
        account = overrides[address]
        if address in moved_to:
            raise OverrideRejected(
                f"account 0x{address.hex()} has already been overridden by a precompile"
            )
        precompile = precompiles.get(address)
        if account.move_precompile_to is not None:
            if precompile is None:
                raise OverrideRejected(f"account 0x{address.hex()} is not a precompile")
            if account.move_precompile_to in overrides:
                raise OverrideRejected(
                    f"account 0x{account.move_precompile_to.hex()} is already overridden"
                )
            precompiles[account.move_precompile_to] = precompile
            moved_to.add(account.move_precompile_to)
        if precompile is not None:
            del precompiles[address]
        if account.nonce is not None:
            state.set_nonce(address, account.nonce)
        if account.code is not None:
            state.set_code(address, account.code)
        if account.balance is not None:
            state.set_balance(address, account.balance)
        if account.state is not None and account.state_diff is not None:
            raise OverrideRejected(f"account 0x{address.hex()} has both 'state' and 'stateDiff'")
        if account.state is not None:
            state.delete_storage(address)
        for slot, value in (account.state or account.state_diff or {}).items():
            state.set_storage(address, slot, value)
    # the overrides act like a transaction before the block's first one
    state.lock_changes()
