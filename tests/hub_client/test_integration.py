"""The SDK over HTTP against the real stack: embedded redis-server, the hub under uvicorn,
two Celery sprinter processes running onnxruntime. Outputs must equal a direct run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub_client import (
    AsyncHubClient,
    HubClient,
    InferenceMode,
    InvalidInput,
    ModelNotFound,
    UploadRejected,
)
from neurostack.hub.samples import sample_model_path
from neurostack.protocol.cid import model_cid

from ..hub.helpers import run_onnx

pytestmark = pytest.mark.slow


def assert_equals_onnxruntime(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    """Outputs travel as 18-decimal Numbers (docs/protocol.md): back in the model's own
    dtype they must be bit-identical to a direct onnxruntime run."""
    assert set(got) == set(expected)
    for name, want in expected.items():
        if want.dtype.kind in "OUS":
            assert got[name].tolist() == want.tolist()
        else:
            np.testing.assert_array_equal(got[name].astype(want.dtype), want)
            np.testing.assert_allclose(got[name], want.astype(np.float64), rtol=1e-12, atol=1e-18)


def signers(stack: Any) -> list[str]:
    return [w.address for w in stack.workers.values()]


@pytest.fixture(scope="module")
def cids(hub_stack: Any) -> dict[str, str]:
    """Both sample models, uploaded through the SDK by the stack's model owner."""
    out = {}
    with HubClient(hub_stack.url) as hub:
        for name in ("mlp_regressor", "text_classifier"):
            info = hub.upload_model(
                sample_model_path(name), private_key=hub_stack.owner.key, name=name, version="2"
            )
            out[name] = info.cid
    return out


def test_upload_gives_the_content_id_and_metadata(hub_stack: Any, cids: dict[str, str]) -> None:
    path = sample_model_path("text_classifier")
    assert cids["text_classifier"] == model_cid(path.read_bytes())
    with HubClient(hub_stack.url) as hub:
        again = hub.upload_model(path, private_key=hub_stack.owner.key, name="text_classifier")
        info = hub.get_model(cids["text_classifier"])
        listed = {m.cid for m in hub.list_models()}
    assert again.cid == info.cid  # same bytes, same id
    assert info.owner == hub_stack.owner.address and info.size == path.stat().st_size
    assert [(s.name, s.dtype, s.shape) for s in info.inputs] == [("x", "float32", (None, 4))]
    assert {s.name for s in info.outputs} == {"label", "probabilities"}
    assert set(cids.values()) <= listed


def test_sync_inference_equals_onnxruntime(hub_stack: Any, cids: dict[str, str]) -> None:
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    with HubClient(hub_stack.url, expected_signers=signers(hub_stack)) as hub:
        result = hub.infer(cids["mlp_regressor"], {"x": x})
    expected = run_onnx(sample_model_path("mlp_regressor"), {"x": x})
    assert result.verified and result.worker in hub_stack.workers
    assert_equals_onnxruntime(result.arrays(), expected)


def test_string_labels_and_tee_mode(hub_stack: Any, cids: dict[str, str]) -> None:
    x = np.random.default_rng(3).normal(scale=3.0, size=(8, 4)).astype(np.float32)
    with HubClient(hub_stack.url, expected_signers=signers(hub_stack)) as hub:
        result = hub.infer(cids["text_classifier"], {"x": x}, mode=InferenceMode.TEE)
    expected = run_onnx(sample_model_path("text_classifier"), {"x": x})
    assert result.receipt.mode == InferenceMode.TEE
    assert_equals_onnxruntime(result.arrays(), expected)


def test_async_client_runs_requests_concurrently(hub_stack: Any, cids: dict[str, str]) -> None:
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(1, 4)).astype(np.float32) for _ in range(6)]

    async def main() -> list[Any]:
        async with AsyncHubClient(hub_stack.url, expected_signers=signers(hub_stack)) as hub:
            return await asyncio.gather(*(hub.infer(cids["mlp_regressor"], {"x": x}) for x in xs))

    results = asyncio.run(main())
    for x, result in zip(xs, results, strict=True):
        assert result.verified
        assert_equals_onnxruntime(
            result.arrays(), run_onnx(sample_model_path("mlp_regressor"), {"x": x})
        )


def test_submit_and_poll_a_job(hub_stack: Any, cids: dict[str, str]) -> None:
    x = [[0.125, 0.5, -2.0, 7.0]]
    with HubClient(hub_stack.url) as hub:
        job_id = hub.submit(cids["mlp_regressor"], {"x": x})
        deadline = time.monotonic() + 30
        while not (status := hub.get_job(job_id)).done and time.monotonic() < deadline:
            time.sleep(0.05)
    assert status.status == "done" and status.result is not None and status.result.verified
    assert job_id == "0x" + status.result.request_id.hex()


def test_download_returns_the_uploaded_bytes(
    hub_stack: Any, cids: dict[str, str], tmp_path: Path
) -> None:
    with HubClient(hub_stack.url) as hub:
        path = hub.download_model(cids["mlp_regressor"], tmp_path)
    assert path.read_bytes() == sample_model_path("mlp_regressor").read_bytes()


def test_invalid_requests_carry_the_hubs_reason(
    hub_stack: Any, cids: dict[str, str], tmp_path: Path
) -> None:
    with HubClient(hub_stack.url) as hub:
        with pytest.raises(ModelNotFound) as not_found:
            hub.infer(model_cid(b"never uploaded"), {"x": [[1.0, 2.0, 3.0, 4.0]]})
        with pytest.raises(InvalidInput) as wrong_name:
            hub.infer(cids["mlp_regressor"], {"z": [[1.0, 2.0, 3.0, 4.0]]})
        with pytest.raises(InvalidInput) as wrong_shape:
            hub.infer(cids["mlp_regressor"], {"x": [[1.0, 2.0, 3.0]]})
        with pytest.raises(InvalidInput) as zk:
            hub.infer(
                cids["mlp_regressor"], {"x": [[1.0, 2.0, 3.0, 4.0]]}, mode=InferenceMode.OPTIMISTIC
            )
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(b"definitely not a protobuf")
        with pytest.raises(UploadRejected) as rejected:
            hub.upload_model(bad, private_key=hub_stack.owner.key, name="bad")
    assert not_found.value.status == 404
    assert "'z'" in wrong_name.value.detail or "z" in wrong_name.value.detail
    assert wrong_shape.value.status == 422 and "shape" in wrong_shape.value.detail
    assert rejected.value.status == 422 and rejected.value.detail
    assert "not supported" in zk.value.detail
