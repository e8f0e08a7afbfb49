"""The content-addressed model store on disk.

Layout under ``store_dir``::

    models/<cid>.onnx   the model file, named by its CIDv1 (raw, sha2-256, base32)
    meta/<cid>.json     its metadata record (:class:`ModelRecord`)
    tmp/                uploads in progress (same filesystem, so renames are atomic)

A model becomes visible only through two atomic renames, file first and metadata
last; a reader that finds metadata therefore always finds the complete file. Any
error on the way removes the temporary file, so nothing half-written remains.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from neurostack.protocol.cid import model_cid, parse_model_cid

from .errors import InvalidModel, ModelNotFound, ModelTooLarge

# onnx (about 1 s of CPU to import) is imported by inspect_model, at the first upload: the
# hub API needs it for nothing else, and every hub start would pay it.
if TYPE_CHECKING:
    import onnx

CHUNK = 1024 * 1024


class TensorSpec(BaseModel):
    """One model input or output: ``dtype`` is a numpy dtype name (``"str"`` for strings),
    ``shape`` has ``None`` for dynamic dimensions (``null`` in JSON)."""

    model_config = ConfigDict(frozen=True)

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None  # None: the model declares no shape at all


class ModelRecord(BaseModel):
    """What the registry knows about a stored model (the JSON of ``GET /v1/models/{cid}``)."""

    model_config = ConfigDict(frozen=True)

    cid: str
    modelHash: str  # 0x-hex sha256 of the file: the receipts' modelHash
    name: str
    version: str
    owner: str  # EIP-55 address that signed the upload
    description: str
    size: int
    created: float  # unix time of the first upload
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def input_specs(self) -> dict[str, tuple[str, tuple[int | None, ...]]]:
        """The ``specs`` argument of ``neurostack.protocol.tensors.model_input_to_feeds``."""
        return {t.name: (t.dtype, tuple(t.shape or ())) for t in self.inputs}


def _dtype_name(elem_type: int) -> str:
    import onnx
    from onnx import helper

    if elem_type == onnx.TensorProto.STRING:
        return "str"
    return str(helper.tensor_dtype_to_np_dtype(elem_type))


def _specs(values: list[onnx.ValueInfoProto], skip: set[str]) -> tuple[TensorSpec, ...]:
    out = []
    for v in values:
        if v.name in skip:
            continue
        if not v.type.HasField("tensor_type"):
            raise InvalidModel(
                f"model input/output {v.name!r} is not a tensor ({v.type.WhichOneof('value')}); "
                "the hub serves models whose inputs and outputs are tensors "
                "(export sklearn classifiers with zipmap=False)"
            )
        tt = v.type.tensor_type
        shape = None
        if tt.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
        out.append(TensorSpec(name=v.name, dtype=_dtype_name(tt.elem_type), shape=shape))
    return tuple(out)


def inspect_model(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """Validate an ONNX file and return its (inputs, outputs): first that it is only its
    own bytes (:func:`~neurostack.hub.model_policy.check_self_contained`, before anything
    could resolve a path), then ``onnx.checker``."""
    import onnx

    from .model_policy import check_self_contained, parse_model

    model = parse_model(path.read_bytes())
    check_self_contained(model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # noqa: BLE001 - ValidationError, InferenceError, ...
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidModel(
            f"the ONNX model is invalid: {first_line}; fix the export and upload again"
        ) from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = _specs(list(model.graph.input), initializers)
    outputs = _specs(list(model.graph.output), set())
    if not inputs or not outputs:
        raise InvalidModel("the ONNX model has no inputs or no outputs; nothing to serve")
    return inputs, outputs


class UploadSink:
    """A temporary file in the store receiving an upload chunk by chunk, hashing and
    counting as it goes; writing past ``limit`` raises :class:`ModelTooLarge`."""

    def __init__(self, file: IO[bytes], path: Path, limit: int) -> None:
        self.file = file
        self.path = path
        self.limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise ModelTooLarge(
                f"the model file is larger than this hub's limit of {self.limit} bytes; "
                "upload a smaller model or raise --max-upload-bytes"
            )
        self.sha256.update(chunk)
        self.file.write(chunk)


class ModelStore:
    """Models by CID on disk, with their metadata."""

    def __init__(self, root: Path, max_upload_bytes: int) -> None:
        self.root = Path(root)
        self.max_upload_bytes = max_upload_bytes
        self.models_dir = self.root / "models"
        self.meta_dir = self.root / "meta"
        self.tmp_dir = self.root / "tmp"
        for d in (self.models_dir, self.meta_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        # Records never change once written (the first upload of some bytes wins), so
        # they can be cached without invalidation.
        self._records: dict[str, ModelRecord] = {}

    @contextmanager
    def upload(self) -> Iterator[UploadSink]:
        """A sink for one upload; its temporary file is always removed on exit (after a
        successful :meth:`add` it has been renamed away already)."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as file:
                yield UploadSink(file, path, self.max_upload_bytes)
        finally:
            path.unlink(missing_ok=True)

    def add(
        self, sink: UploadSink, *, name: str, version: str, owner: str, description: str
    ) -> tuple[ModelRecord, bool]:
        """Validate the uploaded file and store it; returns ``(record, created)``. The same
        bytes uploaded again return the existing record with ``created=False``."""
        sink.file.flush()
        os.fsync(sink.file.fileno())
        data = sink.path.read_bytes()
        cid = model_cid(data)
        existing = self._read_meta(cid)
        if existing is not None:
            return existing, False
        inputs, outputs = inspect_model(sink.path)
        record = ModelRecord(
            cid=cid,
            modelHash="0x" + sink.sha256.hexdigest(),
            name=name,
            version=version,
            owner=owner,
            description=description,
            size=sink.size,
            created=time.time(),
            inputs=inputs,
            outputs=outputs,
        )
        os.replace(sink.path, self.models_dir / f"{cid}.onnx")
        self._write_meta(record)
        return record, True

    def _write_meta(self, record: ModelRecord) -> None:
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(record.model_dump_json(indent=2))
                f.flush()
                os.fsync(f.fileno())
            os.replace(name, self.meta_dir / f"{record.cid}.json")
        finally:
            Path(name).unlink(missing_ok=True)

    def _read_meta(self, cid: str) -> ModelRecord | None:
        record = self._records.get(cid)
        if record is not None:
            return record
        path = self.meta_dir / f"{cid}.json"
        try:
            record = ModelRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        self._records[cid] = record
        return record

    def get(self, cid: str) -> ModelRecord:
        """The record of ``cid``; :class:`InvalidCID` if malformed, :class:`ModelNotFound`."""
        parse_model_cid(cid)
        record = self._read_meta(cid)
        if record is None:
            raise ModelNotFound(
                f"no model with CID {cid} in this hub; upload it first (POST /v1/models) "
                "or list the known ones (GET /v1/models)"
            )
        return record

    def model_path(self, cid: str) -> Path:
        """The file of a stored model (checks that the model exists)."""
        self.get(cid)
        return self.models_dir / f"{cid}.onnx"

    def list(self) -> list[ModelRecord]:
        """Every stored model, oldest first."""
        records = []
        for path in self.meta_dir.glob("*.json"):
            try:
                records.append(ModelRecord.model_validate_json(path.read_bytes()))
            except (OSError, ValueError):
                continue  # a record removed meanwhile or not ours: skip, never fail the listing
        return sorted(records, key=lambda r: (r.created, r.cid))


__all__ = [
    "ModelRecord",
    "ModelStore",
    "TensorSpec",
    "UploadSink",
    "inspect_model",
]
