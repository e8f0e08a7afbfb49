"""What a caller sees when the hub says no: typed errors carrying the hub's message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

import hub_client
from hub_client import (
    AsyncHubClient,
    HubClient,
    HubError,
    HubUnavailable,
    InferenceTimeout,
    InvalidInput,
    JobNotFound,
    ModelNotFound,
    UploadRejected,
)

from .fakehub import MODEL_CID, xs

PUBLIC = {
    "DEFAULT_HUB_URL",
    "AsyncHubClient",
    "HubClient",
    "HubError",
    "HubUnavailable",
    "InferenceMode",
    "InferenceReceipt",
    "InferenceResult",
    "InferenceTimeout",
    "InvalidInput",
    "JobNotFound",
    "JobStatus",
    "ModelInfo",
    "ModelInput",
    "ModelNotFound",
    "ModelOutput",
    "NotFound",
    "ReceiptInvalid",
    "TensorSpec",
    "UploadRejected",
    "verify_receipt",
    # ZK circuits (hub_client/models.py, verify.py)
    "ZkCircuit",
    "ZkKeys",
    "ZkStep",
    # the rollup part (hub_client/rollup.py)
    "BlockHeader",
    "ChainInfo",
    "InferenceDropped",
    "InferenceNotFound",
    "InferenceProof",
    "InferenceStatus",
    "InferenceWitness",
    "ProofInvalid",
    "RollupClient",
    "RollupError",
    "RollupUnavailable",
    "RpcError",
    "VerifiedInference",
    # the light client (hub_client/light.py)
    "Check",
    "CheckName",
    "InferenceVerification",
    "Outcome",
    "VerificationFailed",
    # the dApp toolkit (hub_client/dapp.py)
    "Contract",
    "ContractReverted",
    "Event",
    "InferenceCall",
    "TransactionReceipt",
}


def test_public_surface_is_curated() -> None:
    assert set(hub_client.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(hub_client, name) is not None


def test_errors_subclass_the_builtins_they_mean() -> None:
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(InferenceTimeout, TimeoutError)
    assert issubclass(HubUnavailable, ConnectionError)
    assert issubclass(ModelNotFound, LookupError)
    for name in PUBLIC:
        obj = getattr(hub_client, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, HubError)


def answering(status: int, detail: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json={"detail": detail}))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInput),
        (422, InvalidInput),
        (404, ModelNotFound),
        (504, InferenceTimeout),
        (503, HubUnavailable),
        (500, HubUnavailable),
        (429, HubError),
    ],
)
def test_invalid_inference_status_maps_to_typed_error(status: int, error: type[HubError]) -> None:
    detail = f"the hub's own words for {status}"
    with (
        HubClient("http://hub.test", transport=answering(status, detail)) as hub,
        pytest.raises(error) as caught,
    ):
        hub.infer(MODEL_CID, {"x": xs()})
    assert caught.value.status == status
    assert caught.value.detail == detail
    assert detail in str(caught.value)


@pytest.mark.parametrize("status", [401, 403, 413, 422])
def test_invalid_upload_status_maps_to_upload_rejected(status: int, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"bytes")
    with (
        HubClient("http://hub.test", transport=answering(status, "no")) as hub,
        pytest.raises(UploadRejected) as caught,
    ):
        hub.upload_model(path, private_key="0x" + "44" * 32, name="m")
    assert caught.value.status == status


def test_invalid_job_id_gives_job_not_found() -> None:
    with (
        HubClient("http://hub.test", transport=answering(404, "no such job")) as hub,
        pytest.raises(JobNotFound, match="no such job"),
    ):
        hub.get_job("abc")


def test_invalid_validation_list_detail_is_readable() -> None:
    detail = [{"loc": ["body", "modelCID"], "msg": "Field required", "type": "missing"}]
    with (
        HubClient("http://hub.test", transport=answering(422, detail)) as hub,
        pytest.raises(InvalidInput, match="body.modelCID: Field required"),
    ):
        hub.infer(MODEL_CID, {"x": xs()})


def test_invalid_non_json_answer_is_a_hub_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hi</html>"))
    with (
        HubClient("http://hub.test", transport=transport) as hub,
        pytest.raises(HubError, match="not JSON"),
    ):
        hub.list_models()


def _raise(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def test_invalid_unreachable_hub_says_how_to_start_one() -> None:
    with (
        HubClient("http://hub.test", transport=_raise(httpx.ConnectError("refused"))) as hub,
        pytest.raises(HubUnavailable, match="neurostack hub serve"),
    ):
        hub.list_models()


def test_invalid_slow_inference_is_a_timeout() -> None:
    with HubClient("http://hub.test", transport=_raise(httpx.ReadTimeout("slow"))) as hub:
        with pytest.raises(InferenceTimeout):
            hub.infer(MODEL_CID, {"x": xs()})
        with pytest.raises(HubUnavailable):
            hub.list_models()


def test_invalid_async_errors_match_sync_ones() -> None:
    async def main() -> None:
        transport = httpx.MockTransport(
            lambda request: httpx.Response(404, json={"detail": "model gone"})
        )
        async with AsyncHubClient("http://hub.test", transport=transport) as hub:
            with pytest.raises(ModelNotFound, match="model gone"):
                await hub.infer(MODEL_CID, {"x": xs()})
        async with AsyncHubClient(
            "http://hub.test", transport=_raise(httpx.ConnectError("refused"))
        ) as hub:
            with pytest.raises(HubUnavailable):
                await hub.get_model(MODEL_CID)

    asyncio.run(main())
