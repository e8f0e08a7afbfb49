"""The off-chain inference API: ``POST /v1/infer`` and ``GET /v1/jobs/{id}``.

The input is checked against the model's declared inputs before anything is queued,
so a bad request costs no sprinter time and gets its reason at once. Jobs are keyed by
request id (chain id 0 for off-chain use), so identical requests share one inference:
a request whose result is still stored is answered without queuing anything.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from neurostack.protocol import job_keys as keys
from neurostack.protocol.errors import InvalidTensor
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import receipt_to_json
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import (
    decode_model_output,
    encode_model_input,
    model_input_from_json,
    model_input_to_feeds,
    model_output_to_json,
)

from .context import HubContext, hub_context
from .errors import InvalidInferenceRequest, JobNotFound, JobRejected, RequestError
from .zk_prover import check_zk_input

router = APIRouter(tags=["inference"])
Ctx = Annotated[HubContext, Depends(hub_context)]

OFF_CHAIN_CHAIN_ID = 0
SUPPORTED_MODES = (InferenceMode.VANILLA, InferenceMode.ZK, InferenceMode.TEE)
# Request bodies up to this size are checked and encoded on the event loop (see infer).
INLINE_BODY_BYTES = 16 * 1024


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modelCID: str = Field(description="content id of an uploaded model")
    mode: int | str = Field(
        0, description="VANILLA (0), ZK (1, models uploaded with zk) or TEE (2), by number or name"
    )
    input: dict[str, Any] = Field(
        description='friendly {"x": [[1.0, 2.0, 3.0, 4.0]]} or canonical {"numbers": [...], '
        '"strings": [...]} form'
    )


class InferResponse(BaseModel):
    requestId: str
    output: dict[str, Any] = Field(description="canonical JSON of the ModelOutput")
    receipt: dict[str, Any] = Field(description="the signed inference receipt (JSON form)")
    worker: str = Field(description="name of the sprinter that computed the result")


class JobAccepted(BaseModel):
    jobId: str


class JobView(BaseModel):
    status: str = Field(description="pending, done or failed")
    result: InferResponse | None = None
    error: str | None = None


def parse_mode(mode: int | str) -> InferenceMode:
    """A mode given by number or (case-insensitive) name; only modes this hub serves."""
    try:
        parsed = (
            InferenceMode(int(mode))
            if isinstance(mode, int) or str(mode).isdigit()
            else InferenceMode[str(mode).strip().upper()]
        )
    except (KeyError, ValueError):
        names = ", ".join(f"{m.name} ({m.value})" for m in InferenceMode)
        raise InvalidInferenceRequest(f"unknown mode {mode!r}; modes are {names}") from None
    if parsed not in SUPPORTED_MODES:
        raise InvalidInferenceRequest(
            f"mode {parsed.name} is not supported by this hub yet; use VANILLA, ZK or TEE"
        )
    return parsed


def _deadline(ctx: HubContext, mode: InferenceMode) -> float:
    return ctx.settings.zk_job_deadline if mode == InferenceMode.ZK else ctx.settings.job_deadline


def _response_body(result: JobResult) -> dict[str, Any]:
    """The ``InferResponse`` of a result as plain JSON-ready data."""
    assert result.receipt is not None
    return {
        "requestId": keys.request_hex(result.request_id),
        "output": model_output_to_json(decode_model_output(result.receipt.output)),
        "receipt": receipt_to_json(result.receipt),
        "worker": result.worker,
    }


def _build_job(body: InferRequest, ctx: HubContext) -> InferenceJob:
    record = ctx.store.get(body.modelCID)  # 400 malformed, 404 unknown
    mode = parse_mode(body.mode)
    try:
        model_input = model_input_from_json(body.input)
    except InvalidTensor as exc:
        raise InvalidInferenceRequest(f"invalid input: {exc}") from None
    limit = ctx.settings.max_tensor_elements
    sizes = [(t.name, len(t.values)) for t in model_input.numbers] + [
        (t.name, len(t.values)) for t in model_input.strings
    ]
    for name, size in sizes:
        if size > limit:
            raise InvalidInferenceRequest(
                f"input {name!r} has {size} elements, more than this hub's limit of {limit}; "
                "split the request into smaller batches"
            )
    try:
        model_input_to_feeds(model_input, record.input_specs())
    except InvalidTensor as exc:
        raise InvalidInferenceRequest(f"invalid input for model {record.cid}: {exc}") from None
    input_abi = encode_model_input(model_input)
    if mode == InferenceMode.ZK:
        check_zk_input(ctx.zk.zk, record.cid, input_abi)
    now = time.time()
    return InferenceJob(
        request_id=request_id(OFF_CHAIN_CHAIN_ID, record.cid, mode, input_abi),
        chain_id=OFF_CHAIN_CHAIN_ID,
        model_cid=record.cid,  # type: ignore[arg-type]
        mode=mode,
        input_abi=input_abi,
        expiry=int(now) + ctx.settings.receipt_ttl,
        deadline=now + _deadline(ctx, mode),
    )


@router.post(
    "/v1/infer",
    response_model=InferResponse,
    responses={
        202: {"model": JobAccepted, "description": "queued (wait=false)"},
        400: {"description": "malformed CID"},
        404: {"description": "unknown model"},
        413: {"description": "request body too large"},
        422: {"description": "invalid input or unsupported mode"},
        504: {"description": "no result before the job deadline"},
    },
)
async def infer(
    body: InferRequest,
    ctx: Ctx,
    request: Request,
    wait: Annotated[bool, Query(description="false: answer 202 with a job id at once")] = True,
) -> Any:
    """Run a model on a sprinter and return its output with a signed receipt."""
    started = time.perf_counter()
    # Checking and encoding a small input takes a few tenths of a millisecond, less than
    # the hop to a worker thread; a large one would stall the event loop, so it moves off.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= INLINE_BODY_BYTES:
        job = _build_job(body, ctx)
    else:
        job = await run_in_threadpool(_build_job, body, ctx)
    mode = job.mode.name
    rid = keys.request_hex(job.request_id)
    if not wait:
        await ctx.jobs.submit(job)
        ctx.metrics.inferences.labels(mode=mode, outcome="queued").inc()
        return JSONResponse(status_code=202, content={"jobId": rid})
    status = await ctx.jobs.run(job)
    if status is None:
        ctx.metrics.inferences.labels(mode=mode, outcome="timeout").inc()
        return JSONResponse(
            status_code=504,
            content={
                "detail": f"no sprinter answered within {_deadline(ctx, job.mode):g} s; check that "
                f"workers are running (GET /ready) and poll GET /v1/jobs/{rid} later"
            },
        )
    if status.status == "failed" or status.result is None or status.result.receipt is None:
        ctx.metrics.inferences.labels(mode=mode, outcome="error").inc()
        raise JobRejected(status.error or "the sprinter returned no receipt")
    ctx.metrics.inferences.labels(mode=mode, outcome="ok").inc()
    ctx.metrics.latency.observe(time.perf_counter() - started)
    # Built as plain data and sent as is: re-validating it through the response model
    # would cost a few tenths of a millisecond per request for nothing.
    return JSONResponse(_response_body(status.result))


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobView,
    responses={400: {"description": "malformed job id"}, 404: {"description": "unknown job"}},
)
async def get_job(job_id: str, ctx: Ctx) -> JobView:
    """Status of a job submitted with ``wait=false`` (its id is the request id)."""
    rid = job_id.lower()
    if not (
        rid.startswith("0x") and len(rid) == 66 and all(c in "0123456789abcdef" for c in rid[2:])
    ):
        raise RequestError(
            f"{job_id!r} is not a job id; job ids are the 0x-prefixed 32-byte request ids "
            "returned by POST /v1/infer?wait=false"
        )
    status = await ctx.jobs.status(rid)
    if status is None:
        raise JobNotFound(f"no job {rid} on this hub (ids expire with their results)")
    if status.status == "done" and status.result is not None:
        return JobView(status="done", result=InferResponse(**_response_body(status.result)))
    return JobView(status=status.status, error=status.error)
