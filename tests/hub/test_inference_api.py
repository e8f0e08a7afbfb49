"""``/v1/infer`` and ``/v1/jobs``: every bad request is refused with its reason before
anything is queued. (Results through real workers: test_stack_integration.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from eth_account import Account
from fastapi.testclient import TestClient

from neurostack.hub.app import create_app
from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.samples import sample_model_path
from neurostack.hub.settings import HubSettings
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import model_cid
from neurostack.protocol.jobs import INFER_QUEUE

from .stack import hub_id_of, upload_form

MAX_ELEMENTS = 64


@pytest.fixture
def api(
    tmp_path: Path, redis_server: EmbeddedRedis
) -> Iterator[tuple[TestClient, str, redis.Redis]]:
    settings = HubSettings(
        store_dir=tmp_path,
        redis_url=redis_server.url,
        max_tensor_elements=MAX_ELEMENTS,
        job_deadline=2.0,
        ready_cache_seconds=0,
    )
    r = redis.Redis.from_url(redis_server.url)
    r.flushdb()
    with TestClient(create_app(settings)) as client:
        data = sample_model_path("mlp_regressor").read_bytes()
        owner = Account.create()
        resp = client.post(
            "/v1/models", **upload_form(data, owner, name="mlp", hub_id=hub_id_of(client))
        )
        assert resp.status_code == 201
        yield client, resp.json()["cid"], r
    r.close()


def _refused(api, body: object, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    client, _, r = api
    resp = client.post("/v1/infer", json=body)
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and words in detail, detail
    assert r.llen(INFER_QUEUE) == 0  # nothing was queued


def test_invalid_unknown_input_name(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"modelCID": api[1], "input": {"z": [[1, 2, 3, 4]]}}, 422, "unknown input 'z'")


def test_invalid_missing_input(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"modelCID": api[1], "input": {}}, 422, "missing input 'x'")


def test_invalid_shape(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"modelCID": api[1], "input": {"x": [[1, 2, 3]]}}, 422, "'x'")


def test_invalid_dtype_strings_for_float_input(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"modelCID": api[1], "input": {"x": [["a", "b", "c", "d"]]}}, 422, "strings")


def test_invalid_tensor_too_large(api) -> None:  # type: ignore[no-untyped-def]
    rows = [[1.0, 2.0, 3.0, 4.0]] * (MAX_ELEMENTS // 4 + 1)
    _refused(api, {"modelCID": api[1], "input": {"x": rows}}, 422, f"limit of {MAX_ELEMENTS}")


def test_invalid_unknown_model(api) -> None:  # type: ignore[no-untyped-def]
    body = {"modelCID": model_cid(b"nothing"), "input": {"x": [[1, 2, 3, 4]]}}
    _refused(api, body, 404, "upload it first")


def test_invalid_malformed_cid(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"modelCID": "bafy-nope", "input": {"x": [[1, 2, 3, 4]]}}, 400, "content id")


@pytest.mark.parametrize("mode", [3, "optimistic"])
def test_invalid_unsupported_modes(api, mode) -> None:  # type: ignore[no-untyped-def]
    body = {"modelCID": api[1], "mode": mode, "input": {"x": [[1, 2, 3, 4]]}}
    _refused(api, body, 422, "not supported by this hub yet")


@pytest.mark.parametrize("mode", [1, "ZK"])
def test_invalid_zk_for_a_model_without_circuit(api, mode) -> None:  # type: ignore[no-untyped-def]
    body = {"modelCID": api[1], "mode": mode, "input": {"x": [[1, 2, 3, 4]]}}
    _refused(api, body, 422, "has no ZK circuit; upload it with zk=true")


def test_invalid_unknown_mode(api) -> None:  # type: ignore[no-untyped-def]
    body = {"modelCID": api[1], "mode": "FAST", "input": {"x": [[1, 2, 3, 4]]}}
    _refused(api, body, 422, "unknown mode 'FAST'")


def test_invalid_malformed_json(api) -> None:  # type: ignore[no-untyped-def]
    client, _, r = api
    resp = client.post(
        "/v1/infer",
        content=b'{"modelCID": "x", "input": {',
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 422
    assert "invalid request" in resp.json()["detail"]
    assert r.llen(INFER_QUEUE) == 0


def test_invalid_body_fields(api) -> None:  # type: ignore[no-untyped-def]
    _refused(api, {"model": api[1]}, 422, "modelCID")


def test_queued_job_is_pending_then_failed_after_its_deadline(api) -> None:  # type: ignore[no-untyped-def]
    """No worker runs here: the job waits in the queue, its status says so, and once its
    deadline passed the status says that no sprinter answered."""
    client, cid, r = api
    body = {"modelCID": cid, "mode": "vanilla", "input": {"x": [[1, 2, 3, 4]]}}
    resp = client.post("/v1/infer?wait=false", json=body)
    assert resp.status_code == 202
    job_id = resp.json()["jobId"]
    assert r.llen(INFER_QUEUE) == 1
    assert client.get(f"/v1/jobs/{job_id}").json() == {
        "status": "pending",
        "result": None,
        "error": None,
    }
    # The same request again is the same job: not queued twice.
    assert client.post("/v1/infer?wait=false", json=body).json() == {"jobId": job_id}
    assert r.llen(INFER_QUEUE) == 1
    r.set(keys.job_key(0, job_id), '{"deadline": 0, "submitted": 0}')  # let it expire
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "failed" and "deadline" in view["error"]


def test_waiting_without_workers_times_out_with_504(api) -> None:  # type: ignore[no-untyped-def]
    client, cid, _ = api
    resp = client.post("/v1/infer", json={"modelCID": cid, "input": {"x": [[9, 9, 9, 9]]}})
    assert resp.status_code == 504
    assert "no sprinter answered" in resp.json()["detail"]


def test_invalid_job_ids(api) -> None:  # type: ignore[no-untyped-def]
    client = api[0]
    assert client.get("/v1/jobs/1234").status_code == 400
    resp = client.get("/v1/jobs/0x" + "00" * 32)
    assert resp.status_code == 404 and "no job" in resp.json()["detail"]


def test_health_ready_and_metrics(api) -> None:  # type: ignore[no-untyped-def]
    client = api[0]
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")  # Redis is up but no worker runs
    assert ready.status_code == 503 and "no sprinter worker" in ready.json()["detail"]
    client.post("/v1/infer", json={"modelCID": api[1], "mode": 1, "input": {"x": [[1, 2, 3, 4]]}})
    text = client.get("/metrics").text
    assert (
        'neurostack_hub_http_requests_total{method="POST",route="/v1/infer",status="422"} 1.0'
        in text
    )
    assert "neurostack_hub_jobs_completed 0.0" in text
    assert client.get("/openapi.json").json()["paths"]["/v1/infer"]["post"]


def test_invalid_body_larger_than_the_request_limit(
    tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    settings = HubSettings(store_dir=tmp_path, redis_url=redis_server.url, max_request_bytes=1000)
    with TestClient(create_app(settings)) as client:
        rows = [[1.0, 2.0, 3.0, 4.0]] * 100
        resp = client.post("/v1/infer", json={"modelCID": model_cid(b"m"), "input": {"x": rows}})
    assert resp.status_code == 413
    assert "limit of 1000 bytes" in resp.json()["detail"]


def test_invalid_broker_down_is_503_not_a_trace(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    settings = HubSettings(store_dir=tmp_path / "store", redis_url=server.url)
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            data = sample_model_path("mlp_regressor").read_bytes()
            cid = client.post(
                "/v1/models",
                **upload_form(data, Account.create(), name="m", hub_id=hub_id_of(client)),
            ).json()["cid"]
            server.stop()
            resp = client.post("/v1/infer", json={"modelCID": cid, "input": {"x": [[1, 2, 3, 4]]}})
            assert resp.status_code == 503
            assert "Redis" in resp.json()["detail"]
            ready = client.get("/ready")
            assert ready.status_code == 503 and "unreachable" in ready.json()["detail"]
    finally:
        server.stop()
