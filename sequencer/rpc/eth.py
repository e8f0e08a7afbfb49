"""``eth_*`` methods: blocks, transactions, receipts, state, execution, fees, sending.

Logs and filters are in :mod:`sequencer.rpc.filters` and registered here; WebSocket
subscriptions in :mod:`sequencer.rpc.ws`. Every handler is synchronous and runs in a
worker thread; the node serialises access with its own lock.
"""

from __future__ import annotations

from typing import Any

from ..chain.fees import next_base_fee
from ..errors import BlockNotFound
from ..types import CallParams
from .context import RpcContext, block_number_of, state_for
from .dispatch import MethodTable
from .errors import InvalidParams, SimulationError
from .filters import LogCriteria, get_logs, log_criteria
from .formatters import format_block, format_receipt, format_transaction, hexb
from .neuro import records, transaction_inferences
from .params import (
    ArgumentError,
    BlockRef,
    access_list,
    address,
    block_number,
    block_ref,
    boolean,
    data,
    field,
    filter_id,
    hash32,
    int_or_quantity,
    obj,
    percentiles,
    quantity,
    string,
    uint64,
)

METHODS = MethodTable()
MAX_FEE_HISTORY_BLOCKS = 1024  # geth's cap


def call_params(value: Any) -> CallParams:
    """Parser for the transaction object of eth_call / eth_estimateGas (geth's TransactionArgs)."""
    spec = obj(value, "ethapi.TransactionArgs")
    go = "ethapi.TransactionArgs"
    payload = field(spec, "input", data, go)
    legacy_payload = field(spec, "data", data, go)
    if payload is not None and legacy_payload is not None and payload != legacy_payload:
        raise ArgumentError(
            'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data'
        )
    gas_price = field(spec, "gasPrice", quantity, go)
    max_fee = field(spec, "maxFeePerGas", quantity, go)
    max_tip = field(spec, "maxPriorityFeePerGas", quantity, go)
    if gas_price is not None and (max_fee is not None or max_tip is not None):
        raise ArgumentError("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
    return CallParams(
        sender=field(spec, "from", address, go),
        to=field(spec, "to", address, go),
        gas=field(spec, "gas", uint64, go),
        gas_price=gas_price,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=max_tip,
        value=field(spec, "value", quantity, go) or 0,
        data=payload if payload is not None else (legacy_payload or b""),
        nonce=field(spec, "nonce", uint64, go),
        access_list=field(spec, "accessList", access_list, go) or (),
    )


def storage_slot(value: Any) -> int:
    """A storage key: geth accepts any hex string of up to 32 bytes, leading zeros allowed."""
    body = string(value)
    if not body.startswith(("0x", "0X")):
        raise ArgumentError("hex string without 0x prefix")
    if len(body) - 2 > 64:
        raise ArgumentError("hex string too long, want at most 32 bytes")
    try:
        return int(body[2:] or "0", 16)
    except ValueError:
        raise ArgumentError("invalid hex string") from None


# --- chain and blocks ---------------------------------------------------------------


@METHODS.method("eth_chainId")
def chain_id(ctx: RpcContext) -> str:
    return hex(ctx.node.chain_id)


@METHODS.method("eth_blockNumber")
def block_number_method(ctx: RpcContext) -> str:
    return hex(ctx.node.resolve_tag("latest"))  # the head's number without loading its body


@METHODS.method("eth_syncing")
def syncing(ctx: RpcContext) -> bool | dict[str, str]:
    """``false``, or geth's progress object while a follower is behind its source."""
    progress = ctx.node.sync.progress()
    if progress is None:
        return False
    start, current, highest = progress
    return {"startingBlock": hex(start), "currentBlock": hex(current), "highestBlock": hex(highest)}


@METHODS.method("eth_accounts")
def accounts(ctx: RpcContext) -> list[str]:
    return []  # the node holds no user keys; sign in the client


def find_block(ctx: RpcContext, ref: BlockRef) -> Any:
    """The block a reference names, or None (a number past the head, an unknown hash)."""
    if ref.hash is not None:
        return ctx.node.block_by_hash(ref.hash)
    try:
        number = ref.number if ref.number is not None else ctx.node.resolve_tag(ref.tag or "latest")
    except BlockNotFound:
        return None
    return ctx.node.block_by_number(number)


@METHODS.method("eth_getBlockByNumber", block_number, boolean, required=1)
def get_block_by_number(ctx: RpcContext, ref: BlockRef, full: bool | None) -> Any:
    block = find_block(ctx, ref)
    return None if block is None else format_block(block, bool(full))


@METHODS.method("eth_getBlockByHash", hash32, boolean, required=1)
def get_block_by_hash(ctx: RpcContext, block_hash: bytes, full: bool | None) -> Any:
    block = ctx.node.block_by_hash(block_hash)
    return None if block is None else format_block(block, bool(full))


@METHODS.method("eth_getBlockTransactionCountByNumber", block_number)
def tx_count_by_number(ctx: RpcContext, ref: BlockRef) -> str | None:
    if ref.tag == "pending":
        return hex(len(ctx.node.pending_transactions()))
    block = find_block(ctx, ref)
    return None if block is None else hex(len(block.transactions))


@METHODS.method("eth_getBlockTransactionCountByHash", hash32)
def tx_count_by_hash(ctx: RpcContext, block_hash: bytes) -> str | None:
    block = ctx.node.block_by_hash(block_hash)
    return None if block is None else hex(len(block.transactions))


@METHODS.method("eth_getUncleCountByBlockNumber", block_number)
def uncle_count_by_number(ctx: RpcContext, ref: BlockRef) -> str | None:
    return None if find_block(ctx, ref) is None else "0x0"


@METHODS.method("eth_getUncleCountByBlockHash", hash32)
def uncle_count_by_hash(ctx: RpcContext, block_hash: bytes) -> str | None:
    return None if ctx.node.block_by_hash(block_hash) is None else "0x0"


# --- transactions and receipts ---------------------------------------------------------


@METHODS.method("eth_getTransactionByHash", hash32)
def get_transaction_by_hash(ctx: RpcContext, tx_hash: bytes) -> Any:
    found = ctx.node.transaction(tx_hash)
    if found is None:
        return None
    if found.block_number is None:
        return format_transaction(found.tx)
    block = ctx.node.block_by_number(found.block_number)
    return format_transaction(found.tx, block.header if block else None, found.index)


def _tx_in_block(block: Any, index: int) -> Any:
    if block is None or index >= len(block.transactions):
        return None
    return format_transaction(block.transactions[index], block.header, index)


@METHODS.method("eth_getTransactionByBlockNumberAndIndex", block_number, quantity)
def tx_by_number_and_index(ctx: RpcContext, ref: BlockRef, index: int) -> Any:
    return _tx_in_block(find_block(ctx, ref), index)


@METHODS.method("eth_getTransactionByBlockHashAndIndex", hash32, quantity)
def tx_by_hash_and_index(ctx: RpcContext, block_hash: bytes, index: int) -> Any:
    return _tx_in_block(ctx.node.block_by_hash(block_hash), index)


@METHODS.method("eth_getTransactionReceipt", hash32)
def get_transaction_receipt(ctx: RpcContext, tx_hash: bytes) -> Any:
    found = ctx.node.transaction(tx_hash)
    if found is None or found.block_number is None or found.index is None:
        return None
    block = ctx.node.block_by_number(found.block_number)
    if block is None:
        return None
    out = format_receipt(block, ctx.node.receipts(block), found.index)
    inferences = transaction_inferences(ctx, block, tx_hash)
    if inferences:  # additive (DESIGN.md 6): receipts of other transactions keep geth's shape
        out["inferences"] = inferences
    return out


@METHODS.method("eth_getBlockReceipts", block_ref)
def get_block_receipts(ctx: RpcContext, ref: BlockRef) -> Any:
    block = find_block(ctx, ref)
    if block is None:
        return None
    receipts = ctx.node.receipts(block)
    recorded = records(ctx).load(block.hash)
    out: list[dict[str, Any]] = []
    log_index = 0  # counted along: summing the logs before each receipt is quadratic
    for i, tx in enumerate(block.transactions):
        formatted = format_receipt(block, receipts, i, first_log_index=log_index)
        log_index += len(receipts[i].logs)
        inferences = recorded.calls_of(tx.hash)
        if inferences:
            formatted["inferences"] = inferences
        out.append(formatted)
    return out


def send_raw_transactions(ctx: RpcContext, calls: list[list[Any]]) -> list[Any]:
    """A run of ``eth_sendRawTransaction`` calls in one JSON-RPC batch: admitted in order
    with one journal fsync for the run (``Node.send_raw_transactions``)."""
    results = ctx.node.send_raw_transactions([raw for (raw,) in calls])
    return [result if isinstance(result, Exception) else hexb(result) for result in results]


@METHODS.method("eth_sendRawTransaction", data, batch=send_raw_transactions)
def send_raw_transaction(ctx: RpcContext, raw: bytes) -> str:
    return hexb(ctx.node.send_raw_transaction(raw))


# --- state -------------------------------------------------------------------------------


@METHODS.method("eth_getTransactionCount", address, block_ref, required=1)
def get_transaction_count(ctx: RpcContext, account: bytes, ref: BlockRef | None) -> str:
    if ref is not None and ref.tag == "pending":
        return hex(ctx.node.pending_nonce(account))
    return hex(state_for(ctx, ref).get_nonce(account))


@METHODS.method("eth_getBalance", address, block_ref, required=1)
def get_balance(ctx: RpcContext, account: bytes, ref: BlockRef | None) -> str:
    return hex(state_for(ctx, ref).get_balance(account))


@METHODS.method("eth_getCode", address, block_ref, required=1)
def get_code(ctx: RpcContext, account: bytes, ref: BlockRef | None) -> str:
    return hexb(state_for(ctx, ref).get_code(account))


@METHODS.method("eth_getStorageAt", address, storage_slot, block_ref, required=2)
def get_storage_at(ctx: RpcContext, account: bytes, slot: int, ref: BlockRef | None) -> str:
    value = state_for(ctx, ref).get_storage(account, slot)
    return "0x" + value.to_bytes(32, "big").hex()


MAX_STORAGE_SLOTS = 1024  # geth's maxGetStorageSlots


def storage_requests(value: Any) -> dict[bytes, list[int]]:
    """eth_getStorageValues' ``{address: [slot, ...]}``."""
    spec = obj(value, "map[common.Address][]common.Hash")
    out: dict[bytes, list[int]] = {}
    for key, slots in spec.items():
        if not isinstance(slots, list):
            raise ArgumentError(
                f"json: cannot unmarshal non-array into Go value of type []common.Hash (address {key})"
            )
        out[address(key)] = [storage_slot(slot) for slot in slots]
    return out


@METHODS.method("eth_getStorageValues", storage_requests, block_ref, required=1)
def get_storage_values(
    ctx: RpcContext, requests: dict[bytes, list[int]], ref: BlockRef | None
) -> dict[str, list[str]]:
    total = sum(len(slots) for slots in requests.values())
    if total > MAX_STORAGE_SLOTS:
        raise SimulationError(
            SimulationError.CLIENT_LIMIT, f"too many slots (max {MAX_STORAGE_SLOTS})"
        )
    if total == 0:
        raise InvalidParams("empty request")
    state = state_for(ctx, ref)
    return {
        hexb(account): [f"0x{state.get_storage(account, slot):064x}" for slot in slots]
        for account, slots in requests.items()
    }


# --- execution ---------------------------------------------------------------------------


def execution_block(ctx: RpcContext, ref: BlockRef | None) -> int | None:
    """``None`` asks the node for its pending state; geth's eth_call default is ``latest``."""
    if ref is not None and ref.tag == "pending":
        return None
    return block_number_of(ctx, ref)


def no_overrides(value: Any) -> None:
    """geth's optional third argument (state overrides): refused with a clear message."""
    if value:
        raise ArgumentError("state overrides are not supported by this node; leave argument 2 out")


@METHODS.method("eth_call", call_params, block_ref, no_overrides, required=1)
def call(ctx: RpcContext, params: CallParams, ref: BlockRef | None, _: None) -> str:
    return hexb(ctx.node.call(params, execution_block(ctx, ref)))


@METHODS.method("eth_estimateGas", call_params, block_ref, no_overrides, required=1)
def estimate_gas(ctx: RpcContext, params: CallParams, ref: BlockRef | None, _: None) -> str:
    # geth estimates against the pending state unless a block is named.
    block = None if ref is None else execution_block(ctx, ref)
    return hex(ctx.node.estimate_gas(params, block))


# --- fees --------------------------------------------------------------------------------


@METHODS.method("eth_gasPrice")
def gas_price(ctx: RpcContext) -> str:
    return hex(ctx.node.gas_price())


@METHODS.method("eth_maxPriorityFeePerGas")
def max_priority_fee(ctx: RpcContext) -> str:
    return hex(ctx.node.max_priority_fee())


@METHODS.method("eth_baseFee")
def base_fee(ctx: RpcContext) -> str:
    """The next block's base fee (geth; execution-apis after 1.0.0-beta.7)."""
    return hex(next_base_fee(ctx.node.head().header))


@METHODS.method("eth_blobBaseFee")
def blob_base_fee(ctx: RpcContext) -> str:
    return "0x1"  # no blob transactions on this chain; the EIP-4844 minimum


@METHODS.method("eth_feeHistory", int_or_quantity, block_number, percentiles, required=2)
def fee_history(
    ctx: RpcContext, count: int, newest: BlockRef, wanted: list[float] | None
) -> dict[str, Any]:
    count = min(count, MAX_FEE_HISTORY_BLOCKS)
    newest_number = block_number_of(ctx, newest)
    history = ctx.node.fee_history(count, newest_number, wanted or [])
    out: dict[str, Any] = {
        "oldestBlock": hex(history.oldest_block),
        "baseFeePerGas": [hex(v) for v in history.base_fee_per_gas],
        "gasUsedRatio": history.gas_used_ratio,
        "baseFeePerBlobGas": [hex(v) for v in history.base_fee_per_blob_gas],
        "blobGasUsedRatio": history.blob_gas_used_ratio,
    }
    if history.reward is not None and wanted:
        out["reward"] = [[hex(v) for v in row] for row in history.reward]
    return out


# --- logs and filters --------------------------------------------------------------------


@METHODS.method("eth_getLogs", log_criteria)
def get_logs_method(ctx: RpcContext, criteria: LogCriteria) -> list[dict[str, Any]]:
    return get_logs(ctx.node, criteria, ctx.config.rpc.max_logs_range)


@METHODS.method("eth_newFilter", log_criteria)
def new_filter(ctx: RpcContext, criteria: LogCriteria) -> str:
    if criteria.block_hash is not None:
        raise InvalidParams("invalid argument 0: blockHash is not allowed in eth_newFilter")
    return ctx.filters.new_log_filter(criteria)


@METHODS.method("eth_newBlockFilter")
def new_block_filter(ctx: RpcContext) -> str:
    return ctx.filters.new_block_filter()


@METHODS.method("eth_newPendingTransactionFilter", boolean, required=0)
def new_pending_filter(ctx: RpcContext, full: bool | None) -> str:
    return ctx.filters.new_pending_filter()


@METHODS.method("eth_getFilterChanges", filter_id)
def get_filter_changes(ctx: RpcContext, filter_id: str) -> list[Any]:
    return ctx.filters.changes(filter_id)


@METHODS.method("eth_getFilterLogs", filter_id)
def get_filter_logs(ctx: RpcContext, filter_id: str) -> list[dict[str, Any]]:
    return ctx.filters.logs(filter_id)


@METHODS.method("eth_uninstallFilter", filter_id)
def uninstall_filter(ctx: RpcContext, filter_id: str) -> bool:
    return ctx.filters.uninstall(filter_id)
