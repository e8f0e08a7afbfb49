"""Model pages: what the registry says, and how the model was used."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import queries
from ..charts import bar_chart
from ..errors import NotFound
from ..params import parse_cid
from ..registry import read_model
from .home import explorer_of

router = APIRouter()


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request) -> HTMLResponse:
    ex = explorer_of(request)
    return ex.render(request, "models.html", models=queries.known_models(ex.index))


@router.get("/model/{cid}", response_class=HTMLResponse)
def model_page(request: Request, cid: str) -> HTMLResponse:
    ex = explorer_of(request)
    c = parse_cid(cid)
    entry = read_model(ex.reader, c)
    if entry is None and not queries.model_known(ex.index, c):
        raise NotFound(f"no model {c} has been registered or called on this chain")
    usage = queries.model_usage(ex.index, c)
    chart = bar_chart(
        [n for _, _, n in usage.buckets],
        [f"blocks {lo}-{hi}" for lo, hi, _ in usage.buckets],
        title="Calls over time",
        unit="calls",
    )
    return ex.render(
        request,
        "model.html",
        cid=c,
        entry=entry,
        owner="0x" + bytes(entry.owner).hex() if entry else None,
        usage=usage,
        chart=chart,
        registrations=queries.registrations_of(ex.index, c),
    )
