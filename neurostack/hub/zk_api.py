"""The ZK part of the hub API: ``GET /v1/zk/artifacts/{hash}`` serves a model's circuit
artefacts (circuit settings, verifying key, proving key, compiled circuit, SRS) by their
sha256, so sprinters and verifiers fetch exactly the bytes a hash names; and the ``zk``
form field of an upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from .context import HubContext, hub_context
from .errors import InvalidUpload

router = APIRouter(prefix="/v1/zk", tags=["zk"])
Ctx = Annotated[HubContext, Depends(hub_context)]

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


def zk_requested(field: str) -> bool:
    """The upload's ``zk`` form field as a bool; InvalidUpload (422) for anything else."""
    value = field.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidUpload(f"form field 'zk' is {field!r}; send true or false")


@router.get(
    "/artifacts/{artifact_hash}",
    response_class=FileResponse,
    responses={400: {"description": "malformed hash"}, 404: {"description": "unknown artefact"}},
)
async def get_artifact(artifact_hash: str, ctx: Ctx) -> FileResponse:
    """An artefact's bytes; their sha256 is the hash in the path."""
    path = await run_in_threadpool(ctx.zk.zk.blob_path, artifact_hash)
    return FileResponse(path, media_type="application/octet-stream")
