"""Mode ZK's pieces without a block: the registry layout of ZK models, the chain's SRS
files in the spec, PIPE's longer ZK deadline, and what `neurostack up` and `neurostack
hub dev-srs` refuse."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from neurostack.cli.main import app
from neurostack.devnet.errors import ProjectError
from neurostack.devnet.services import zk_hub_args
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import (
    ZkModelEntry,
    registry_from_storage,
    set_zk_blob,
    set_zk_model,
    zk_blob,
    zk_model_of,
)
from neurostack.protocol.request import input_hash, request_id
from neurostack.protocol.tensors import ModelInput, Number, NumberTensor, encode_model_input
from sequencer.chain.inference import InferenceRequest
from sequencer.chainspec import chain_spec
from sequencer.errors import ConfigError
from sequencer.pipe.calls import WaitingRecorder
from tests.sequencer.inference.kit import CHAIN_ID, MODEL_CID, make_config, receipt_for

SRS = b"not a real SRS, but bytes with a sha256" * 100


def _srs(root: Path, name: str = "kzg10.srs", data: bytes = SRS) -> dict[str, str]:
    (root / "zk").mkdir(exist_ok=True)
    (root / "zk" / name).write_bytes(data)
    return {"file": f"zk/{name}", "sha256": "0x" + hashlib.sha256(data).hexdigest()}


def test_zk_model_and_blobs_round_trip_in_registry_storage() -> None:
    storage: dict[int, int] = {}
    entry = ZkModelEntry(b"\x01" * 32, b"\x02" * 32, (13, -2), (7,))
    set_zk_model(storage.__setitem__, "bafkreicid", entry)
    for data in (b"x", b"y" * 32, b"z" * 33, bytes(range(256)) * 13):
        set_zk_blob(storage.__setitem__, hashlib.sha256(data).digest(), data)
    view = registry_from_storage(storage)
    assert zk_model_of(view, "bafkreicid") == entry
    assert zk_model_of(view, "bafkreiother") is None
    for data in (b"x", b"y" * 32, b"z" * 33, bytes(range(256)) * 13):
        assert zk_blob(view, hashlib.sha256(data).digest()) == data
    assert zk_blob(view, b"\x09" * 32) is None


def test_invalid_zk_registry_writes_are_refused() -> None:
    write = {}.__setitem__
    with pytest.raises(ValueError, match="int8 scales"):
        set_zk_model(write, "c", ZkModelEntry(b"\x01" * 32, b"\x02" * 32, (200,), ()))
    with pytest.raises(ValueError, match="at most 32 tensors"):
        set_zk_model(write, "c", ZkModelEntry(b"\x01" * 32, b"\x02" * 32, (1,) * 33, ()))
    with pytest.raises(ValueError, match="1 to 65536 bytes"):
        set_zk_blob(write, b"\x00" * 32, b"")


def test_the_chain_spec_carries_the_srs_files_by_sha256(tmp_path: Path) -> None:
    spec = chain_spec(make_config(tmp_path, modes=["VANILLA", "ZK"], zk_srs=[_srs(tmp_path)]))
    assert dict(spec.inference.zk_srs) == {hashlib.sha256(SRS).digest(): SRS}


def test_invalid_srs_file_that_is_missing_or_not_the_pinned_one(tmp_path: Path) -> None:
    entry = _srs(tmp_path)
    (tmp_path / "zk" / "kzg10.srs").write_bytes(SRS + b"!")
    with pytest.raises(ConfigError, match=r"zk_srs\]\] 0 \(zk/kzg10.srs\): the file's sha256"):
        chain_spec(make_config(tmp_path, zk_srs=[entry]))
    missing = {"file": "zk/none.srs", "sha256": entry["sha256"]}
    with pytest.raises(ConfigError, match="cannot read .*none.srs"):
        chain_spec(make_config(tmp_path, zk_srs=[missing]))
    with pytest.raises(ValueError, match="0x-prefixed 32-byte hex sha256"):
        make_config(tmp_path, zk_srs=[{"file": "zk/kzg10.srs", "sha256": "abc"}])


class _Backend:
    def __init__(self) -> None:
        self.jobs: list[InferenceJob] = []

    def submit(self, job: InferenceJob, *, admissible: Any) -> Future[JobResult]:
        self.jobs.append(job)
        future: Future[JobResult] = Future()
        request = InferenceRequest(job.request_id, job.chain_id, job.model_cid, job.mode,
                                   job.input_abi, input_hash(job.input_abi))  # fmt: skip
        future.set_result(JobResult(job.request_id, receipt_for(request)))
        return future


def test_pipe_gives_zk_calls_the_longer_deadline() -> None:
    backend = _Backend()
    recorder = WaitingRecorder(backend, admissible=lambda s, m: None, timeout=30,
                               zk_timeout=120, receipt_ttl=60)  # fmt: skip
    for mode in (InferenceMode.VANILLA, InferenceMode.ZK):
        abi = encode_model_input(ModelInput(numbers=(NumberTensor("x", (Number(1, 0),), (1,)),)))
        recorder.on_unknown(InferenceRequest(request_id(CHAIN_ID, MODEL_CID, mode, abi),
                                             CHAIN_ID, MODEL_CID, mode, abi, input_hash(abi)))  # fmt: skip
    now = time.time()
    vanilla, zk = backend.jobs
    assert now + 25 < vanilla.deadline <= now + 30
    assert now + 115 < zk.deadline <= now + 120


def test_invalid_up_with_zk_but_no_srs_or_badly_named_files(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="neurostack hub dev-srs 10"):
        zk_hub_args(make_config(tmp_path, modes=["VANILLA", "ZK"]))
    odd = _srs(tmp_path, "chain.srs")
    with pytest.raises(ProjectError, match="named kzg<logrows>.srs"):
        zk_hub_args(make_config(tmp_path, modes=["ZK"], zk_srs=[odd]))
    good = make_config(tmp_path, modes=["ZK"], zk_srs=[_srs(tmp_path)])
    assert zk_hub_args(good) == ["--zk-srs-dir", str(tmp_path / "zk")]
    assert zk_hub_args(make_config(tmp_path)) == []  # no ZK: the hub as before


def test_invalid_dev_srs_never_overwrites_a_chain_file(tmp_path: Path) -> None:
    pytest.importorskip("ezkl")
    (tmp_path / "kzg10.srs").write_bytes(SRS)
    result = CliRunner().invoke(app, ["hub", "dev-srs", "10", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "never overwritten" in result.output
    assert (tmp_path / "kzg10.srs").read_bytes() == SRS
