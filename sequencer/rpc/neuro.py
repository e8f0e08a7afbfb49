"""``neuro_*`` methods: what this rollup adds to the Ethereum RPC.

- ``neuro_chainInfo`` — chain identity and native token.
- ``neuro_getInferenceWitness(block)`` — a block's inference receipts (its witness) in
  order of first use, with the ``inferenceRoot`` its header's ``extraData`` commits to.
- ``neuro_getInferenceProof(txHash | requestId)`` — one receipt with its Merkle branch,
  checkable against the header alone (``verify_merkle_branch``).
- ``neuro_getInferenceStatus(txHash)`` — PIPE's view of a transaction: parked,
  dispatched, ready, included or dropped (with a reason); an OPTIMISTIC request also
  shows its challenge state (pending, final, challenged) from the head's registry.
- ``neuro_syncStatus`` — where the node's chain comes from: a sequencer's own head, or a
  follower's verified head, its source's head and the failure that stopped it
  (docs/follower.md).

Witnesses are read from the chain database (``sequencer.records``), so they survive
restarts; statuses of pending transactions come from the node's PIPE
(``node.inference_statuses``).
Counts (``index``, ``leafCount``) are JSON numbers; block numbers are hex quantities.
"""

from __future__ import annotations

from typing import Any

from neurostack.protocol.registry import optimistic_result_of, staking_params

from ..chain.inference import inference_proof, live_registry, proof_to_json, witness_to_json
from ..chain.inference.optimistic import result_state
from ..pipe.status import StatusRecord, TxStatus
from ..records import InferenceRecords, receipt_index
from .context import RpcContext, block_number_of
from .dispatch import MethodTable
from .formatters import hexb
from .params import BlockRef, block_number, hash32

METHODS = MethodTable()


@METHODS.method("neuro_chainInfo")
def chain_info(ctx: RpcContext) -> dict[str, Any]:
    """Chain identity and native token, as JSON numbers (not hex) since no EVM type is involved."""
    config = ctx.config
    return {
        "chainId": ctx.node.chain_id,
        "name": config.chain.name,
        "token": {
            "name": config.token.name,
            "symbol": config.token.symbol,
            "decimals": config.token.decimals,
        },
        "blockTime": config.chain.block_time,
    }


def records(ctx: RpcContext) -> InferenceRecords:
    return InferenceRecords(ctx.node.store)


def transaction_inferences(ctx: RpcContext, block: Any, tx_hash: bytes) -> list[dict[str, Any]]:
    """The additive ``inferences`` field of a transaction receipt (``[]`` without model calls)."""
    return records(ctx).load(block.hash).calls_of(tx_hash)


@METHODS.method("neuro_getInferenceWitness", block_number)
def get_inference_witness(ctx: RpcContext, ref: BlockRef) -> dict[str, Any] | None:
    number = block_number_of(ctx, ref)
    block = ctx.node.block_by_number(number)
    if block is None:
        return None
    out = witness_to_json(records(ctx).load(block.hash).receipts)
    out["blockNumber"] = hex(number)
    out["blockHash"] = hexb(block.hash)
    return out


@METHODS.method("neuro_getInferenceProof", hash32)
def get_inference_proof(ctx: RpcContext, key: bytes) -> dict[str, Any] | None:
    """``key`` is a transaction hash (its first model call) or a request id; null if neither
    names a receipt in a canonical block."""
    store = records(ctx)
    block, request_id = None, key
    found = ctx.node.transaction(key)
    if found is not None and found.block_number is not None:
        block = ctx.node.block_by_number(found.block_number)
        calls = store.load(block.hash).calls_of(key) if block is not None else []
        if not calls:
            return None
        request_id = bytes.fromhex(calls[0]["requestId"][2:])
    else:
        block_hash = store.block_of_request(key)
        block = ctx.node.block_by_hash(block_hash) if block_hash is not None else None
        canonical = (
            ctx.node.block_by_number(block.header.block_number) if block is not None else None
        )
        if block is None or canonical is None or canonical.hash != block.hash:
            return None
    if block is None:
        return None
    witness = store.load(block.hash).receipts
    if receipt_index(witness, request_id) is None:
        return None
    out = proof_to_json(inference_proof(witness, request_id))
    out["blockNumber"] = hex(block.header.block_number)
    out["blockHash"] = hexb(block.hash)
    return out


@METHODS.method("neuro_getInferenceStatus", hash32)
def get_inference_status(ctx: RpcContext, tx_hash: bytes) -> dict[str, Any] | None:
    """PIPE's record of the transaction; for one it never tracked (a plain transfer, or after
    a restart) the chain's answer: included, or ready while pending. Null if unknown.
    OPTIMISTIC requests carry their challenge state (:func:`with_optimistic_state`)."""
    out = _inference_status(ctx, tx_hash)
    return with_optimistic_state(ctx, out) if out is not None else None


def _inference_status(ctx: RpcContext, tx_hash: bytes) -> dict[str, Any] | None:
    record = ctx.node.inference_statuses.get(tx_hash)
    if record is not None:
        return record.to_json()
    found = ctx.node.transaction(tx_hash)
    if found is None:
        return None
    if found.block_number is None:
        return StatusRecord(TxStatus.READY).to_json()
    out = StatusRecord(TxStatus.INCLUDED, block_number=found.block_number).to_json()
    block = ctx.node.block_by_number(found.block_number)
    if block is not None:
        out["requests"] = [
            {"requestId": c["requestId"], "modelCID": c["modelCID"], "mode": c["mode"],
             "state": "resolved"}
            for c in transaction_inferences(ctx, block, tx_hash)
        ]  # fmt: skip
    return out


def with_optimistic_state(ctx: RpcContext, out: dict[str, Any]) -> dict[str, Any]:
    """Add ``optimistic`` to each OPTIMISTIC request the registry (head state) records:
    ``{"state": "pending" | "final" | "challenged", "sprinter", "outputHash", "blockNumber",
    "challengeDeadline"}`` — the state a transaction in the next block would see (the
    registry's ``optimisticResultOf``)."""
    requests = [r for r in out.get("requests", []) if r.get("mode") == "OPTIMISTIC"]
    if not requests:
        return out
    head = ctx.node.head().header.block_number
    registry = live_registry(ctx.node.state_at(head))
    window = staking_params(registry).challenge_window
    for request in requests:
        result = optimistic_result_of(registry, bytes.fromhex(request["requestId"][2:]))
        if result is None:
            continue
        state = result_state(result, head + 1, window)
        request["optimistic"] = {
            "state": ("none", "pending", "final", "challenged")[state],
            "sprinter": hexb(result.sprinter),
            "outputHash": hexb(result.output_hash),
            "blockNumber": hex(result.block_number),
            "challengeDeadline": hex(result.block_number + window),
        }
    return out


@METHODS.method("neuro_syncStatus")
def sync_status(ctx: RpcContext) -> dict[str, Any]:
    return ctx.node.sync.sync_status()
