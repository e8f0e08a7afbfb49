"""``/v1/models``: signed uploads, content ids, and every refusal leaving the store clean."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from fastapi.testclient import TestClient

from neurostack.hub.app import create_app
from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.samples import sample_model_path
from neurostack.hub.settings import HubSettings
from neurostack.protocol.cid import model_cid
from neurostack.protocol.uploads import model_upload, sign_upload, upload_typed_data

from .helpers import store_files
from .stack import hub_id_of, upload_form

LIMIT = 4096
OWNER = Account.create()


@pytest.fixture
def client(tmp_path: Path, redis_server: EmbeddedRedis) -> Iterator[TestClient]:
    settings = HubSettings(store_dir=tmp_path, redis_url=redis_server.url, max_upload_bytes=LIMIT)
    with TestClient(create_app(settings)) as c:
        yield c


def _upload(client: TestClient, data: bytes, **kw):  # type: ignore[no-untyped-def]
    name = kw.pop("name", "m")
    return client.post(
        "/v1/models", **upload_form(data, OWNER, name=name, hub_id=_hub(client), **kw)
    )


def _hub(client: TestClient) -> bytes:
    return hub_id_of(client)


def _assert_refused(client: TestClient, tmp_path: Path, response, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert store_files(tmp_path) == []  # not even a temporary file remains


def test_upload_then_list_show_and_download(client: TestClient) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    r = _upload(client, data, name="mlp", version="2", description="tiny")
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["cid"] == model_cid(data)
    assert (record["owner"], record["name"], record["version"]) == (OWNER.address, "mlp", "2")
    assert record["inputs"] == [{"name": "x", "dtype": "float32", "shape": [None, 4]}]
    assert client.get("/v1/models").json() == [record]
    assert client.get(f"/v1/models/{record['cid']}").json() == record
    file = client.get(f"/v1/models/{record['cid']}/file")
    assert file.status_code == 200 and file.content == data


def test_same_bytes_twice_answer_200_with_the_same_cid(client: TestClient) -> None:
    data = sample_model_path("text_classifier").read_bytes()
    first = _upload(client, data)
    again = _upload(client, data, name="other-name")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_invalid_non_onnx_upload(client: TestClient, tmp_path: Path) -> None:
    r = _upload(client, b"PK\x03\x04 a zip file, not a model" * 4)
    _assert_refused(client, tmp_path, r, 422, "not an ONNX model")


def test_invalid_corrupt_onnx_upload(client: TestClient, tmp_path: Path) -> None:
    model = onnx.load(sample_model_path("mlp_regressor"))
    model.graph.node[1].op_type = "NoSuchOperator"
    r = _upload(client, model.SerializeToString())
    _assert_refused(client, tmp_path, r, 422, "ONNX model is invalid")


def test_invalid_truncated_onnx_upload(client: TestClient, tmp_path: Path) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    r = _upload(client, data[: len(data) // 2])
    assert r.status_code == 422, r.text
    assert store_files(tmp_path) == []


def test_invalid_oversized_upload(client: TestClient, tmp_path: Path) -> None:
    r = _upload(client, b"\x08" * (LIMIT + 1))
    _assert_refused(client, tmp_path, r, 413, f"limit of {LIMIT} bytes")


def test_invalid_oversized_upload_refused_from_content_length(
    client: TestClient, tmp_path: Path
) -> None:
    r = _upload(client, b"\x08" * (LIMIT + 300 * 1024))
    _assert_refused(client, tmp_path, r, 413, "larger than this hub's limit")


def test_invalid_upload_signed_by_another_key(client: TestClient, tmp_path: Path) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    form = upload_form(data, OWNER, name="m", hub_id=_hub(client), signer=Account.create())
    r = client.post("/v1/models", **form)
    _assert_refused(client, tmp_path, r, 403, f"does not authorise this upload for {OWNER.address}")


def test_invalid_upload_without_signature(client: TestClient, tmp_path: Path) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    form = upload_form(data, OWNER, name="m", hub_id=_hub(client))
    form["data"]["signature"] = ""
    r = client.post("/v1/models", **form)
    _assert_refused(client, tmp_path, r, 401, "not signed")


def test_invalid_upload_with_garbage_signature(client: TestClient, tmp_path: Path) -> None:
    form = upload_form(
        sample_model_path("mlp_regressor").read_bytes(), OWNER, name="m", hub_id=_hub(client)
    )
    form["data"]["signature"] = "0x1234"
    _assert_refused(client, tmp_path, client.post("/v1/models", **form), 401, "malformed")


def test_invalid_upload_signature_over_other_bytes(client: TestClient, tmp_path: Path) -> None:
    """A signature is bound to the file: reusing it for another model is refused."""
    form = upload_form(
        sample_model_path("mlp_regressor").read_bytes(), OWNER, name="m", hub_id=_hub(client)
    )
    other = sample_model_path("text_classifier").read_bytes()
    form["files"] = {"file": ("m.onnx", other, "application/octet-stream")}
    r = client.post("/v1/models", **form)
    assert r.status_code == 403 and store_files(tmp_path) == []


def _replayed(client: TestClient, data: bytes, signature: bytes, **fields: str):  # type: ignore[no-untyped-def]
    form = upload_form(data, OWNER, hub_id=_hub(client), signature=signature, **fields)  # type: ignore[arg-type]
    return client.post("/v1/models", **form)


@pytest.mark.parametrize(
    "trick",
    ["personal-sign of the digest", "another hub", "another name", "another version",
     "another description", "another EIP-712 domain"],
)  # fmt: skip
def test_invalid_upload_with_a_signature_made_for_something_else(
    client: TestClient, tmp_path: Path, trick: str
) -> None:
    """Each replay trick gets the same 403: a signature is good for one upload on one hub."""
    data = sample_model_path("mlp_regressor").read_bytes()
    digest = hashlib.sha256(data).digest()
    signed = model_upload(_hub(client), digest, "m", "1", "")
    if trick == "personal-sign of the digest":  # the old format, or a 32-byte "login challenge"
        signature = Account.sign_message(encode_defunct(primitive=digest), OWNER.key).signature
    elif trick == "another hub":
        signature = sign_upload(dataclasses.replace(signed, hub_id=b"\x01" * 32), OWNER.key)
    elif trick == "another EIP-712 domain":
        typed = upload_typed_data(signed)
        typed["domain"]["name"] = "Some Login Page"
        signature = Account.sign_message(encode_typed_data(full_message=typed), OWNER.key).signature
    else:
        signature = sign_upload(signed, OWNER.key)
    sent = {"another name": {"name": "m2"}, "another version": {"version": "2"},
            "another description": {"description": "changed"}}.get(trick, {})  # fmt: skip
    r = _replayed(client, data, bytes(signature), **{"name": "m", **sent})
    _assert_refused(client, tmp_path, r, 403, "does not authorise this upload")
    assert _upload(client, data).status_code == 201  # the owner's own signature still works


def test_hub_id_is_kept_in_the_store_and_can_be_set(
    tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    settings = HubSettings(store_dir=tmp_path, redis_url=redis_server.url)
    with TestClient(create_app(settings)) as first:
        hub_id = _hub(first)
        info = first.get("/v1/hub").json()
    assert info["upload"]["domain"] == {
        "name": "NeuroStack Hub", "version": "1", "salt": "0x" + hub_id.hex()
    }  # fmt: skip
    with TestClient(create_app(settings)) as again:
        assert _hub(again) == hub_id
    chosen = "0x" + "42" * 32
    with TestClient(create_app(settings.model_copy(update={"hub_id": chosen}))) as configured:
        assert _hub(configured).hex() == "42" * 32


def test_invalid_upload_not_multipart(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/models", json={"file": "abc"})
    _assert_refused(client, tmp_path, r, 422, "multipart/form-data")


def test_invalid_upload_without_file(client: TestClient, tmp_path: Path) -> None:
    form = upload_form(b"x", OWNER, name="m", hub_id=_hub(client))
    r = client.post("/v1/models", data=form["data"], files={"other": ("a", b"b")})
    _assert_refused(client, tmp_path, r, 422, "unknown form field 'other'")


def test_invalid_unknown_cid_is_404(client: TestClient) -> None:
    cid = model_cid(b"never uploaded")
    for path in (f"/v1/models/{cid}", f"/v1/models/{cid}/file"):
        r = client.get(path)
        assert r.status_code == 404 and "upload it first" in r.json()["detail"]


def test_invalid_malformed_cid_is_400(client: TestClient) -> None:
    r = client.get("/v1/models/QmNotAValidCidAtAll")
    assert r.status_code == 400 and "content id" in r.json()["detail"]
