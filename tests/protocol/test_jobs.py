"""The Celery job schema: messages survive JSON, bad messages are refused."""

from __future__ import annotations

import dataclasses
import json

import pytest

from neurostack.protocol import (
    INFER_QUEUE,
    INFER_TASK_NAME,
    InferenceJob,
    InferenceMode,
    InvalidJob,
    JobResult,
    any_signer,
    check_job_result,
    input_hash,
    make_receipt,
    model_hash,
    request_id,
    shard_index,
    shard_key,
    sign_job_error,
    sprinter_address,
)
from neurostack.protocol.jobs import read_job_result

from .vectors import CHAIN_ID, CID, EXPIRY, INPUT_ABI, KEY, MODEL_FILE, OUTPUT_ABI


def job() -> InferenceJob:
    rid = request_id(CHAIN_ID, CID, 0, INPUT_ABI)
    return InferenceJob(rid, CHAIN_ID, CID, InferenceMode.VANILLA, INPUT_ABI, EXPIRY, 1.5e9)


def via_json(message: dict) -> dict:
    return json.loads(json.dumps(message))  # what Celery's JSON serializer does


def test_names_are_fixed() -> None:
    assert (INFER_TASK_NAME, INFER_QUEUE) == ("neurostack.infer", "inference")


def test_job_message_round_trips_through_json() -> None:
    assert InferenceJob.from_message(via_json(job().to_message())) == job()


def test_result_message_round_trips_with_receipt_and_with_error() -> None:
    r = make_receipt(
        chain_id=CHAIN_ID, model_cid=CID, model_hash=model_hash(MODEL_FILE), mode=0,
        input_abi=INPUT_ABI, output_abi=OUTPUT_ABI, expiry=EXPIRY, private_key=KEY,
    )  # fmt: skip
    ok = JobResult(r.request_id, r, None, "worker-1")
    assert JobResult.from_message(via_json(ok.to_message())) == ok
    failed = JobResult(r.request_id, None, "model not found", "worker-2")
    assert JobResult.from_message(via_json(failed.to_message())) == failed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requestId": "0x" + "00" * 32}, "does not match"),
        ({"modelCID": "Qm123"}, "invalid inference job"),
        ({"mode": 9}, "invalid inference job"),
        ({"input": "0x1234"}, "invalid inference job"),
        ({"input": "1234"}, "0x-prefixed"),
        ({"chainId": "1"}, "chainId"),
        ({"expiry": -1}, "expiry"),
        ({"deadline": "soon"}, "deadline"),
        ({"deadline": float("inf")}, "finite"),
        ({"version": 2}, "version"),
    ],
)
def test_invalid_job_messages(change: dict, message: str) -> None:
    with pytest.raises(InvalidJob, match=message):
        InferenceJob.from_message({**job().to_message(), **change})


def test_invalid_job_result_messages() -> None:
    rid = "0x" + job().request_id.hex()
    with pytest.raises(InvalidJob, match="neither"):
        JobResult.from_message({"requestId": rid, "receipt": None, "error": None})
    with pytest.raises(InvalidJob, match="malformed receipt"):
        JobResult.from_message({"requestId": rid, "receipt": {"chainId": 1}})
    with pytest.raises(InvalidJob, match="JSON object"):
        JobResult.from_message("x")
    r = make_receipt(
        chain_id=CHAIN_ID + 1, model_cid=CID, model_hash=model_hash(MODEL_FILE), mode=0,
        input_abi=INPUT_ABI, output_abi=OUTPUT_ABI, expiry=EXPIRY, private_key=KEY,
    )  # fmt: skip
    message = JobResult(r.request_id, r).to_message()
    with pytest.raises(InvalidJob, match="another request"):
        JobResult.from_message({**message, "requestId": rid})


def test_shard_key_is_stable_and_spreads() -> None:
    key = shard_key(CID, input_hash(INPUT_ABI))
    assert key == shard_key(CID, input_hash(INPUT_ABI)) and len(key) == 64
    assert key != shard_key(CID, input_hash(OUTPUT_ABI))
    counts = [0] * 4
    for i in range(400):
        counts[shard_index(shard_key(CID, i.to_bytes(32, "big")), 4)] += 1
    assert min(counts) > 60  # roughly uniform


def test_avoid_list_round_trips_and_is_left_out_when_empty() -> None:
    stranger = sprinter_address(b"\x07" * 32)
    avoiding = dataclasses.replace(job(), avoid=(stranger,))
    assert "avoid" not in job().to_message()  # the common message keeps its shape
    assert InferenceJob.from_message(via_json(avoiding.to_message())) == avoiding


@pytest.mark.parametrize("avoid", [["0x1234"], "0x" + "00" * 20, ["0x" + "00" * 20] * 17, [None]])
def test_invalid_avoid_lists(avoid: object) -> None:
    with pytest.raises(InvalidJob, match="avoid"):
        InferenceJob.from_message({**job().to_message(), "avoid": avoid})


def test_a_signed_failure_names_its_sprinter_and_verifies_for_its_request_only() -> None:
    rid = job().request_id
    failed = sign_job_error(CHAIN_ID, rid, "unknown model", "w", KEY)
    assert JobResult.from_message(via_json(failed.to_message())) == failed
    signer = check_job_result(
        failed, chain_id=CHAIN_ID, request_id=rid, mode=InferenceMode.VANILLA,
        admissible=any_signer,
    )  # fmt: skip
    assert signer == sprinter_address(KEY) == failed.sprinter
    for chain_id, error in ((CHAIN_ID + 1, "unknown model"), (CHAIN_ID, "another reason")):
        changed = dataclasses.replace(failed, error=error)
        with pytest.raises(InvalidJob, match="not made by the sprinter it names"):
            check_job_result(changed, chain_id=chain_id, request_id=rid,
                             mode=InferenceMode.VANILLA, admissible=any_signer)  # fmt: skip


def test_invalid_unsigned_failure_and_refused_signer() -> None:
    rid = job().request_id
    with pytest.raises(InvalidJob, match="not signed"):
        check_job_result(JobResult(rid, None, "unknown model"), chain_id=CHAIN_ID,
                         request_id=rid, mode=InferenceMode.VANILLA, admissible=any_signer)  # fmt: skip
    failed = sign_job_error(CHAIN_ID, rid, "unknown model", "w", KEY)
    with pytest.raises(InvalidJob, match="inadmissible signer: revoked"):
        check_job_result(failed, chain_id=CHAIN_ID, request_id=rid, mode=InferenceMode.VANILLA,
                         admissible=lambda signer, mode: "revoked")  # fmt: skip


def test_read_job_result_bounds_nesting_but_not_brackets_inside_strings() -> None:
    rid = job().request_id
    failed = sign_job_error(CHAIN_ID, rid, "input shape " + "[1, 3] " * 40, "w", KEY)
    raw = json.dumps(failed.to_message()).encode()
    assert read_job_result(raw) == failed
    for junk in (b"[" * 200_000, b'{"a": ' * 50 + b"1" + b"}" * 50, b"\xff\xfe", b"null"):
        with pytest.raises(InvalidJob):
            read_job_result(junk)
