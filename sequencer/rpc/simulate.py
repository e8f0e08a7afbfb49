"""``eth_simulateV1``: parameters in, simulated blocks out (:mod:`sequencer.chain.simulation`).

Parsing follows geth's field names and messages; each simulated block is formatted like
``eth_getBlockByNumber`` (hashes, or full transactions with ``returnFullTransactions``)
plus ``calls``: per call ``status``, ``returnData``, ``gasUsed``, ``maxUsedGas``, ``logs``
and, for a failed call, ``error`` (code 3 with the revert data, or -32015 for any other
failure, whose message starts "vm execution error" as the spec's schema requires; geth
sends the bare reason). Overrides this chain cannot honour (``blobBaseFee``: no blobs;
``withdrawals``: no beacon chain; ``beaconRoot``) are refused with -32602, not ignored.
"""

from __future__ import annotations

from typing import Any, cast

from eth_typing import Address

from ..chain.overrides import AccountOverride, BlockOverrides, OverrideRejected
from ..chain.simulation import SimulatedBlock, SimulatedBlockInput, SimulationRejected, simulate
from .context import RpcContext
from .dispatch import MethodTable, revert_reason
from .errors import InvalidParams, ServerError, SimulationError
from .eth import call_params, execution_block
from .formatters import format_block, format_log, hexb
from .params import (
    ArgumentError,
    BlockRef,
    address,
    block_ref,
    boolean,
    data,
    field,
    hash32,
    obj,
    quantity,
    uint64,
)

METHODS = MethodTable()

_CODES = {
    "nonce_too_low": SimulationError.NONCE_TOO_LOW,
    "nonce_too_high": SimulationError.NONCE_TOO_HIGH,
    "base_fee_too_low": SimulationError.BASE_FEE_TOO_LOW,
    "intrinsic_gas": SimulationError.INTRINSIC_GAS,
    "insufficient_funds": SimulationError.INSUFFICIENT_FUNDS,
    "block_gas_limit": SimulationError.BLOCK_GAS_LIMIT,
    "block_number": SimulationError.BLOCK_NUMBER,
    "block_timestamp": SimulationError.BLOCK_TIMESTAMP,
    "client_limit": SimulationError.CLIENT_LIMIT,
}
_REFUSED_OVERRIDES = {
    "blobBaseFee": "this chain has no blob transactions",
    "withdrawals": "this chain has no beacon-chain withdrawals",
    "beaconRoot": "this chain has no beacon chain",
}


def _storage(value: Any) -> dict[int, int]:
    spec = obj(value, "map[common.Hash]common.Hash")
    return {
        int.from_bytes(hash32(slot), "big"): int.from_bytes(hash32(word), "big")
        for slot, word in spec.items()
    }


def account_override(value: Any) -> AccountOverride:
    go = "override.OverrideAccount"
    spec = obj(value, go)
    return AccountOverride(
        balance=field(spec, "balance", quantity, go),
        nonce=field(spec, "nonce", uint64, go),
        code=field(spec, "code", data, go),
        state=field(spec, "state", _storage, go),
        state_diff=field(spec, "stateDiff", _storage, go),
        move_precompile_to=field(spec, "movePrecompileToAddress", address, go),
    )


def state_overrides(value: Any) -> dict[Address, AccountOverride]:
    spec = obj(value, "override.StateOverride")
    return {Address(address(key)): account_override(item) for key, item in spec.items()}


def block_overrides(value: Any) -> BlockOverrides:
    go = "override.BlockOverrides"
    spec = obj(value, go)
    for name, why in _REFUSED_OVERRIDES.items():
        if spec.get(name) not in (None, []):
            raise ArgumentError(f'block override "{name}" is not supported: {why}')
    return BlockOverrides(
        number=field(spec, "number", uint64, go),
        time=field(spec, "time", uint64, go),
        gas_limit=field(spec, "gasLimit", uint64, go),
        fee_recipient=field(spec, "feeRecipient", address, go),
        prev_randao=field(spec, "prevRandao", hash32, go),
        base_fee_per_gas=field(spec, "baseFeePerGas", quantity, go),
    )


def _calls(value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ArgumentError(
            "json: cannot unmarshal non-array into Go value of type []ethapi.TransactionArgs"
        )
    parsed = []
    for index, call in enumerate(value):
        try:
            parsed.append(call_params(call))
        except ArgumentError as exc:
            raise ArgumentError(f"call {index}: {exc}") from None
    return tuple(parsed)


def block_state_call(value: Any) -> SimulatedBlockInput:
    go = "ethapi.simBlock"
    spec = obj(value, go)
    return SimulatedBlockInput(
        overrides=field(spec, "blockOverrides", block_overrides, go) or BlockOverrides(),
        state=field(spec, "stateOverrides", state_overrides, go) or {},
        calls=field(spec, "calls", _calls, go) or (),
    )


def simulate_options(value: Any) -> dict[str, Any]:
    go = "ethapi.simOpts"
    spec = obj(value, go)
    raw_blocks = spec.get("blockStateCalls")
    if raw_blocks is not None and not isinstance(raw_blocks, list):
        raise ArgumentError(
            "json: cannot unmarshal non-array into Go value of type []ethapi.simBlock"
        )
    blocks = []
    for index, item in enumerate(raw_blocks or []):
        try:
            blocks.append(block_state_call(item))
        except ArgumentError as exc:
            raise ArgumentError(f"blockStateCalls[{index}]: {exc}") from None
    return {
        "blocks": blocks,
        "validation": bool(field(spec, "validation", boolean, go)),
        "trace_transfers": bool(field(spec, "traceTransfers", boolean, go)),
        "full": bool(field(spec, "returnFullTransactions", boolean, go)),
    }


@METHODS.method("eth_simulateV1", simulate_options, block_ref, required=1)
def simulate_v1(ctx: RpcContext, options: dict[str, Any], ref: BlockRef | None) -> list[Any]:
    def run(chain: Any, header: Any, env: Any) -> list[SimulatedBlock]:
        return simulate(
            chain,
            header,
            options["blocks"],
            validation=options["validation"],
            trace_transfers=options["trace_transfers"],
            environment=env,
        )

    try:
        simulated = ctx.node.execute(run, None if ref is None else execution_block(ctx, ref))
    except SimulationRejected as exc:
        if exc.kind == "invalid_params":
            raise InvalidParams(str(exc)) from None
        code = _CODES.get(exc.kind)
        raise (SimulationError(code, str(exc)) if code else ServerError(str(exc))) from None
    except OverrideRejected as exc:
        raise ServerError(str(exc)) from None
    return [format_simulated(result, options["full"]) for result in simulated]


def format_simulated(result: SimulatedBlock, full: bool) -> dict[str, Any]:
    block = result.block
    out = format_block(block, full, result.senders)
    calls = []
    for index, (tx, call) in enumerate(zip(block.transactions, result.calls, strict=True)):
        entry: dict[str, Any] = {
            "returnData": hexb(call.return_data),
            "logs": [
                format_log(cast(Any, log), block.header, tx.hash, index, log.index)
                for log in call.logs
            ],
            "gasUsed": hex(call.gas_used),
            "maxUsedGas": hex(call.max_used_gas),
            "status": "0x0" if call.reverted or call.failure else "0x1",
        }
        if call.reverted:
            reason = revert_reason(call.return_data)
            entry["error"] = {
                "code": 3,
                "message": f"execution reverted: {reason}" if reason else "execution reverted",
                "data": hexb(call.return_data),
            }
        elif call.failure is not None:
            entry["error"] = {
                "code": SimulationError.VM_ERROR,
                "message": f"vm execution error: {call.failure}",
            }
        calls.append(entry)
    out["calls"] = calls
    return out
