"""The job client against a real Redis, with Celery replaced by a recorder: fan-out,
speculative duplicate, one job per request, stored results answered without queuing, and
the first *valid* result wins whatever else is in Redis (planted before or after the
submission, in the result hash or on the completion channel)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from neurostack.hub.broker import EmbeddedRedis
from neurostack.jobs import BrokerUnavailable, Expired, JobClient
from neurostack.jobs.client import MAX_EXTRA_COPIES
from neurostack.protocol import job_keys as keys
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.receipts import sign_receipt, sprinter_address

from .kit import (
    CHAIN_ID,
    HONEST_KEY,
    OTHER_HONEST_KEY,
    STRANGER_KEY,
    RecordingCelery,
    admitted,
    error_result,
    make_job,
    plant,
    receipt_result,
    store,
)

ADMISSIBLE = admitted(HONEST_KEY, OTHER_HONEST_KEY)
_inputs = itertools.count(1)


@pytest.fixture
def r(redis_db: redis.Redis) -> redis.Redis:
    return redis_db


@pytest.fixture
def open_client(redis_server: EmbeddedRedis) -> Iterator[Callable[..., tuple[JobClient, Any]]]:
    clients: list[JobClient] = []

    def _open(**kw: Any) -> tuple[JobClient, RecordingCelery]:
        celery = RecordingCelery()
        kw.setdefault("speculative_after", 10.0)
        client = JobClient(redis_server.url, chain_id=CHAIN_ID, celery=celery, **kw)
        clients.append(client)
        return client, celery

    yield _open
    for client in clients:
        client.close()


def job() -> InferenceJob:
    return make_job(float(next(_inputs)))


def raw(result: JobResult) -> bytes:
    return json.dumps(result.to_message()).encode()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


# -- the protocol ----------------------------------------------------------------------


def test_redundancy_copies_go_out_at_once_each_with_its_own_task_id(open_client: Any) -> None:
    client, celery = open_client(redundancy=2)
    j = job()
    client.submit(j, admissible=ADMISSIBLE)
    rid = keys.request_hex(j.request_id)
    assert celery.sent == [f"{rid}-1", f"{rid}-2"]


def test_a_slow_job_gets_exactly_one_speculative_duplicate(open_client: Any) -> None:
    kinds: list[str] = []
    client, celery = open_client(speculative_after=0.2, on_send=kinds.append)
    j = job()
    client.submit(j, admissible=ADMISSIBLE)
    wait_until(lambda: len(celery.sent) >= 2)  # 0.2 s, or later on a loaded machine
    time.sleep(0.6)  # three more speculative_after periods: still the one duplicate
    assert len(celery.sent) == 2 and kinds == ["first", "speculative"]


def wait_subscribed(r: redis.Redis) -> None:
    """Until the client's watcher thread listens: it subscribes on its own schedule, and a
    message published before that is not heard (a stored result would still be re-read)."""
    channel = keys.done_channel(CHAIN_ID)
    deadline = time.monotonic() + 10
    while dict(r.pubsub_numsub(channel)).get(channel.encode(), 0) < 1:
        assert time.monotonic() < deadline, "the client never subscribed"
        time.sleep(0.01)


def test_the_completion_message_resolves_the_job_without_a_read(
    open_client: Any, r: redis.Redis
) -> None:
    client, celery = open_client(speculative_after=0.5)
    j = job()
    future = client.submit(j, admissible=ADMISSIBLE)
    wait_subscribed(r)
    r.publish(keys.done_channel(CHAIN_ID), raw(receipt_result(j)))  # nothing stored
    result = future.result(timeout=10)
    # the message, not a re-read: nothing was stored for a re-read to find
    assert not r.exists(keys.results_key(CHAIN_ID, keys.request_hex(j.request_id)))
    assert result.receipt is not None and result.receipt.sprinter == sprinter_address(HONEST_KEY)
    time.sleep(0.7)  # past speculative_after: an answered job is not duplicated
    assert len(celery.sent) == 1


def test_a_stored_result_is_found_by_the_re_read(open_client: Any, r: redis.Redis) -> None:
    client, _ = open_client()
    j = job()
    future = client.submit(j, admissible=ADMISSIBLE)
    rid = keys.request_hex(j.request_id)
    field = "0x" + sprinter_address(HONEST_KEY).hex()
    r.hset(keys.results_key(CHAIN_ID, rid), field, raw(receipt_result(j)))  # no message
    assert future.result(timeout=10).receipt is not None


def test_identical_submissions_are_one_job(open_client: Any) -> None:
    client, celery = open_client()
    j = job()
    assert client.submit(j, admissible=ADMISSIBLE) is client.submit(j, admissible=ADMISSIBLE)
    assert len(celery.sent) == 1 and client.outstanding() == 1


def test_a_stored_valid_result_answers_without_queuing(open_client: Any, r: redis.Redis) -> None:
    client, celery = open_client()
    j = job()
    store(r, j, receipt_result(j, OTHER_HONEST_KEY))
    result = client.submit(j, admissible=ADMISSIBLE).result(timeout=10)
    assert result.receipt is not None and celery.sent == []


def test_a_signed_failure_of_an_admitted_sprinter_fails_the_job_at_once(
    open_client: Any, r: redis.Redis
) -> None:
    client, _ = open_client()
    j = job()
    future = client.submit(j, admissible=ADMISSIBLE)
    store(r, j, error_result(j, HONEST_KEY, "invalid input for model x"))
    result = future.result(timeout=10)
    assert result.receipt is None and result.error == "invalid input for model x"


def test_a_live_submission_of_another_requester_is_joined_not_resent(
    open_client: Any, r: redis.Redis
) -> None:
    first, first_celery = open_client()
    second, second_celery = open_client(speculative_after=0.3)
    j = job()
    first.submit(j, admissible=ADMISSIBLE)
    future = second.submit(j, admissible=ADMISSIBLE)
    assert len(first_celery.sent) == 1 and second_celery.sent == []
    # the other requester may have died: after speculative_after a copy covers it
    wait_until(lambda: len(second_celery.sent) >= 1)
    assert len(second_celery.sent) == 1
    store(r, j, receipt_result(j))
    assert future.result(timeout=10).receipt is not None


def test_invalid_stale_job_marker_does_not_block_a_resubmission(
    open_client: Any, r: redis.Redis
) -> None:
    client, celery = open_client()
    j = job()
    marker = json.dumps({"deadline": time.time() - 1, "submitted": 0, "mode": 0})
    r.set(keys.job_key(CHAIN_ID, keys.request_hex(j.request_id)), marker)
    client.submit(j, admissible=ADMISSIBLE)
    assert len(celery.sent) == 1


def test_invalid_no_answer_expires_at_the_job_deadline(open_client: Any) -> None:
    client, _ = open_client(speculative_after=0.2)
    j = dataclasses.replace(job(), deadline=time.time() + 1.5)  # the deadline is the job's
    result = client.submit(j, admissible=ADMISSIBLE).result(timeout=10)
    assert isinstance(result, Expired) and "deadline (2 copies sent" in (result.error or "")


def test_invalid_job_of_another_chain_is_refused(open_client: Any) -> None:
    client, _ = open_client()
    with pytest.raises(ValueError, match=f"serves chain {CHAIN_ID}"):
        client.submit(make_job(1.0, chain_id=CHAIN_ID + 1), admissible=ADMISSIBLE)


def test_invalid_broker_unreachable_raises_and_forgets_the_job(tmp_path: Any) -> None:
    client = JobClient("redis://127.0.0.1:1/0", chain_id=CHAIN_ID, celery=RecordingCelery())
    try:
        with pytest.raises(BrokerUnavailable, match="unreachable"):
            client.submit(job(), admissible=ADMISSIBLE)
        assert client.outstanding() == 0
    finally:
        client.close()


# -- the first valid result wins --------------------------------------------------------


def _forged(j: InferenceJob, r: redis.Redis) -> dict[str, bytes]:
    honest = receipt_result(j)
    assert honest.receipt is not None
    stranger_sig = sign_receipt(honest.receipt, STRANGER_KEY).signature
    bad_signature = dataclasses.replace(honest, receipt=dataclasses.replace(
        honest.receipt, signature=stranger_sig))  # fmt: skip
    tampered = receipt_result(j, y=666.0).receipt  # the honest key's signature kept below
    assert tampered is not None
    other = make_job(-float(next(_inputs)))
    rid = keys.request_hex(j.request_id)
    unsigned_error = {"version": 1, "requestId": rid, "receipt": None, "error": "no such model"}
    return {
        "bad-signature": raw(bad_signature),
        "tampered-output": raw(
            dataclasses.replace(
                honest,
                receipt=dataclasses.replace(
                    honest.receipt, output=tampered.output, output_hash=tampered.output_hash
                ),
            )
        ),
        "unregistered-signer": raw(receipt_result(j, STRANGER_KEY, y=666.0)),
        "another-request": raw(receipt_result(other)),
        "another-chain": raw(receipt_result(make_job(-1.0, chain_id=0))).replace(
            keys.request_hex(make_job(-1.0, chain_id=0).request_id).encode(), rid.encode()
        ),
        "garbage": os.urandom(300),
        "nested-json": b"[" * 200_000,
        "huge": b'{"requestId": "' + rid.encode() + b'", "x": "' + b"x" * (9 << 20) + b'"}',
        "unsigned-error": json.dumps(unsigned_error).encode(),
        "error-of-a-stranger": raw(error_result(j, STRANGER_KEY, "no such model")),
    }


KINDS = [
    "bad-signature", "tampered-output", "unregistered-signer", "another-request",
    "another-chain", "garbage", "nested-json", "huge", "unsigned-error", "error-of-a-stranger",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_result_planted_before_the_job_never_blocks_the_honest_one(
    open_client: Any, r: redis.Redis, kind: str
) -> None:
    client, celery = open_client()
    j = job()
    plant(r, j, _forged(j, r)[kind], kind="errors" if "error" in kind else "results")
    future = client.submit(j, admissible=ADMISSIBLE)
    assert not future.done() and len(celery.sent) == 1  # not taken for an answer: queued
    if kind == "unregistered-signer":  # validly signed: that sprinter is asked to stay away
        assert celery.avoid == [["0x" + sprinter_address(STRANGER_KEY).hex()]]
    time.sleep(0.3)  # re-reads skip what was rejected: no more copies for the same junk
    assert len(celery.sent) == 1
    store(r, j, receipt_result(j))
    result = future.result(timeout=10)
    assert result.receipt is not None and result.receipt.sprinter == sprinter_address(HONEST_KEY)


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_result_arriving_first_makes_the_client_ask_another_sprinter(
    open_client: Any, r: redis.Redis, kind: str
) -> None:
    client, celery = open_client()
    j = job()
    future = client.submit(j, admissible=ADMISSIBLE)
    plant(r, j, _forged(j, r)[kind], kind="errors" if "error" in kind else "results")
    if kind not in ("huge", "another-request"):  # those name no job of ours: nothing to redo
        wait_until(lambda: len(celery.sent) == 2)  # another copy, at once
    time.sleep(0.3)
    assert not future.done()
    store(r, j, receipt_result(j, OTHER_HONEST_KEY))
    assert future.result(timeout=10).receipt is not None


def test_invalid_wrong_type_keys_do_not_break_submission_or_re_reads(
    open_client: Any, r: redis.Redis
) -> None:
    client, _ = open_client()
    j = job()
    rid = keys.request_hex(j.request_id)
    for key in (keys.results_key, keys.errors_key, keys.job_key):
        r.rpush(key(CHAIN_ID, rid), b"junk")  # a list where a hash or string belongs
    future = client.submit(j, admissible=ADMISSIBLE)
    time.sleep(0.3)  # a few re-reads over the planted keys
    wait_subscribed(r)
    r.publish(keys.done_channel(CHAIN_ID), raw(receipt_result(j)))
    assert future.result(timeout=10).receipt is not None


def test_invalid_results_only_expire_with_their_reasons_and_bounded_copies(
    open_client: Any, r: redis.Redis
) -> None:
    client, celery = open_client()
    j = dataclasses.replace(job(), deadline=time.time() + 1.5)
    future = client.submit(j, admissible=ADMISSIBLE)
    for i in range(3 * MAX_EXTRA_COPIES):
        key = bytes([0x30 + i]) * 32
        plant(r, j, raw(receipt_result(j, key)), field=f"0x{i}")
    result = future.result(timeout=10)
    assert isinstance(result, Expired)
    assert f"{3 * MAX_EXTRA_COPIES} results rejected" in (result.error or "")
    assert "not registered" in (result.error or "")
    assert len(celery.sent) <= 1 + MAX_EXTRA_COPIES
