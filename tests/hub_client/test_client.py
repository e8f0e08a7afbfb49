"""HubClient against the in-process fake hub: parsing, receipt verification, uploads, jobs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from hub_client import (
    HubClient,
    HubError,
    InferenceMode,
    InvalidInput,
    JobNotFound,
    ModelNotFound,
    ReceiptInvalid,
    UploadRejected,
)
from neurostack.protocol.cid import model_cid

from .fakehub import (
    MODEL_CID,
    OTHER_KEY,
    SPRINTER,
    FakeHub,
    answer_another_request,
    expired,
    forge_sprinter_field,
    model_record,
    run_another_model,
    sign_another_model_hash,
    sign_with_other_key,
    tamper_output,
    xs,
)

OWNER_KEY = "0x" + "33" * 32


def client_for(hub: FakeHub, **kwargs: Any) -> HubClient:
    return HubClient("http://hub.test", transport=httpx.MockTransport(hub.handle), **kwargs)


def test_infer_returns_outputs_and_a_verified_receipt() -> None:
    with client_for(FakeHub()) as hub:
        result = hub.infer(MODEL_CID, {"x": xs()})
    np.testing.assert_allclose(result.arrays()["y"], xs().sum(axis=1, keepdims=True))
    assert result.verified
    assert to_checksum_address(result.signer) == SPRINTER
    assert result.request_id == result.receipt.request_id
    assert result.worker == "fake-sprinter"


def test_infer_accepts_nested_lists_and_mode_names() -> None:
    with client_for(FakeHub()) as hub:
        result = hub.infer(MODEL_CID, {"x": [[1.5, 2.0, 0.25, 0.25]]}, mode="tee")
    assert result.receipt.mode == InferenceMode.TEE
    assert result.arrays()["y"].tolist() == [[4.0]]


@pytest.mark.parametrize(
    "tamper",
    [
        tamper_output,
        answer_another_request,
        forge_sprinter_field,
        expired,
        run_another_model,
        sign_another_model_hash,
    ],
    ids=[
        "tampered-output",
        "wrong-request-id",
        "forged-sprinter",
        "expired",
        "other-model",
        "other-model-hash",
    ],
)
def test_invalid_receipt_is_refused(tamper: Any) -> None:
    with client_for(FakeHub(tamper=tamper)) as hub, pytest.raises(ReceiptInvalid) as caught:
        hub.infer(MODEL_CID, {"x": xs()})
    assert "do not use" in str(caught.value)


def test_invalid_receipt_from_an_unexpected_signer() -> None:
    hub = FakeHub(tamper=sign_with_other_key)
    with (
        client_for(hub, expected_signers=[SPRINTER]) as client,
        pytest.raises(ReceiptInvalid, match="not an expected signer"),
    ):
        client.infer(MODEL_CID, {"x": xs()})
    # the same answer is acceptable to a client that trusts any sprinter
    with client_for(hub) as client:
        signer = client.infer(MODEL_CID, {"x": xs()}).signer
    assert to_checksum_address(signer) == Account.from_key(OTHER_KEY).address


def test_verification_can_be_turned_off() -> None:
    with client_for(FakeHub(tamper=tamper_output), verify_receipts=False) as hub:
        result = hub.infer(MODEL_CID, {"x": xs()})
    assert not result.verified
    assert result.arrays()["y"].shape == (2, 1)


def test_verify_receipt_checks_a_stored_receipt() -> None:
    with client_for(FakeHub()) as hub:
        result = hub.infer(MODEL_CID, {"x": xs()})
        assert hub.verify_receipt(result.receipt, chain_id=0) == result.signer
        with pytest.raises(ReceiptInvalid, match="chain"):
            hub.verify_receipt(result.receipt, chain_id=7)
        with pytest.raises(ReceiptInvalid):
            hub.verify_receipt(
                result.receipt, expected_signers=[Account.from_key(OTHER_KEY).address]
            )


def test_invalid_inputs_are_refused_before_sending() -> None:
    hub = FakeHub()
    with client_for(hub) as client:
        with pytest.raises(InvalidInput, match="mapping"):
            client.infer(MODEL_CID, [1.0, 2.0])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="mode"):
            client.infer(MODEL_CID, {"x": xs()}, mode="turbo")
        with pytest.raises(InvalidInput, match="CID"):
            client.get_model("not-a-cid")


def test_invalid_model_cid_gives_model_not_found() -> None:
    unknown = model_cid(b"nobody uploaded this")
    with client_for(FakeHub()) as hub:
        with pytest.raises(ModelNotFound) as caught:
            hub.infer(unknown, {"x": xs()})
        assert caught.value.status == 404
        assert unknown in caught.value.detail
        with pytest.raises(ModelNotFound):
            hub.get_model(unknown)


def test_submit_then_get_job_verifies_against_what_was_submitted() -> None:
    with client_for(FakeHub()) as hub:
        job_id = hub.submit(MODEL_CID, {"x": xs()})
        status = hub.get_job(job_id)
        assert status.done and status.result is not None and status.result.verified
        with pytest.raises(JobNotFound):
            hub.get_job("job-unknown")
    with client_for(FakeHub(tamper=answer_another_request)) as hub:
        job_id = hub.submit(MODEL_CID, {"x": xs()})
        with pytest.raises(ReceiptInvalid):
            hub.get_job(job_id)


def test_models_are_listed_and_shown() -> None:
    with client_for(FakeHub()) as hub:
        [info] = hub.list_models()
        assert info.cid == MODEL_CID
        assert info.inputs[0].name == "x" and info.inputs[0].shape == (None, 4)
        assert hub.get_model(MODEL_CID) == info


def test_upload_signs_the_upload_for_this_hub_as_the_owner(tmp_path: Path) -> None:
    """The fake hub checks the EIP-712 signature with its own id, as the real one does."""
    data = b"\x08\x07" * 50_000
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    hub = FakeHub()
    with client_for(hub) as client:
        info = client.upload_model(path, private_key=OWNER_KEY, name="mine", description="d")
    assert info.cid == model_cid(data)
    [sent] = hub.uploads
    assert sent["file"] == data
    assert sent["owner"] == Account.from_key(OWNER_KEY).address
    assert (sent["name"], sent["version"], sent["description"]) == ("mine", "1", "d")


def test_upload_shows_progress_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x01" * 300_000)
    with client_for(FakeHub()) as client:
        client.upload_model(path, private_key=OWNER_KEY, name="m", progress="always")
        assert "m.onnx" in capsys.readouterr().err
        client.upload_model(path, private_key=OWNER_KEY, name="m")  # stderr is no TTY here
        assert capsys.readouterr().err == ""


def test_invalid_upload_key_and_path(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"x")
    with client_for(FakeHub()) as client:
        with pytest.raises(UploadRejected, match="private key"):
            client.upload_model(path, private_key="0x1234", name="m")
        with pytest.raises(UploadRejected, match="cannot read"):
            client.upload_model(tmp_path / "missing.onnx", private_key=OWNER_KEY, name="m")


def test_invalid_upload_answer_with_another_cid(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"model bytes")

    def lying_hub(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/hub":
            return httpx.Response(200, json={"hubId": "0x" + "5a" * 32})
        return httpx.Response(201, json=model_record(b"other bytes"))

    with (
        HubClient("http://hub.test", transport=httpx.MockTransport(lying_hub)) as client,
        pytest.raises(HubError, match="not the CID of its bytes"),
    ):
        client.upload_model(path, private_key=OWNER_KEY, name="m")


def test_download_checks_the_cid(tmp_path: Path) -> None:
    hub = FakeHub()
    with client_for(hub) as client:
        path = client.download_model(MODEL_CID, tmp_path)
        assert path == tmp_path / f"{MODEL_CID}.onnx"
        assert path.read_bytes() == hub.files[MODEL_CID]
        hub.files[MODEL_CID] = b"swapped bytes"
        target = tmp_path / "copy.onnx"
        with pytest.raises(HubError, match="does not match"):
            client.download_model(MODEL_CID, target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{MODEL_CID}.onnx"]


def test_receipts_expire_by_wall_clock() -> None:
    with client_for(FakeHub()) as hub:
        result = hub.infer(MODEL_CID, {"x": xs()})
    from hub_client import verify_receipt

    assert verify_receipt(result.receipt, now=result.receipt.expiry) == result.signer
    with pytest.raises(ReceiptInvalid):
        verify_receipt(result.receipt, now=int(time.time()) + 3600)
