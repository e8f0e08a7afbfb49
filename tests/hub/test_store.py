"""The content-addressed model store: atomic, idempotent, introspecting."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from neurostack.hub.errors import InvalidModel, ModelNotFound, ModelTooLarge
from neurostack.hub.samples import sample_model_path
from neurostack.hub.store import ModelStore, inspect_model
from neurostack.protocol.cid import model_cid
from neurostack.protocol.errors import InvalidCID

from .helpers import assert_store_unchanged, store_files


def _add(store: ModelStore, data: bytes, name: str = "m"):  # type: ignore[no-untyped-def]
    with store.upload() as sink:
        for i in range(0, len(data), 100):  # several chunks
            sink.write(data[i : i + 100])
        return store.add(sink, name=name, version="1", owner="0x" + "ab" * 20, description="d")


def test_add_stores_by_content_id_with_introspected_specs(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    data = sample_model_path("text_classifier").read_bytes()
    record, created = _add(store, data)
    assert created and record.cid == model_cid(data)
    assert (tmp_path / "models" / f"{record.cid}.onnx").read_bytes() == data
    assert [(t.name, t.dtype, t.shape) for t in record.inputs] == [("x", "float32", (None, 4))]
    assert [(t.name, t.dtype, t.shape) for t in record.outputs] == [
        ("label", "str", (None,)),
        ("probabilities", "float32", (None, 3)),
    ]
    assert record.size == len(data)
    assert store.get(record.cid) == record
    assert list(store.tmp_dir.iterdir()) == []


def test_same_bytes_twice_give_the_same_record(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    data = sample_model_path("mlp_regressor").read_bytes()
    first, created1 = _add(store, data, name="first")
    second, created2 = _add(store, data, name="second")
    assert (created1, created2) == (True, False)
    assert second == first  # the first upload's metadata stays
    assert [r.cid for r in store.list()] == [first.cid]


def test_list_is_oldest_first(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    a, _ = _add(store, sample_model_path("text_classifier").read_bytes())
    b, _ = _add(store, sample_model_path("mlp_regressor").read_bytes())
    assert [r.cid for r in store.list()] == [a.cid, b.cid]


def test_dynamic_dims_and_int_dtypes_are_reported(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["ids"], ["out"])],
        "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 7])],
        [helper.make_tensor_value_info("out", TensorProto.INT64, ["batch", 7])],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    inputs, _ = inspect_model(path)
    assert (inputs[0].dtype, inputs[0].shape) == ("int64", (None, 7))


def test_invalid_not_onnx_leaves_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    before = store_files(tmp_path)
    with pytest.raises(InvalidModel, match="not an ONNX model"):
        _add(store, b"this is a text file, not a model\n" * 10)
    assert_store_unchanged(store, before)


def test_invalid_corrupt_onnx_leaves_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    model = onnx.load(sample_model_path("mlp_regressor"))
    model.graph.node[0].input[1] = "no_such_tensor"  # dangling reference: checker rejects it
    before = store_files(tmp_path)
    with pytest.raises(InvalidModel, match="invalid"):
        _add(store, model.SerializeToString())
    assert_store_unchanged(store, before)


def test_invalid_oversized_upload_stops_at_the_limit(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=300)
    before = store_files(tmp_path)
    with pytest.raises(ModelTooLarge, match="limit of 300 bytes"):
        _add(store, sample_model_path("mlp_regressor").read_bytes())
    assert_store_unchanged(store, before)


def test_invalid_unknown_and_malformed_cids(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, max_upload_bytes=1 << 20)
    with pytest.raises(ModelNotFound, match="upload it first"):
        store.get(model_cid(b"never uploaded"))
    with pytest.raises(InvalidCID):
        store.get("not-a-cid")
