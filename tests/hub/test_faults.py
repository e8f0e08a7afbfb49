"""Faults on the real stack: a worker SIGKILLed mid-job, and a Redis restart with jobs
still queued. The workers here sleep ``DELAY`` seconds per job so a job can be caught
while it runs, and the API duplicates a job after ``SPECULATIVE_AFTER`` seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neurostack.hub.samples import sample_model_path
from neurostack.protocol import job_keys as keys
from neurostack.protocol.jobs import INFER_QUEUE
from tests.hub.stack import HubStack

pytestmark = pytest.mark.slow

DELAY = 2.0
SPECULATIVE_AFTER = 1.0
DEADLINE = 30.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    root = Path(tmp_path_factory.mktemp("hub-faults"))
    with HubStack(
        root,
        workers=2,
        worker_delay=DELAY,
        speculative_after=SPECULATIVE_AFTER,
        job_deadline=DEADLINE,
    ) as s:
        yield s


def _ensure_workers(stack: HubStack) -> None:
    for name, w in stack.workers.items():
        if w.proc is None or w.proc.poll() is not None:
            stack.start_worker(name)
    stack.wait_ready(workers=len(stack.workers))


def _submit(stack: HubStack, cid: str, x: list[float]) -> str:
    r = httpx.post(
        stack.url + "/v1/infer?wait=false", json={"modelCID": cid, "input": {"x": [x]}}, timeout=30
    )
    assert r.status_code == 202, r.text
    return r.json()["jobId"]  # type: ignore[no-any-return]


def _wait_done(stack: HubStack, job_id: str, until: float) -> dict:  # type: ignore[type-arg]
    view: dict = {}  # type: ignore[type-arg]
    while time.time() < until:
        try:
            view = httpx.get(f"{stack.url}/v1/jobs/{job_id}", timeout=10).json()
        except httpx.HTTPError:
            view = {}
        if view.get("status") in ("done", "failed"):
            return view
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not done before its deadline: {view}\n{stack.log_tail()}")


def test_job_of_a_sigkilled_worker_completes_on_the_other_within_its_deadline(
    stack: HubStack,
) -> None:
    _ensure_workers(stack)
    cid = stack.upload(sample_model_path("mlp_regressor"))["cid"]
    r = stack.redis_client()
    submitted = time.time()
    job_id = _submit(stack, cid, [1.0, 2.0, 3.0, 4.0])
    running: dict[bytes, bytes] = {}
    while not running and time.time() < submitted + DELAY:
        running = r.hgetall(keys.running_key(0, job_id))
        time.sleep(0.02)
    assert running, "no worker picked the job up"
    victim = next(iter(running)).decode()
    stack.kill_worker(victim)

    view = _wait_done(stack, job_id, until=submitted + DEADLINE)
    assert view["status"] == "done", view
    survivor = view["result"]["worker"]
    assert survivor != victim and survivor in stack.workers
    assert time.time() - submitted < DEADLINE
    assert int(r.get(keys.completed_key(0, job_id))) == 1


def test_queued_jobs_survive_a_redis_restart(stack: HubStack) -> None:
    _ensure_workers(stack)
    cid = stack.upload(sample_model_path("text_classifier"))["cid"]
    stack.stop_workers()
    r = stack.redis_client()
    submitted = time.time()
    job_ids = [_submit(stack, cid, [float(i), 0.5, -0.5, 1.0]) for i in range(3)]
    assert r.llen(INFER_QUEUE) >= 3

    stack.restart_redis()
    assert r.llen(INFER_QUEUE) >= 3  # the append-only file kept them
    stack.worker_delay = 0.0  # the delay only served the kill test; keep this one short
    stack.start_workers()

    for job_id in job_ids:
        view = _wait_done(stack, job_id, until=submitted + DEADLINE)
        assert view["status"] == "done", view
        assert int(r.get(keys.completed_key(0, job_id))) == 1
