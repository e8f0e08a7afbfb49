"""Mode ZK through the real hub: upload with zk, the background setup, proofs made by
Celery sprinters, verified by the SDK; and every way to get it wrong refused."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from hub_client import AsyncHubClient, HubClient, InferenceMode, InvalidInput, ReceiptInvalid
from hub_client._wire import parse_inference
from hub_client.verify import SentRequest
from neurostack.hub.samples import sample_model_path
from neurostack.protocol.receipts import receipt_from_json
from neurostack.protocol.tensors import encode_model_input, model_input_from_mapping
from neurostack.zk import SETUP_STEPS, parse_settings

from .helpers import run_onnx

pytestmark = pytest.mark.slow

X = np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)


def zk_mlp(path: Path, doc: str = "ZK test copy") -> Path:
    """The sample MLP, same weights, other bytes: a CID of its own on the shared hub."""
    model = onnx.load(str(sample_model_path("mlp_regressor")))
    model.doc_string = doc
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def zk_model(hub_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = zk_mlp(tmp_path_factory.mktemp("zk-hub") / "mlp_zk.onnx")
    seen: list[str] = []
    with HubClient(hub_stack.url) as hub:
        uploaded = hub.upload_model(path, private_key=hub_stack.owner.key, name="mlp-zk", zk=True)
        info = hub.wait_for_zk(
            uploaded.cid,
            timeout=240,
            poll=0.1,
            on_update=lambda i: seen.extend(s.name for s in (i.zk.steps if i.zk else ())),
        )
    return {"path": path, "uploaded": uploaded, "info": info, "seen": seen}


def test_upload_with_zk_makes_the_circuit_in_the_background(
    hub_stack: Any, zk_model: dict[str, Any]
) -> None:
    assert zk_model["uploaded"].zk is not None
    assert zk_model["uploaded"].zk.status in ("pending", "ready")  # the upload did not wait
    zk = zk_model["info"].zk
    assert zk.status == "ready", zk.reason
    assert [s.name for s in zk.steps] == list(SETUP_STEPS)
    assert all(s.seconds is not None and s.seconds >= 0 for s in zk.steps)
    assert zk.development_srs is True and zk.backend == "ezkl"
    assert zk.logrows == 10 and zk.input_scales == (13,) and zk.output_scales == (13,)
    assert zk.proof_bytes and zk.proof_bytes < 16 * 1024
    with hub_stack.client() as http:
        record = http.get(f"/v1/models/{zk_model['info'].cid}").json()["zk"]
        settings = http.get(f"/v1/zk/artifacts/{record['settingsHash']}")
        assert hashlib.sha256(settings.content).hexdigest() == record["settingsHash"][2:]
        parsed = parse_settings(settings.content)
        assert "0x" + parsed.verifying_key_sha256.hex() == record["verifyingKeyHash"]
        assert http.get("/v1/zk/artifacts/0x" + "ab" * 32).status_code == 404
        assert http.get("/v1/zk/artifacts/nothex").status_code == 400


def test_infer_zk_through_celery_returns_a_verified_proof(
    hub_stack: Any, zk_model: dict[str, Any]
) -> None:
    cid = zk_model["info"].cid
    with HubClient(hub_stack.url) as hub:
        result = hub.infer(cid, {"x": X}, mode="zk")  # signature and proof checked locally
    assert result.verified and result.receipt.mode == InferenceMode.ZK
    assert len(result.receipt.proof) == zk_model["info"].zk.proof_bytes
    y = result.arrays()["y"]
    reference = run_onnx(zk_model["path"], {"x": X})["y"]
    assert abs(y - reference).max() < 1e-3  # the circuit's quantised output
    assert result.output.numbers[0].values[0].decimals == 13


def test_async_client_verifies_zk_proofs(hub_stack: Any, zk_model: dict[str, Any]) -> None:
    async def run() -> Any:
        async with AsyncHubClient(hub_stack.url) as hub:
            return await hub.infer(zk_model["info"].cid, {"x": X / 2}, mode=InferenceMode.ZK)

    result = asyncio.run(run())
    assert result.verified and result.receipt.mode == InferenceMode.ZK


def test_submitted_zk_job_is_verified_too(hub_stack: Any, zk_model: dict[str, Any]) -> None:
    cid = zk_model["info"].cid
    with HubClient(hub_stack.url) as hub:
        job = hub.submit(cid, {"x": X * 2}, mode=InferenceMode.ZK)
        for _ in range(600):
            status = hub.get_job(job)
            if status.done:
                break
            time.sleep(0.1)
    assert status.status == "done" and status.result is not None and status.result.verified


def test_invalid_zk_receipts_rejected_by_the_sdk(hub_stack: Any, zk_model: dict[str, Any]) -> None:
    cid = zk_model["info"].cid
    input_abi = encode_model_input(model_input_from_mapping({"x": X}))
    with HubClient(hub_stack.url) as hub, hub_stack.client() as http:
        keys = hub.zk_keys(cid)
        body = http.post(
            "/v1/infer", json={"modelCID": cid, "mode": "ZK", "input": {"x": X.tolist()}}
        ).json()
    sent = SentRequest(cid, InferenceMode.ZK, input_abi)
    assert parse_inference(body, sent, verify=True, zk_keys=keys).verified

    def answer(**receipt_changes: Any) -> dict[str, Any]:
        return {**body, "receipt": {**body["receipt"], **receipt_changes}}

    proof = bytes.fromhex(body["receipt"]["proof"][2:])
    flipped = bytearray(proof)
    flipped[64] ^= 1
    # the proof is not covered by the signature: it proves itself or it is rejected
    for forged, words in (
        (answer(proof="0x" + bytes(flipped).hex()), "ZK proof is invalid"),
        (answer(proof="0x"), "ZK proof is invalid"),
        (answer(proof="0x" + (proof + b"\0").hex()), "ZK proof is invalid"),
    ):
        with pytest.raises(ReceiptInvalid, match=words):
            parse_inference(forged, sent, verify=True, zk_keys=keys)
    with pytest.raises(ReceiptInvalid, match="needs the model's circuit settings"):
        parse_inference(body, sent, verify=True)
    with pytest.raises(ReceiptInvalid, match="only be checked with the input"):
        parse_inference(body, None, verify=True, zk_keys=keys)
    # a proof for another input: the client's own input is what the proof must be about
    other = SentRequest(
        cid, InferenceMode.ZK, encode_model_input(model_input_from_mapping({"x": X * 3}))
    )
    with pytest.raises(ReceiptInvalid):
        parse_inference(body, other, verify=True, zk_keys=keys)
    assert receipt_from_json(body["receipt"]).proof == proof


def test_invalid_zk_requests_refused_before_queuing(
    hub_stack: Any, zk_model: dict[str, Any]
) -> None:
    cid = zk_model["info"].cid
    with hub_stack.client() as http:
        batch = http.post(
            "/v1/infer", json={"modelCID": cid, "mode": 1, "input": {"x": [[1, 2, 3, 4]] * 2}}
        )
        assert batch.status_code == 422
        assert "does not fit the circuit" in batch.json()["detail"]
        assert "[1, 4]" in batch.json()["detail"]
        plain_path = zk_mlp(zk_model["path"].with_name("plain.onnx"), "no circuit")
        plain = hub_stack.upload(plain_path, name="plain")
        none = http.post(
            "/v1/infer", json={"modelCID": plain["cid"], "mode": "ZK", "input": {"x": X.tolist()}}
        )
        assert none.status_code == 422 and "has no ZK circuit" in none.json()["detail"]
        bad = http.post(
            "/v1/models",
            files={"file": ("m.onnx", b"x", "application/octet-stream")},
            data={"zk": "maybe"},
        )
        assert bad.status_code == 422


def test_invalid_model_for_zk_fails_with_its_reason(hub_stack: Any) -> None:
    with HubClient(hub_stack.url) as hub:
        uploaded = hub.upload_model(
            sample_model_path("text_classifier"),
            private_key=hub_stack.owner.key,
            name="classifier",
            zk=True,
        )
        info = hub.wait_for_zk(uploaded.cid, timeout=120, poll=0.1)
        assert info.zk is not None and info.zk.status == "failed"
        assert "holds strings" in (info.zk.reason or "")
        with pytest.raises(InvalidInput, match="setup failed"):
            hub.infer(uploaded.cid, {"x": X}, mode="ZK")
        # VANILLA keeps working for it
        assert hub.infer(uploaded.cid, {"x": X}).verified
