"""The hub's ZK setup queue (neurostack.hub.zk_setup) through the API: a setup past its
timeout fails with the reason, an interrupted one runs again at the next start, and a
worker with its own store fetches the artefacts from the hub, checking their hashes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from eth_account import Account
from fastapi.testclient import TestClient

from neurostack.hub.app import create_app
from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.errors import JobRejected
from neurostack.hub.samples import sample_model_path
from neurostack.hub.settings import HubSettings
from neurostack.hub.zk_prover import ZkProver
from neurostack.hub.zk_store import ZkStore
from neurostack.protocol.jobs import InferenceJob
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import encode_model_input, model_input_from_mapping
from neurostack.zk import verify

from .stack import hub_id_of, upload_form

pytestmark = pytest.mark.slow
OWNER = Account.create()


def _upload_zk(client: TestClient) -> str:
    data = sample_model_path("mlp_regressor").read_bytes()
    form = upload_form(data, OWNER, name="mlp", hub_id=hub_id_of(client))
    form["data"]["zk"] = "true"
    response = client.post("/v1/models", **form)
    assert response.status_code == 201, response.text
    assert response.json()["zk"]["status"] == "pending"
    return str(response.json()["cid"])


def _wait(client: TestClient, cid: str, timeout: float = 120) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        zk = client.get(f"/v1/models/{cid}").json()["zk"]
        if zk["status"] != "pending":
            return zk  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the setup never ended")


@pytest.fixture
def hub(tmp_path: Path, redis_server: EmbeddedRedis) -> Iterator[HubSettings]:
    redis.Redis.from_url(redis_server.url).flushdb()
    yield HubSettings(store_dir=tmp_path / "store", redis_url=redis_server.url)


def test_invalid_setup_past_its_timeout_fails_with_the_reason(hub: HubSettings) -> None:
    settings = hub.model_copy(update={"zk_setup_timeout": 0.05})
    with TestClient(create_app(settings)) as client:
        zk = _wait(client, _upload_zk(client))
    assert zk["status"] == "failed"
    assert "longer than 0.05 s (zk_setup_timeout)" in zk["reason"]
    assert list((settings.store_dir / "zk" / "work").iterdir()) == []


def test_interrupted_setup_runs_again_at_start_then_serves_its_artefacts(
    hub: HubSettings, tmp_path: Path
) -> None:
    with TestClient(create_app(hub)) as client:  # the hub stops while the setup runs
        cid = _upload_zk(client)
    record = ZkStore(hub.store_dir).record(cid)
    assert record is not None and record.status == "pending"  # not failed: it was cut short
    with TestClient(create_app(hub)) as client:
        zk = _wait(client, cid)
        assert zk["status"] == "ready", zk["reason"]
        assert [s["name"] for s in zk["steps"]][-1] == "test proof"
        # a worker with a store of its own: everything comes from the hub, hash-checked
        http = client  # a TestClient is an httpx.Client
        worker_store = tmp_path / "worker-store"
        prover = ZkProver(HubSettings(store_dir=worker_store, hub_url="http://testserver"), http)
        circuit = prover.circuit(cid)
        input_abi = encode_model_input(model_input_from_mapping({"x": [[0.5, -1.0, 2.0, 0.25]]}))
        job = InferenceJob(
            request_id(0, cid, InferenceMode.ZK, input_abi), 0, cid, InferenceMode.ZK,
            input_abi, 2**40, time.time() + 60,
        )  # fmt: skip
        output_abi, proof = prover.prove(job)
        verify(proof, circuit.verifying_key, circuit.settings_bytes, input_abi, output_abi,
               srs=circuit.srs)  # fmt: skip
        # a corrupt local copy is noticed and fetched again
        blob = worker_store / "zk" / "blobs" / zk["verifyingKeyHash"][2:]
        blob.write_bytes(b"corrupt")
        fresh = ZkProver(HubSettings(store_dir=worker_store, hub_url="http://testserver"), http)
        assert fresh.circuit(cid).verifying_key == circuit.verifying_key
        # without a hub URL and without the files, the job is refused with what to do
        lonely = ZkProver(HubSettings(store_dir=tmp_path / "empty"), None)
        with pytest.raises(JobRejected, match="no ZK circuit"):
            lonely.prove(job)


def test_ceremony_srs_directory_is_used_and_nothing_is_generated(
    hub: HubSettings, tmp_path: Path
) -> None:
    import hashlib

    import ezkl

    ceremony = tmp_path / "ceremony"
    ceremony.mkdir()
    ezkl.gen_srs(str(ceremony / "kzg10.srs"), 10)  # stands in for a downloaded ceremony file
    settings = hub.model_copy(update={"zk_srs_dir": ceremony})
    with TestClient(create_app(settings)) as client:
        zk = _wait(client, _upload_zk(client))
    assert zk["status"] == "ready", zk["reason"]
    assert zk["developmentSrs"] is False
    assert zk["srsHash"] == "0x" + hashlib.sha256((ceremony / "kzg10.srs").read_bytes()).hexdigest()
    assert list((settings.store_dir / "zk" / "srs").iterdir()) == []
