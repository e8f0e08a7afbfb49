"""Tracing for read-only executions: opcode hooks, the access-list tracer, transfer logs.

py-evm has no tracer API. A traced execution gives the state (one throw-away instance) a
subclass of its computation class whose opcode table wraps the opcodes a tracer watches
and whose constructor reports each message frame as it starts; child frames are built from
the same class, so every depth is seen. Nothing here changes what the EVM computes: the
hooks only read the stack and the message, except the transfer tracer, which adds ERC-7528
``Transfer`` logs to the frame (the simulator leaves them out of receipts).

Used by ``eth_createAccessList`` (geth's ``AccessListTracer``) and ``eth_simulateV1``
(``traceTransfers`` and moved precompiles).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from eth.abc import ComputationAPI, StateAPI
from eth.vm import opcode_values as op
from eth_typing import Address

AccessList = tuple[tuple[bytes, tuple[int, ...]], ...]
"""EIP-2930: ``((address, (slot, ...)), ...)``."""

OpcodeHook = Callable[[ComputationAPI, int], None]
FrameHook = Callable[[ComputationAPI], None]

TRANSFER_LOG_ADDRESS = Address(bytes.fromhex("ee" * 20))
"""ERC-7528's pseudo-address for the native token, the emitter of traced transfers."""

TRANSFER_TOPIC = int("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", 16)
"""keccak256("Transfer(address,address,uint256)")."""

_SLOT_OPCODES = (op.SLOAD, op.SSTORE)
_ADDRESS_OPCODES = (op.EXTCODECOPY, op.EXTCODEHASH, op.EXTCODESIZE, op.BALANCE, op.SELFDESTRUCT)
_CALL_OPCODES = (op.CALL, op.CALLCODE, op.DELEGATECALL, op.STATICCALL)


def stack_item(computation: ComputationAPI, depth: int) -> int | None:
    """The stack item ``depth`` places from the top (1 = top), or None if the stack is
    shorter; py-evm keeps ints and bytes on its stack."""
    values = cast(Any, computation)._stack.values
    if len(values) < depth:
        return None
    item = values[-depth]
    return item if isinstance(item, int) else int.from_bytes(item, "big")


def as_address(word: int) -> Address:
    return Address((word & ((1 << 160) - 1)).to_bytes(20, "big"))


def traced_computation_class(
    base: type[ComputationAPI],
    *,
    before_opcode: Mapping[int, OpcodeHook] | None = None,
    on_frame: FrameHook | None = None,
    precompiles: Mapping[Address, Any] | None = None,
) -> type[ComputationAPI]:
    """A subclass of ``base`` calling ``before_opcode[opcode](computation, opcode)`` before
    each watched opcode runs, ``on_frame(computation)`` when each message frame starts,
    and using ``precompiles`` (if given) as its precompile map."""
    attrs: dict[str, Any] = {}
    if before_opcode:
        opcodes = dict(cast(Any, base).opcodes)
        for code, hook in before_opcode.items():
            opcodes[code] = _wrap(opcodes[code], code, hook)
        attrs["opcodes"] = opcodes
    if precompiles is not None:
        attrs["_precompiles"] = precompiles
    if on_frame is not None:
        frame_hook = on_frame

        def __init__(self: ComputationAPI, *args: Any, **kwargs: Any) -> None:
            base.__init__(self, *args, **kwargs)  # type: ignore[misc]
            frame_hook(self)

        attrs["__init__"] = __init__
    return type(f"Traced{base.__name__}", (base,), attrs)


def _wrap(inner: Any, code: int, hook: OpcodeHook) -> Any:
    def traced(computation: ComputationAPI) -> Any:
        hook(computation, code)
        return inner(computation=computation)

    traced.__wrapped__ = inner  # type: ignore[attr-defined]  # py-evm's debug log reads the mnemonic there
    return traced


def use_computation_class(state: StateAPI, cls: type[ComputationAPI]) -> None:
    """Make this (throw-away) state instance execute with ``cls``."""
    cast(Any, state).computation_class = cls


class AccessListTracer:
    """geth's access-list tracer: the accounts and storage slots a transaction touches.

    Slots come from SLOAD/SSTORE (of the executing account), accounts from the
    EXTCODE*/BALANCE/SELFDESTRUCT operand and the CALL-family target; ``excluded``
    (sender, recipient, precompiles) are left out unless a slot of theirs was touched.
    The result is sorted by address, then slot, as geth sorts it.
    """

    def __init__(self, initial: AccessList, excluded: set[bytes]) -> None:
        self.excluded = excluded
        self.touched: dict[bytes, set[int]] = {}
        for address, slots in initial:
            if address in excluded:
                continue
            self.touched.setdefault(address, set()).update(slots)

    def hooks(self) -> dict[int, OpcodeHook]:
        hooks: dict[int, OpcodeHook] = {}
        for code in _SLOT_OPCODES:
            hooks[code] = self._on_slot
        for code in _ADDRESS_OPCODES:
            hooks[code] = self._on_address
        for code in _CALL_OPCODES:
            hooks[code] = self._on_call
        return hooks

    def _on_slot(self, computation: ComputationAPI, code: int) -> None:
        slot = stack_item(computation, 1)
        if slot is not None:
            self.touched.setdefault(computation.msg.storage_address, set()).add(slot)

    def _on_address(self, computation: ComputationAPI, code: int) -> None:
        word = stack_item(computation, 1)
        if word is not None:
            self._add(as_address(word))

    def _on_call(self, computation: ComputationAPI, code: int) -> None:
        word = stack_item(computation, 2)
        if word is not None and stack_item(computation, 5) is not None:
            self._add(as_address(word))

    def _add(self, address: bytes) -> None:
        if address not in self.excluded:
            self.touched.setdefault(address, set())

    def access_list(self) -> AccessList:
        return tuple(
            (address, tuple(sorted(self.touched[address]))) for address in sorted(self.touched)
        )


class TransferTracer:
    """``eth_simulateV1``'s ``traceTransfers``: each native-token transfer (a transaction's
    or a call's value, a SELFDESTRUCT's balance) becomes an ERC-20 ``Transfer`` log from
    :data:`TRANSFER_LOG_ADDRESS`, in execution order among the real logs. The log lives in
    the frame that moved the value, so it is dropped with a frame that fails, as geth does.
    ``injected`` holds the log counters of the added logs, to leave them out of receipts.
    """

    def __init__(self) -> None:
        self.injected: set[int] = set()

    def on_frame(self, computation: ComputationAPI) -> None:
        msg = computation.msg
        if not (msg.should_transfer_value and msg.value):  # DELEGATECALL moves nothing
            return
        # geth skips CALLCODE, whose value stays in the calling account (a frame running
        # another account's code on its own storage, entered by itself)
        if msg.sender == msg.storage_address and msg.code_address != msg.storage_address:
            return
        self._log(computation, msg.sender, msg.storage_address, msg.value)

    def before_selfdestruct(self, computation: ComputationAPI, code: int) -> None:
        word = stack_item(computation, 1)
        balance = computation.state.get_balance(computation.msg.storage_address)
        if word is not None and balance:
            self._log(computation, computation.msg.storage_address, as_address(word), balance)

    def _log(self, computation: ComputationAPI, sender: Address, to: Address, value: int) -> None:
        topics = (TRANSFER_TOPIC, int.from_bytes(sender, "big"), int.from_bytes(to, "big"))
        computation.add_log_entry(TRANSFER_LOG_ADDRESS, topics, value.to_bytes(32, "big"))
        counter = cast(Any, computation)._log_entries[-1][0]
        self.injected.add(counter)
