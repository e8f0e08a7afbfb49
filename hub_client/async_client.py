"""``AsyncHubClient``: the same SDK for asyncio code; only the sending of requests differs
from :class:`~hub_client.client.HubClient` (all parsing and checking is shared)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from neurostack.protocol.modes import InferenceMode

from . import _wire
from ._wire import Area, Inputs
from .client import DEFAULT_HUB_URL, DEFAULT_TIMEOUT, _ClientCore
from .files import (
    DownloadWriter,
    Progress_,
    check_uploaded,
    open_for_upload,
    plan_upload,
)
from .models import InferenceResult, JobStatus, ModelInfo
from .verify import ZkKeys


class AsyncHubClient(_ClientCore):
    """Async twin of :class:`~hub_client.HubClient`; use ``async with``."""

    def __init__(
        self,
        base_url: str = DEFAULT_HUB_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        verify_receipts: bool = True,
        expected_signers: Iterable[str | bytes] | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout=timeout,
            verify_receipts=verify_receipts,
            expected_signers=expected_signers,
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, area: Area, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with _wire.translate_transport_errors(self.base_url, area):
            return await self._http.request(method, path, **kwargs)

    async def upload_model(
        self,
        path: str | os.PathLike[str],
        *,
        private_key: str | bytes,
        name: str,
        version: str = "1",
        description: str = "",
        progress: Progress_ = True,
        zk: bool = False,
    ) -> ModelInfo:
        """See :meth:`HubClient.upload_model`. Hashing and file reads are blocking, like
        httpx's own multipart streaming; models are small enough that this stays brief."""
        plan = plan_upload(
            path, private_key=private_key, name=name, version=version, description=description
        )
        hub_id = _wire.read_hub_id(await self._send(Area.UPLOAD, "GET", _wire.HUB_PATH))
        form = plan.form(hub_id)
        fields = {**form, "zk": "true"} if zk else form
        with open_for_upload(plan, progress) as fh:
            files = {"file": (plan.path.name, fh, "application/octet-stream")}
            response = await self._send(
                Area.UPLOAD, "POST", _wire.MODELS_PATH, data=fields, files=files
            )
        info = _wire.read_model(response, Area.UPLOAD)
        check_uploaded(plan, info.cid)
        return info

    async def list_models(self) -> list[ModelInfo]:
        return _wire.read_model_list(await self._send(Area.MODELS, "GET", _wire.MODELS_PATH))

    async def get_model(self, cid: str) -> ModelInfo:
        response = await self._send(Area.MODELS, "GET", _wire.model_path(_wire.checked_cid(cid)))
        return _wire.read_model(response)

    async def wait_for_zk(
        self,
        cid: str,
        *,
        timeout: float = 600.0,
        poll: float = 0.5,
        on_update: Callable[[ModelInfo], None] | None = None,
    ) -> ModelInfo:
        """See :meth:`HubClient.wait_for_zk`."""
        deadline = time.monotonic() + timeout
        while True:
            info = await self.get_model(cid)
            if on_update is not None:
                on_update(info)
            if info.zk is None or info.zk.status != "pending":
                return info
            if time.monotonic() >= deadline:
                raise _wire.zk_setup_timeout(cid, timeout)
            await asyncio.sleep(poll)

    async def zk_keys(self, cid: str) -> ZkKeys:
        """See :meth:`HubClient.zk_keys`."""
        keys = self._zk_keys.get(cid)
        if keys is None:
            plan = _wire.zk_artifact_plan(await self.get_model(cid))
            data = {
                name: _wire.read_artifact(
                    await self._send(Area.ZK, "GET", _wire.artifact_path(h)), h
                )
                for name, h in plan.items()
            }
            keys = self._zk_keys[cid] = ZkKeys(**data)
        return keys

    async def download_model(self, cid: str, dest: str | os.PathLike[str]) -> Path:
        """See :meth:`HubClient.download_model`."""
        writer = DownloadWriter(cid, dest)
        try:
            with _wire.translate_transport_errors(self.base_url, Area.MODELS):
                async with self._http.stream(
                    "GET", _wire.model_path(writer.cid) + "/file"
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        _wire.raise_for_status(response, Area.MODELS)
                    async for chunk in response.aiter_bytes():
                        writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    async def infer(
        self,
        model_cid: str,
        inputs: Inputs,
        mode: InferenceMode | int | str = InferenceMode.VANILLA,
    ) -> InferenceResult:
        """See :meth:`HubClient.infer`."""
        body, sent = _wire.build_inference(model_cid, inputs, mode)
        keys = await self.zk_keys(sent.model_cid) if self._needs_zk_keys(sent.mode) else None
        response = await self._send(Area.INFER, "POST", _wire.INFER_PATH, json=body)
        return _wire.read_inference(
            response,
            sent,
            verify=self.verify_receipts,
            expected_signers=self.expected_signers,
            zk_keys=keys,
        )

    async def submit(
        self,
        model_cid: str,
        inputs: Inputs,
        mode: InferenceMode | int | str = InferenceMode.VANILLA,
    ) -> str:
        body, sent = _wire.build_inference(model_cid, inputs, mode)
        response = await self._send(
            Area.INFER, "POST", _wire.INFER_PATH, json=body, params={"wait": "false"}
        )
        job_id = _wire.read_job_id(response)
        self._remember(job_id, sent)
        return job_id

    async def get_job(self, job_id: str) -> JobStatus:
        response = await self._send(Area.JOBS, "GET", _wire.job_path(job_id))
        sent = self._sent.get(job_id)
        zk_model = _wire.zk_model_of(response) if self.verify_receipts else None
        return _wire.read_job(
            response,
            job_id,
            sent,
            verify=self.verify_receipts,
            expected_signers=self.expected_signers,
            zk_keys=await self.zk_keys(zk_model) if zk_model and sent else None,
        )
