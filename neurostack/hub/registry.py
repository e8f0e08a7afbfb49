"""The model registry API: ``POST /v1/models``, ``GET /v1/models``, ``GET /v1/models/{cid}``
and ``GET /v1/models/{cid}/file``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from neurostack.protocol.uploads import model_upload

from .context import HubContext, hub_context
from .errors import InvalidUpload, ModelTooLarge
from .upload import check_upload_signature, receive_upload
from .zk_api import zk_requested
from .zk_store import ModelView

router = APIRouter(prefix="/v1/models", tags=["models"])

Ctx = Annotated[HubContext, Depends(hub_context)]

# Room for the multipart framing and text fields around the file itself.
FORM_OVERHEAD = 256 * 1024

UPLOAD_DOC = """Upload an ONNX model as `multipart/form-data` with fields `file`, `owner`
(0x address), `signature`, `name`, `version`, `description` and optionally `zk` (`true`:
make the model's ZK circuit in the background; the record's `zk.status` goes from `pending`
to `ready` or `failed`). `signature` is the owner's EIP-712 signature
(`eth_signTypedData_v4`) of the `ModelUpload` message `{fileHash: sha256 of the file, name,
version, description}` in this hub's domain (`GET /v1/hub`); name and version are signed
stripped, an empty version as "1" (`zk` is not signed: it asks for work, not ownership).
The model must be self-contained: no external data, only the ai.onnx and ai.onnx.ml
operator sets.
Answers 201 with the new record, or 200 with the existing one when the same bytes were
uploaded before (the CID is the content id)."""


@router.post(
    "",
    status_code=201,
    response_model=ModelView,
    description=UPLOAD_DOC,
    responses={
        200: {"description": "the same file was already stored"},
        401: {"description": "missing or malformed signature"},
        403: {"description": "not the owner's signature of this upload for this hub"},
        413: {"description": "file larger than the hub's limit"},
        422: {"description": "not ONNX, invalid or not self-contained ONNX, malformed form"},
    },
)
async def upload_model(request: Request, response: Response, ctx: Ctx) -> ModelView:
    limit = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise ModelTooLarge(
            f"the upload ({declared} bytes) is larger than this hub's limit of {limit} bytes; "
            "upload a smaller model or raise --max-upload-bytes"
        )
    with ctx.store.upload() as sink:
        fields = await receive_upload(
            request.headers.get("content-type", ""), request.stream(), sink
        )
        upload = model_upload(
            ctx.hub_id,
            sink.sha256.digest(),
            fields.get("name", ""),
            fields.get("version", ""),
            fields.get("description", ""),
        )
        if not upload.name:
            raise InvalidUpload("the upload needs a 'name' field (a short model name)")
        owner = check_upload_signature(
            fields.get("owner", "").strip(), fields.get("signature", "").strip(), upload
        )
        zk = zk_requested(fields.get("zk", ""))
        record, created = await run_in_threadpool(
            ctx.store.add,
            sink,
            name=upload.name,
            version=upload.version,
            owner=owner,
            description=upload.description,
        )
    if zk:
        ctx.zk.request(record)
    ctx.metrics.uploads.labels(outcome="created" if created else "existing").inc()
    response.status_code = 201 if created else 200
    return await run_in_threadpool(ctx.zk.zk.view, record)


@router.get("", response_model=list[ModelView])
async def list_models(ctx: Ctx) -> list[ModelView]:
    """Every model in this hub, oldest first."""
    records = await run_in_threadpool(ctx.store.list)
    return await run_in_threadpool(lambda: [ctx.zk.zk.view(r) for r in records])


@router.get(
    "/{cid}",
    response_model=ModelView,
    responses={400: {"description": "malformed CID"}, 404: {"description": "unknown model"}},
)
async def get_model(cid: str, ctx: Ctx) -> ModelView:
    """A model's metadata: owner, version, inputs and outputs (dtype, shape with null for
    dynamic dimensions), and its ZK circuit (`zk`, null without one)."""
    record = await run_in_threadpool(ctx.store.get, cid)
    return await run_in_threadpool(ctx.zk.zk.view, record)


@router.get(
    "/{cid}/file",
    response_class=FileResponse,
    responses={400: {"description": "malformed CID"}, 404: {"description": "unknown model"}},
)
async def get_model_file(cid: str, ctx: Ctx) -> FileResponse:
    """The model file itself; its bytes hash to the CID."""
    path = await run_in_threadpool(ctx.store.model_path, cid)
    return FileResponse(path, media_type="application/octet-stream", filename=f"{cid}.onnx")
