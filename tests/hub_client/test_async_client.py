"""AsyncHubClient against the fake hub: the same behaviour as the sync client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from hub_client import AsyncHubClient, ReceiptInvalid
from neurostack.protocol.cid import model_cid

from .fakehub import MODEL_CID, FakeHub, tamper_output, xs
from .test_client import OWNER_KEY


def run(hub: FakeHub, body: Any) -> Any:
    async def main() -> Any:
        transport = httpx.MockTransport(hub.handle)
        async with AsyncHubClient("http://hub.test", transport=transport) as client:
            return await body(client)

    return asyncio.run(main())


def test_async_infer_verifies_and_returns_arrays() -> None:
    async def body(client: AsyncHubClient) -> Any:
        return await asyncio.gather(*(client.infer(MODEL_CID, {"x": xs(n)}) for n in (1, 2, 3)))

    results = run(FakeHub(), body)
    for n, result in zip((1, 2, 3), results, strict=True):
        assert result.verified
        np.testing.assert_allclose(result.arrays()["y"], xs(n).sum(axis=1, keepdims=True))


def test_invalid_async_tampered_output_is_refused() -> None:
    async def body(client: AsyncHubClient) -> Any:
        return await client.infer(MODEL_CID, {"x": xs()})

    with pytest.raises(ReceiptInvalid):
        run(FakeHub(tamper=tamper_output), body)


def test_async_upload_download_and_jobs(tmp_path: Path) -> None:
    data = b"\x05" * 100_000
    (tmp_path / "m.onnx").write_bytes(data)

    async def body(client: AsyncHubClient) -> Any:
        info = await client.upload_model(tmp_path / "m.onnx", private_key=OWNER_KEY, name="m")
        listed = await client.list_models()
        path = await client.download_model(info.cid, tmp_path / "back.onnx")
        job = await client.submit(MODEL_CID, {"x": xs()})
        return info, listed, path, await client.get_job(job)

    info, listed, path, job = run(FakeHub(), body)
    assert info.cid == model_cid(data)
    assert info.cid in {m.cid for m in listed}
    assert path.read_bytes() == data
    assert job.status == "done" and job.result is not None and job.result.verified
