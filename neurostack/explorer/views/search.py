"""Search: a block number or hash, a transaction hash, an address, a model CID or a
request id; one answer (a redirect to its page) or a 404 page saying nothing matched."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from hub_client import HubError

from .. import queries
from ..context import Explorer
from ..errors import NotFound
from ..params import classify
from ..registry import read_model
from .home import explorer_of

router = APIRouter()


@router.get("/search")
def search(request: Request, q: str = "") -> RedirectResponse:
    ex = explorer_of(request)
    query = classify(q)
    if query.kind == "number":
        if ex.reader.block(int(query.value)) is None:
            raise NotFound(f"block {query.value} does not exist yet (the head is "
                           f"{ex.reader.head_number()})")  # fmt: skip
        return RedirectResponse(f"/block/{query.value}", status_code=303)
    if query.kind == "address":
        return RedirectResponse(f"/address/{query.value}", status_code=303)
    if query.kind == "cid":
        cid = str(query.value)
        if queries.model_known(ex.index, cid) or read_model(ex.reader, cid) is not None:
            return RedirectResponse(f"/model/{cid}", status_code=303)
        raise NotFound(f"no model {cid} has been registered or called on this chain")
    h = str(query.value)
    if ex.reader.transaction(h) is not None or queries.pending_entry(ex.index, h) is not None:
        return RedirectResponse(f"/tx/{h}", status_code=303)
    if ex.reader.block(h) is not None:
        return RedirectResponse(f"/block/{h}", status_code=303)
    tx = queries.tx_of_request(ex.index, h) or _tx_of_request(ex, h)
    if tx is not None:
        return RedirectResponse(f"/tx/{tx}#{h}", status_code=303)
    if ex.reader.inference_status(h) is not None:
        return RedirectResponse(f"/tx/{h}", status_code=303)
    raise NotFound(f"no block, transaction or inference request {h} on this chain")


def _tx_of_request(ex: Explorer, request_id: str) -> str | None:
    """A request id the index has not reached yet: ask the node for its proof's block."""
    try:
        proof = ex.reader.optional("neuro_getInferenceProof", request_id)
    except HubError:
        return None
    if not proof:
        return None
    receipts = ex.reader.call("eth_getBlockReceipts", proof["blockNumber"]) or []
    for r in receipts:
        if any(c["requestId"] == request_id for c in r.get("inferences", [])):
            return str(r["transactionHash"])
    return None
