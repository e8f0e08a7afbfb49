"""``/v1/models``: signed uploads, content ids, and every refusal leaving the store clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from neurostack.hub.app import create_app
from neurostack.hub.broker import EmbeddedRedis
from neurostack.hub.samples import sample_model_path
from neurostack.hub.settings import HubSettings
from neurostack.protocol.cid import model_cid

from .helpers import store_files
from .stack import upload_form

LIMIT = 4096
OWNER = Account.create()


@pytest.fixture
def client(tmp_path: Path, redis_server: EmbeddedRedis) -> Iterator[TestClient]:
    settings = HubSettings(store_dir=tmp_path, redis_url=redis_server.url, max_upload_bytes=LIMIT)
    with TestClient(create_app(settings)) as c:
        yield c


def _upload(client: TestClient, data: bytes, **kw):  # type: ignore[no-untyped-def]
    return client.post("/v1/models", **upload_form(data, OWNER, name=kw.pop("name", "m"), **kw))


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
    form = upload_form(data, OWNER, name="m", signer=Account.create())
    r = client.post("/v1/models", **form)
    _assert_refused(client, tmp_path, r, 403, f"not by the owner {OWNER.address}")


def test_invalid_upload_without_signature(client: TestClient, tmp_path: Path) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    form = upload_form(data, OWNER, name="m")
    form["data"]["signature"] = ""
    r = client.post("/v1/models", **form)
    _assert_refused(client, tmp_path, r, 401, "not signed")


def test_invalid_upload_with_garbage_signature(client: TestClient, tmp_path: Path) -> None:
    form = upload_form(sample_model_path("mlp_regressor").read_bytes(), OWNER, name="m")
    form["data"]["signature"] = "0x1234"
    _assert_refused(client, tmp_path, client.post("/v1/models", **form), 401, "malformed")


def test_invalid_upload_signature_over_other_bytes(client: TestClient, tmp_path: Path) -> None:
    """A signature is bound to the file: reusing it for another model is refused."""
    form = upload_form(sample_model_path("mlp_regressor").read_bytes(), OWNER, name="m")
    other = sample_model_path("text_classifier").read_bytes()
    form["files"] = {"file": ("m.onnx", other, "application/octet-stream")}
    r = client.post("/v1/models", **form)
    assert r.status_code == 403 and store_files(tmp_path) == []


def test_invalid_upload_not_multipart(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/models", json={"file": "abc"})
    _assert_refused(client, tmp_path, r, 422, "multipart/form-data")


def test_invalid_upload_without_file(client: TestClient, tmp_path: Path) -> None:
    form = upload_form(b"x", OWNER, name="m")
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
