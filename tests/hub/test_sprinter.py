"""The sprinter's job handling, in-process against a real Redis: results equal a direct
onnxruntime run, receipts verify, delivery twice is counted once, late and bad jobs are
refused without retrying, models come from the store or the hub with their CID checked."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis

from neurostack.hub.errors import Avoided, TransientError
from neurostack.hub.samples import sample_model_path
from neurostack.hub.sandbox import SandboxPool
from neurostack.hub.sessions import CPU, ProviderChoice, SessionCache
from neurostack.hub.settings import HubSettings
from neurostack.hub.sprinter import Sprinter
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import model_cid, model_hash
from neurostack.protocol.errors import InvalidJob
from neurostack.protocol.jobs import InferenceJob, JobResult, any_signer, check_job_result
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import check_receipt, sprinter_address
from neurostack.protocol.request import input_hash, request_id
from neurostack.protocol.tensors import (
    decode_model_output,
    encode_model_input,
    model_input_from_mapping,
    model_output_to_arrays,
)

from .helpers import run_onnx

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    """Sandboxes shared by the module's sprinters (starting one costs a few tenths of a s)."""
    sandboxes = SandboxPool(HubSettings(intra_op_threads=1, providers="cpu"))
    yield sandboxes
    sandboxes.close()


@pytest.fixture
def r(redis_db: redis.Redis) -> redis.Redis:
    return redis_db


def _store(tmp_path: Path, name: str) -> tuple[Path, str]:
    data = sample_model_path(name).read_bytes()
    (tmp_path / "models").mkdir(exist_ok=True)
    cid = model_cid(data)
    (tmp_path / "models" / f"{cid}.onnx").write_bytes(data)
    return tmp_path, cid


def _sprinter(tmp_path: Path, r: redis.Redis, pool: SandboxPool, **kw: Any) -> Sprinter:
    fields = {
        "store_dir": tmp_path,
        "worker_key": "0x" + KEY.hex(),
        "worker_name": "t1",
        "intra_op_threads": 1,
        **kw.pop("settings", {}),
    }
    settings = HubSettings(**fields)
    return Sprinter(settings, r, pool=pool, **kw)


def _job(cid: str, x: np.ndarray, *, deadline_in: float = 30.0, chain_id: int = 0) -> InferenceJob:
    input_abi = encode_model_input(model_input_from_mapping({"x": x}))
    mode = InferenceMode.VANILLA
    return InferenceJob(
        request_id(chain_id, cid, mode, input_abi),
        chain_id,
        cid,
        mode,
        input_abi,  # type: ignore[arg-type]
        int(time.time()) + 600,
        time.time() + deadline_in,
    )


X = np.array([[0.5, -1.25, 2.0, 3.5], [1.0, 1.0, 1.0, 1.0]], dtype=np.float32)


@pytest.mark.parametrize("name", ["mlp_regressor", "text_classifier"])
def test_result_equals_direct_onnxruntime_and_receipt_verifies(
    tmp_path: Path, r: redis.Redis, name: str, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, name)
    job = _job(cid, X, chain_id=7)
    result = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    assert result.error is None and result.worker == "t1"
    receipt = result.receipt
    assert receipt is not None
    signer = check_receipt(
        receipt,
        chain_id=7,
        request_id=job.request_id,
        model_hash=model_hash(sample_model_path(name).read_bytes()),
        input_hash=input_hash(job.input_abi),
        now=int(time.time()),
    )
    assert signer == sprinter_address(KEY)
    got = model_output_to_arrays(decode_model_output(receipt.output))
    for out_name, expected in run_onnx(sample_model_path(name), {"x": X}).items():
        if expected.dtype == object:
            assert got[out_name].tolist() == expected.tolist()
        else:  # the protocol's 18 decimals hold a float32 exactly
            np.testing.assert_array_equal(got[out_name].astype(np.float32), expected)


def test_a_job_delivered_twice_returns_the_same_receipt_and_counts_once(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = _job(cid, X)
    first = _sprinter(store, r, pool).handle(job.to_message())
    second = _sprinter(store, r, pool, settings={"worker_name": "t2"}).handle(job.to_message())
    assert second == first  # same key: its stored result, the first worker's name included
    rid = keys.request_hex(job.request_id)
    assert int(r.get(keys.completed_key(0, rid))) == 1
    assert int(r.get(keys.COMPLETED_TOTAL)) == 1
    # Another key computes its own copy (results are kept per signer), counted once still.
    other = _sprinter(
        store, r, pool, settings={"worker_name": "t3", "worker_key": "0x" + "42" * 32}
    )
    third = JobResult.from_message(other.handle(job.to_message()))
    assert third.receipt is not None and third.receipt.sprinter == sprinter_address(b"\x42" * 32)
    assert len(r.hgetall(keys.results_key(0, rid))) == 2
    assert int(r.get(keys.COMPLETED_TOTAL)) == 1


def test_completion_is_published_on_the_chains_channel(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.done_channel(7))
    job = _job(cid, X, chain_id=7)
    stored = _sprinter(store, r, pool).handle(job.to_message())
    end, message = time.monotonic() + 2, None
    while message is None and time.monotonic() < end:  # the first read eats the subscribe ack
        message = pubsub.get_message(timeout=0.5)
    assert message is not None and json.loads(message["data"]) == stored  # the whole result
    pubsub.close()


def test_a_failure_is_signed_so_requesters_can_tell_it_from_planted_junk(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = _job(cid, np.ones((1, 3), dtype=np.float32), chain_id=7)
    result = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    signer = check_job_result(
        result, chain_id=7, request_id=job.request_id, mode=job.mode, admissible=any_signer
    )
    assert signer == sprinter_address(KEY)
    with pytest.raises(InvalidJob, match="signature"):  # the same words on another chain
        check_job_result(
            result, chain_id=8, request_id=job.request_id, mode=job.mode, admissible=any_signer
        )


def test_planted_junk_under_the_sprinters_own_field_is_not_taken_for_its_result(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = _job(cid, X)
    rid = keys.request_hex(job.request_id)
    field = "0x" + sprinter_address(KEY).hex()
    r.hset(keys.results_key(0, rid), field, b"junk")
    result = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    assert result.receipt is not None  # computed, not the junk handed back
    r.delete(keys.results_key(0, rid), keys.running_key(0, rid))
    r.set(keys.results_key(0, rid), b"not a hash")  # and a key of the wrong type
    r.set(keys.running_key(0, rid), b"not a hash")
    again = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    assert again.receipt is not None
    assert r.hget(keys.results_key(0, rid), field) is not None


def test_a_job_that_asks_the_sprinter_to_stay_away_is_left_to_others(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = dataclasses.replace(_job(cid, X), avoid=(sprinter_address(KEY),))
    with pytest.raises(Avoided):
        _sprinter(store, r, pool).handle(job.to_message())
    assert r.keys("neurostack:0:results:*") == []


def test_invalid_job_past_its_deadline_is_not_run(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = _job(cid, X, deadline_in=-1)
    result = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    assert result.receipt is None and "deadline passed" in (result.error or "")
    assert r.get(keys.COMPLETED_TOTAL) is None
    # a late copy leaves no trace that could fail a newer identical request
    assert r.exists(keys.errors_key(0, keys.request_hex(job.request_id))) == 0


def test_invalid_input_for_the_model_is_an_error_result_not_a_retry(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    job = _job(cid, np.ones((1, 3), dtype=np.float32))  # the model wants 4 features
    result = JobResult.from_message(_sprinter(store, r, pool).handle(job.to_message()))
    assert result.receipt is None and "invalid input" in (result.error or "")


def test_invalid_job_message_is_refused(tmp_path: Path, r: redis.Redis, pool: SandboxPool) -> None:
    store, cid = _store(tmp_path, "mlp_regressor")
    message = _job(cid, X).to_message()
    message["requestId"] = "0x" + "00" * 32  # does not match the content
    result = _sprinter(store, r, pool).handle(message)
    assert result["receipt"] is None and "invalid job" in result["error"]


def _hub_transport(files: dict[str, bytes]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        cid = request.url.path.split("/")[3]
        if cid in files:
            return httpx.Response(200, content=files[cid])
        return httpx.Response(404, json={"detail": "no model"})

    return httpx.MockTransport(handler)


def test_model_missing_locally_is_downloaded_from_the_hub(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    cid = model_cid(data)
    http = httpx.Client(transport=_hub_transport({cid: data}))
    sprinter = _sprinter(tmp_path, r, pool, settings={"hub_url": "http://hub"}, http=http)
    result = JobResult.from_message(sprinter.handle(_job(cid, X).to_message()))
    assert result.receipt is not None


def test_invalid_download_whose_bytes_do_not_match_the_cid(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    cid = model_cid(data)
    other = sample_model_path("text_classifier").read_bytes()
    http = httpx.Client(transport=_hub_transport({cid: other}))
    sprinter = _sprinter(tmp_path, r, pool, settings={"hub_url": "http://hub"}, http=http)
    with pytest.raises(TransientError, match="does not match CID"):
        sprinter.handle(_job(cid, X).to_message())


def test_invalid_model_unknown_everywhere(
    tmp_path: Path, r: redis.Redis, pool: SandboxPool
) -> None:
    cid = model_cid(b"unknown")
    http = httpx.Client(transport=_hub_transport({}))
    sprinter = _sprinter(tmp_path, r, pool, settings={"hub_url": "http://hub"}, http=http)
    result = sprinter.handle(_job(cid, X).to_message())
    assert "does not know model" in result["error"]


def test_provider_is_decided_from_the_session_not_the_advertised_list() -> None:
    """This machine has no GPU: asking for CUDA first must still end on the CPU, and the
    decision is reused for later sessions."""
    choice = ProviderChoice("auto", intra_op_threads=1)
    data = sample_model_path("mlp_regressor").read_bytes()
    session, provider = choice.create(data)
    assert provider == session.get_providers()[0]
    import onnxruntime as ort

    if ort.get_device() == "CPU":
        assert provider == CPU
    assert choice.create(data)[1] == provider


def test_session_cache_evicts_least_recently_used_by_bytes() -> None:
    mlp = sample_model_path("mlp_regressor").read_bytes()
    clf = sample_model_path("text_classifier").read_bytes()
    cache = SessionCache(max_bytes=len(mlp) + len(clf) - 1, providers=ProviderChoice("cpu"))
    cache.load("a", mlp)
    cache.load("b", clf)  # together over the bound: "a" goes
    assert "a" not in cache and "b" in cache
    assert cache.cached_bytes == len(clf)
