"""The real stack (embedded redis-server, the API under uvicorn, two Celery worker
processes) over HTTP: outputs equal a direct onnxruntime run, receipts verify and are
signed by one of the stack's workers, bad requests get their 4xx."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import numpy as np
import pytest

from neurostack.hub.samples import sample_model_path
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest
from neurostack.protocol.receipts import check_receipt, receipt_from_json
from neurostack.protocol.tensors import model_output_from_json, model_output_to_arrays
from tests.hub.stack import HubStack

from .helpers import run_onnx, store_files

pytestmark = pytest.mark.slow


def _infer(stack: HubStack, cid: str, x: list[list[float]], mode: object = "VANILLA") -> dict:  # type: ignore[type-arg]
    r = httpx.post(
        stack.url + "/v1/infer", json={"modelCID": cid, "mode": mode, "input": {"x": x}}, timeout=60
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _check(stack: HubStack, body: dict, cid: str) -> None:  # type: ignore[type-arg]
    receipt = receipt_from_json(body["receipt"])
    signer = check_receipt(
        receipt,
        chain_id=0,
        model_hash=cid_digest(cid),
        now=int(time.time()),
        request_id=bytes.fromhex(body["requestId"][2:]),
    )
    addresses = {bytes.fromhex(w.address[2:]) for w in stack.workers.values()}
    assert bytes(signer) in addresses
    assert body["worker"] in stack.workers
    assert model_output_from_json(body["output"]) is not None


@pytest.mark.parametrize("name", ["mlp_regressor", "text_classifier"])
def test_outputs_equal_a_direct_onnxruntime_run(hub_stack: HubStack, name: str) -> None:
    path = sample_model_path(name)
    cid = hub_stack.upload(path)["cid"]
    x = np.random.default_rng(3).normal(size=(3, 4)).astype(np.float32)
    body = _infer(hub_stack, cid, x.tolist())
    _check(hub_stack, body, cid)
    got = model_output_to_arrays(model_output_from_json(body["output"]))
    for out, expected in run_onnx(path, {"x": x}).items():
        if expected.dtype == object:
            assert got[out].tolist() == expected.tolist()
        else:
            np.testing.assert_array_equal(got[out].astype(np.float32), expected)


def test_tee_mode_and_asynchronous_jobs(hub_stack: HubStack) -> None:
    cid = hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]
    body = {"modelCID": cid, "mode": 2, "input": {"x": [[4.0, 3.0, 2.0, 1.0]]}}
    with hub_stack.client() as c:
        job_id = c.post("/v1/infer?wait=false", json=body).json()["jobId"]
        end, view = time.monotonic() + 30, {}
        while time.monotonic() < end:
            view = c.get(f"/v1/jobs/{job_id}").json()
            if view["status"] != "pending":
                break
            time.sleep(0.05)
    assert view["status"] == "done", view
    assert view["result"]["requestId"] == job_id
    assert view["result"]["receipt"]["mode"] == 2
    _check(hub_stack, view["result"], cid)


def test_identical_concurrent_requests_share_one_inference(hub_stack: HubStack) -> None:
    cid = hub_stack.upload(sample_model_path("text_classifier"))["cid"]
    x = [[0.25, 0.5, 0.75, 1.0]]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda _: _infer(hub_stack, cid, x), range(6)))
    assert len({b["requestId"] for b in bodies}) == 1
    assert len({b["receipt"]["signature"] for b in bodies}) == 1  # one receipt for all
    rid = bodies[0]["requestId"]
    assert int(hub_stack.redis_client().get(keys.completed_key(0, rid))) == 1


def test_different_requests_run_on_both_workers(hub_stack: HubStack) -> None:
    cid = hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        bodies = list(pool.map(lambda i: _infer(hub_stack, cid, [[float(i), 1, 2, 3]]), range(24)))
    assert len({b["requestId"] for b in bodies}) == 24
    assert {b["worker"] for b in bodies} == set(hub_stack.workers)


def test_metrics_count_completed_jobs_once(hub_stack: HubStack) -> None:
    cid = hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]
    total = int(hub_stack.redis_client().get(keys.COMPLETED_TOTAL) or 0)
    x = [[7.0, 7.0, 7.0, 7.5]]
    _infer(hub_stack, cid, x)
    _infer(hub_stack, cid, x)  # answered from the stored result
    text = httpx.get(hub_stack.url + "/metrics").text
    assert f"neurostack_hub_jobs_completed {float(total + 1)}" in text
    assert 'neurostack_hub_inferences_total{mode="VANILLA",outcome="ok"}' in text


def test_ready_lists_both_workers(hub_stack: HubStack) -> None:
    r = httpx.get(hub_stack.url + "/ready")
    assert r.status_code == 200
    assert sorted(w.split("@")[0] for w in r.json()["workers"]) == sorted(hub_stack.workers)


def test_invalid_requests_over_http_leave_the_store_as_it_was(hub_stack: HubStack) -> None:
    cid = hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]
    before = store_files(hub_stack.store_dir)
    with hub_stack.client() as c:
        cases = [
            (
                c.post(
                    "/v1/models",
                    files={"file": ("a.onnx", b"not onnx")},
                    data={"owner": hub_stack.owner.address, "signature": "0x00", "name": "a"},
                ),
                401,
            ),
            (c.post("/v1/infer", json={"modelCID": cid, "input": {"x": [[1, 2]]}}), 422),
            (c.post("/v1/infer", json={"modelCID": cid, "input": {"y": [[1, 2, 3, 4]]}}), 422),
            (
                c.post(
                    "/v1/infer", content=b"{not json", headers={"content-type": "application/json"}
                ),
                422,
            ),
            (c.get("/v1/models/bafkreiaaaa"), 400),
        ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert isinstance(response.json()["detail"], str)
    assert store_files(hub_stack.store_dir) == before
