"""Block and transaction pages, and the live status of a pending transaction."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.receipts import receipt_to_json
from neurostack.protocol.tensors import decode_model_output

from .. import queries
from ..errors import NotFound
from ..fees import fee_split
from ..follower import model_calls
from ..format import tensor_tables
from ..inputs import recover_input
from ..node import quantity
from ..params import parse_block_ref, parse_hash
from ..verify import verify_tx
from .home import explorer_of

router = APIRouter()

HEADER_ORDER = (
    "number", "hash", "parentHash", "timestamp", "miner", "gasLimit", "gasUsed",
    "baseFeePerGas", "extraData", "stateRoot", "transactionsRoot", "receiptsRoot",
    "logsBloom", "sha3Uncles", "difficulty", "mixHash", "nonce", "withdrawalsRoot",
    "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash", "size",
)  # fmt: skip
NOT_HEADER = {"transactions", "uncles", "withdrawals"}
MAX_BLOCK_TXS = 500  # shown on a block page


def header_fields(block: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every header field of an ``eth_getBlockBy*`` answer, the known ones in order."""
    known = [(k, block[k]) for k in HEADER_ORDER if k in block]
    rest = [(k, v) for k, v in block.items() if k not in HEADER_ORDER and k not in NOT_HEADER]
    return known + sorted(rest)


@router.get("/block/{ref}", response_class=HTMLResponse)
def block_page(request: Request, ref: str) -> HTMLResponse:
    ex = explorer_of(request)
    parsed = parse_block_ref(ref)
    block = ex.reader.block(parsed, full=True)
    if block is None:
        raise NotFound(f"block {ref} does not exist on this chain (yet)")
    number = quantity(block["number"])
    summaries, tx_of_request = _block_summaries(ex, block, number)
    witness = ex.reader.inference_witness(number) or {"receipts": []}
    return ex.render(
        request,
        "block.html",
        block=block,
        number=number,
        fields=header_fields(block),
        txs=block["transactions"][:MAX_BLOCK_TXS],
        hidden=max(len(block["transactions"]) - MAX_BLOCK_TXS, 0),
        summaries=summaries,
        witness=witness["receipts"],
        tx_of_request=tx_of_request,
    )


def _block_summaries(
    ex: Any, block: dict[str, Any], number: int
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per transaction: model call?, failed?, created contract, gas used; and which
    transaction used each request id. From the index when it holds this very block (a
    full block's receipts are slow to serve), else from the node's receipts."""
    if ex.index.hash_at(number) == block["hash"]:
        rows = queries.block_txs(ex.index, number)
        summaries = {
            r["hash"]: {"model": r["calls"] > 0, "failed": not r["status"],
                        "created": r["created"], "gas_used": r["gas_used"]}
            for r in rows
        }  # fmt: skip
        return summaries, queries.block_requests(ex.index, number)
    receipts = ex.reader.call("eth_getBlockReceipts", hex(number)) or []
    summaries = {
        r["transactionHash"]: {
            "model": bool(r.get("inferences")), "failed": r.get("status") == "0x0",
            "created": r.get("contractAddress"), "gas_used": quantity(r["gasUsed"]),
        }
        for r in receipts
    }  # fmt: skip
    requests = {c["requestId"]: r["transactionHash"] for r in receipts
                for c in r.get("inferences", [])}  # fmt: skip
    return summaries, requests


@router.get("/tx/{tx_hash}", response_class=HTMLResponse)
def tx_page(request: Request, tx_hash: str) -> HTMLResponse:
    ex = explorer_of(request)
    h = parse_hash(tx_hash, "transaction hash")
    tx = ex.reader.transaction(h)
    status = ex.reader.inference_status(h)
    tracked = queries.pending_entry(ex.index, h)
    if tx is None and status is None and tracked is None:
        raise NotFound(f"no transaction {h} on this chain (nor pending, nor recently dropped)")
    receipt = ex.reader.receipt(h) if tx is not None else None
    if tracked is not None and receipt is not None and tracked["history"][-1][0] != "included":
        # Mined before the tracker's next poll saw it: the receipt is the proof of that step.
        tracked["history"].append(["included", None])
    context: dict[str, Any] = {
        "tx": tx, "receipt": receipt, "status": status, "tracked": tracked, "hash": h,
    }  # fmt: skip
    if tx is not None:
        data = bytes.fromhex(str(tx.get("input") or "0x")[2:])
        context["call"] = ex.abis.decode_call(data) if tx.get("to") else None
        context["input_hex"] = "0x" + data.hex()
        context["to_name"] = _contract_name(ex, tx.get("to"))
    if receipt is not None:
        context.update(_mined(ex, tx or {}, receipt))
    return ex.render(request, "tx.html", **context)


def _contract_name(ex: Any, address: str | None) -> str | None:
    if not address:
        return None
    code = bytes.fromhex(str(ex.reader.call("eth_getCode", address, "latest"))[2:])
    return (
        "contract" if code and ex.abis.contract_name(code) is None else ex.abis.contract_name(code)
    )


def _mined(ex: Any, tx: dict[str, Any], receipt: dict[str, Any]) -> dict[str, Any]:
    number = quantity(receipt["blockNumber"])
    block = ex.reader.block(number) or {}
    calls = model_calls(ex.reader, receipt, number - 1)
    split = fee_split(
        gas_used=quantity(receipt["gasUsed"]),
        gas_price=quantity(receipt["effectiveGasPrice"]),
        base_fee=quantity(block.get("baseFeePerGas") or 0),
        calls=calls,
    )
    logs = [
        (entry, ex.abis.decode_log(entry["topics"], entry["data"])) for entry in receipt["logs"]
    ]
    verification = verify_tx(
        ex.reader, receipt["transactionHash"], receipt.get("inferences") or [],
        tx_block_hash=receipt["blockHash"],
    )  # fmt: skip
    shown = []
    for payout, outcome in zip(split.payouts, verification.calls, strict=False):
        item: dict[str, Any] = {"payout": payout, "outcome": outcome}
        if outcome.proof is not None:
            receipt_obj = outcome.proof.receipt
            item["receipt_json"] = receipt_to_json(receipt_obj)
            try:
                output = outcome.checked.output if outcome.checked else None
                output = output or decode_model_output(receipt_obj.output)
                item["output"] = tensor_tables(output)
            except ProtocolError as exc:
                item["output_error"] = str(exc)
            model_input = recover_input(ex.reader, ex.abis, tx, bytes(receipt_obj.input_hash))
            item["input"] = tensor_tables(model_input) if model_input is not None else None
            item["input_hash"] = "0x" + bytes(receipt_obj.input_hash).hex()
        shown.append(item)
    return {
        "split": split,
        "logs": logs,
        "model_calls": shown,
        "verified": verification.verified,
        "created_name": _contract_name(ex, receipt.get("contractAddress")),
    }


@router.get("/live/tx/{tx_hash}")
def live_tx(request: Request, tx_hash: str) -> JSONResponse:
    """PIPE's status of a transaction, for the tx page's script (no reload until mined)."""
    ex = explorer_of(request)
    h = parse_hash(tx_hash, "transaction hash")
    status = ex.reader.inference_status(h) or {}
    tracked = queries.pending_entry(ex.index, h)
    return JSONResponse(
        {
            "status": status.get("status") or (tracked or {}).get("status"),
            "reason": status.get("reason") or (tracked or {}).get("reason"),
            "history": (tracked or {}).get("history", []),
            "mined": ex.reader.receipt(h) is not None,
        }
    )
