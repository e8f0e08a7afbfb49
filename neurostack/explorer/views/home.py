"""Home: latest blocks and transactions (live), block charts, inference activity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import queries
from ..charts import bar_chart
from ..context import Explorer
from ..params import parse_block_number

router = APIRouter()

LIVE_WAIT_S = 2.0  # a browser told of block N waits this long for the index to hold it
LIVE_AHEAD = 64  # ... if N is at most this far past the index's head


def home_context(ex: Explorer) -> dict[str, Any]:
    series = queries.block_series(ex.index, 60)
    labels = [f"block {n}" for n in series.numbers]
    median, samples = queries.median_inclusion_seconds(ex.index)
    head = ex.index.head()
    return {
        "head": head[0] if head else None,
        "blocks": queries.latest_blocks(ex.index, 10),
        "txs": queries.latest_txs(ex.index, 10),
        "interval_chart": bar_chart(series.intervals, labels, title="Block interval", unit="s"),
        "gas_chart": bar_chart(series.gas_used, labels, title="Gas used per block", unit="gas"),
        "activity": queries.calls_per_model_and_mode(ex.index),
        "median_wait": median,
        "wait_samples": samples,
        "pending": queries.pending_inference(ex.index),
        "node_error": ex.follower.last_error,
    }


def explorer_of(request: Request) -> Explorer:
    return request.app.state.explorer  # type: ignore[no-any-return]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    ex = explorer_of(request)
    return ex.render(request, "home.html", **home_context(ex))


@router.get("/live/home", response_class=HTMLResponse)
def live_home(request: Request, head: str = "") -> HTMLResponse:
    """The live part of the home page, once the index holds block ``head`` (or after
    :data:`LIVE_WAIT_S`): the page's script fetches it on every ``newHeads``."""
    ex = explorer_of(request)
    number = parse_block_number(head)
    indexed = ex.index.head()
    # Wait only for a block the follower is about to add: a made-up number must not hold
    # a server thread.
    if number is not None and number <= (indexed[0] if indexed else 0) + LIVE_AHEAD:
        ex.follower.wait_for(number, LIVE_WAIT_S)
    return ex.render(request, "home_live.html", **home_context(ex))
