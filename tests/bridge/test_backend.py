"""The bridge against the real hub path: Celery over the embedded redis-server, real
sprinter processes running onnxruntime, results verified on the way back (and a result
whose signer the chain does not admit makes the bridge ask another sprinter)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from eth_utils import to_checksum_address

from bridge import CeleryBridge, make_sender
from neurostack.hub.samples import sample_model_path
from neurostack.protocol import (
    Address,
    InferenceJob,
    InferenceMode,
    check_receipt,
    decode_model_output,
    encode_model_input,
    model_input_from_mapping,
    model_output_to_arrays,
    request_id,
)
from neurostack.protocol import job_keys as keys
from tests.hub.helpers import run_onnx

pytestmark = pytest.mark.slow
CHAIN_ID = 4242


def make_job(cid: str, x: np.ndarray, *, deadline_in: float = 20.0) -> InferenceJob:
    input_abi = encode_model_input(model_input_from_mapping({"x": x}))
    mode = InferenceMode.VANILLA
    return InferenceJob(
        request_id=request_id(CHAIN_ID, cid, mode, input_abi),
        chain_id=CHAIN_ID,
        model_cid=cid,
        mode=mode,
        input_abi=input_abi,
        expiry=int(time.time()) + 3600,
        deadline=time.time() + deadline_in,
    )


@pytest.fixture(scope="module")
def mlp_cid(hub_stack: Any) -> str:
    return hub_stack.upload(sample_model_path("mlp_regressor"))["cid"]


def admitting(*addresses: str) -> Any:
    """The chain's rule as a test states it: these sprinter addresses, nobody else."""
    allowed = {bytes.fromhex(a[2:].lower()) for a in addresses}

    def check(signer: Address, mode: InferenceMode) -> str | None:
        return None if bytes(signer) in allowed else "not registered as a sprinter"

    return check


def workers(hub_stack: Any) -> Any:
    return admitting(*(w.address for w in hub_stack.workers.values()))


def bridge_of(url: str, **kw: Any) -> CeleryBridge:
    return CeleryBridge(url, chain_id=CHAIN_ID, **kw)


def test_job_returns_a_verified_receipt_equal_to_onnxruntime(hub_stack: Any, mlp_cid: str) -> None:
    x = np.array([[0.5, -1.25, 2.0, 0.125]], dtype=np.float32)
    bridge = bridge_of(hub_stack.redis_url, redundancy=2)
    try:
        result = bridge.submit(make_job(mlp_cid, x), admissible=workers(hub_stack)).result(30)
    finally:
        bridge.close()
    assert result.error is None, result.error
    receipt = result.receipt
    assert receipt is not None
    signer = check_receipt(receipt, chain_id=CHAIN_ID)
    assert to_checksum_address(signer) in {w.address for w in hub_stack.workers.values()}
    got = model_output_to_arrays(decode_model_output(receipt.output))["y"]
    want = run_onnx(sample_model_path("mlp_regressor"), {"x": x})["y"]
    np.testing.assert_allclose(got, want.astype(np.float64), rtol=0, atol=1e-17)


def test_same_request_is_one_job(hub_stack: Any, mlp_cid: str) -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    job = make_job(mlp_cid, x)
    bridge = bridge_of(hub_stack.redis_url)
    try:
        first = bridge.submit(job, admissible=workers(hub_stack)).result(timeout=30)
        # answered from the stored result
        again = bridge.submit(job, admissible=workers(hub_stack)).result(timeout=30)
    finally:
        bridge.close()
    assert first.receipt is not None and again.receipt == first.receipt
    rid = "0x" + job.request_id.hex()
    assert int(hub_stack.redis_client().get(keys.completed_key(CHAIN_ID, rid))) == 1


def test_outstanding_request_shares_one_future(redis_server: Any) -> None:
    cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    job = make_job(cid, np.ones((1, 4), np.float32))
    bridge = bridge_of(redis_server.url)  # no workers: the job stays outstanding
    anyone = admitting()
    try:
        assert bridge.submit(job, admissible=anyone) is bridge.submit(job, admissible=anyone)
        assert bridge.outstanding() == 1
    finally:
        bridge.close()


class DropFirstCopy:
    """A Celery app whose first message is lost, as when the worker holding it dies."""

    def __init__(self, redis_url: str) -> None:
        self.inner = make_sender(redis_url)
        self.sent = 0

    def send_task(self, *args: Any, **kwargs: Any) -> None:
        self.sent += 1
        if self.sent > 1:
            self.inner.send_task(*args, **kwargs)


def test_speculative_duplicate_completes_a_lost_job(hub_stack: Any, mlp_cid: str) -> None:
    celery = DropFirstCopy(hub_stack.redis_url)
    bridge = bridge_of(hub_stack.redis_url, speculative_after=0.5, celery=celery)
    x = np.array([[9.0, 8.0, 7.0, 6.0]], dtype=np.float32)
    try:
        result = bridge.submit(make_job(mlp_cid, x), admissible=workers(hub_stack)).result(30)
    finally:
        bridge.close()
    assert celery.sent == 2
    assert result.receipt is not None and result.error is None


def test_invalid_unknown_model_fails_with_the_workers_reason(hub_stack: Any) -> None:
    unknown = "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    bridge = bridge_of(hub_stack.redis_url)
    job = make_job(unknown, np.zeros((1, 4), np.float32))
    try:
        result = bridge.submit(job, admissible=workers(hub_stack)).result(timeout=30)
    finally:
        bridge.close()
    assert result.receipt is None
    assert result.error and "does not know model" in result.error  # the signed failure


def test_a_sprinter_the_chain_does_not_admit_hands_its_jobs_to_another(
    hub_stack: Any, mlp_cid: str
) -> None:
    """The chain admits only w1. Jobs that w0 takes come back with receipts the bridge
    refuses; the next copy names w0 in ``avoid``, w0 leaves it, w1 answers."""
    w0, w1 = (w.address for w in hub_stack.workers.values())
    bridge = bridge_of(hub_stack.redis_url)
    jobs = [make_job(mlp_cid, np.full((1, 4), 0.5 + i, np.float32)) for i in range(6)]
    try:
        futures = [bridge.submit(job, admissible=admitting(w1)) for job in jobs]
        results = [f.result(timeout=30) for f in futures]
    finally:
        bridge.close()
    assert all(r.receipt is not None for r in results), [r.error for r in results]
    assert {to_checksum_address(r.receipt.sprinter) for r in results} == {w1}  # type: ignore[union-attr]
    redis = hub_stack.redis_client()
    answered_by_w0 = [
        job for job in jobs
        if redis.hexists(keys.results_key(CHAIN_ID, keys.request_hex(job.request_id)), w0.lower())
    ]  # fmt: skip
    assert answered_by_w0, "w0 took none of six concurrent jobs: nothing was refused"


def test_invalid_no_workers_expires_at_the_deadline(redis_server: Any) -> None:
    cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    bridge = bridge_of(redis_server.url, speculative_after=0.2)
    start = time.time()
    job = make_job(cid, np.zeros((1, 4), np.float32), deadline_in=1.0)
    try:
        result = bridge.submit(job, admissible=admitting()).result(timeout=10)
    finally:
        bridge.close()
    assert result.receipt is None
    assert "deadline" in (result.error or "")
    assert 0.9 <= time.time() - start < 5
