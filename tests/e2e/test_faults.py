"""Faults on the real stack, as DESIGN.md section 5 promises to survive them:

- a sprinter SIGKILLed while it runs a transaction's job: the bridge's speculative
  duplicate runs on the other sprinter, the transaction is included, and exactly one
  sprinter is paid exactly once;
- a sprinter that sleeps far past the deadline: the duplicate gets the transaction in;
- every sprinter down: ordinary transfers keep flowing in blocks that keep their time,
  and the inference transaction is dropped after its deadline with a reason, its nonce
  slot freed.

Each test uses inputs of its own so no receipt is already cached in Redis or in PIPE.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from eth_abi import encode
from eth_account import Account

from neurostack.protocol import job_keys

from .stack import Options, RollupStack, selector

pytestmark = pytest.mark.slow

DELAY = 2.0  # seconds every sprinter sleeps per job, so a job can be caught while it runs
DEADLINE = 12.0  # PIPE: a parked transaction waits at most this long
SPECULATIVE_AFTER = 1.0  # bridge: a job without an answer by then is sent again
BLOCK_TIME = 0.5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RollupStack]:
    options = Options(
        workers=2,
        worker_delay=DELAY,
        block_time=BLOCK_TIME,
        deadline=DEADLINE,
        speculative_after=SPECULATIVE_AFTER,
    )
    with RollupStack(tmp_path_factory.mktemp("e2e-faults"), options) as s:
        yield s


@pytest.fixture(scope="module")
def mlp(stack: RollupStack) -> str:
    return stack.upload_sample("mlp_regressor")


@pytest.fixture(scope="module")
def consumer(stack: RollupStack) -> str:
    return stack.deploy("ModelConsumer", "x", 0)


def predict(cid: str, features: list[int]) -> bytes:
    return selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, 3]
    )


def running_worker(stack: RollupStack, tx_hash: str, timeout: float = 10.0) -> str:
    """The name of the sprinter currently running the transaction's (first) job."""
    redis = stack.hub.redis_client()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = stack.client.inference_status(tx_hash)
        if status.requests:
            rid = job_keys.request_hex(status.requests[0].request_id)
            running = redis.hgetall(job_keys.running_key(rid))
            if running:
                return next(iter(running)).decode()
        time.sleep(0.02)
    raise AssertionError(f"no sprinter picked up the job of {tx_hash}\n{stack.hub.log_tail()}")


def payout(receipt: dict) -> int:  # type: ignore[type-arg]
    (call,) = receipt["inferences"]
    return int(call["modelGas"], 16) * int(receipt["effectiveGasPrice"], 16)


def test_sprinter_killed_mid_job_the_tx_is_still_included_and_paid_once(
    stack: RollupStack, mlp: str, consumer: str
) -> None:
    stack.ensure_workers(DELAY)
    before = {name: stack.balance(a) for name, a in stack.sprinters.items()}
    start_block = int(stack.rpc("eth_blockNumber"), 16)

    tx_hash = stack.send(stack.accounts[1], consumer, predict(mlp, [11, 22, 33, 44]))
    victim = running_worker(stack, tx_hash)
    stack.kill_worker(victim)
    receipt = stack.wait_receipt(tx_hash, timeout=DEADLINE + 5)

    assert receipt["status"] == "0x1"
    survivor = next(name for name in stack.sprinters if name != victim)
    (call,) = receipt["inferences"]
    assert call["sprinter"] == stack.sprinters[survivor]
    # Let a few more blocks pass: a late copy of the job must not be paid again.
    while int(stack.rpc("eth_blockNumber"), 16) < int(receipt["blockNumber"], 16) + 3:
        stack.send(stack.accounts[9], stack.accounts[8].address, value=1, gas=21_000)
        time.sleep(BLOCK_TIME)
    paid = {name: stack.balance(a) - before[name] for name, a in stack.sprinters.items()}
    assert paid == {victim: 0, survivor: payout(receipt)}
    assert int(receipt["blockNumber"], 16) > start_block


def test_sprinter_sleeping_past_the_deadline_is_overtaken_by_the_speculative_duplicate(
    stack: RollupStack, mlp: str, consumer: str
) -> None:
    for name in stack.sprinters:
        stack.kill_worker(name)
    stack.start_worker("w0", 10 * DEADLINE)  # would answer long after the tx expired
    stack.hub.wait_ready(workers=1)
    tx_hash = stack.send(stack.accounts[2], consumer, predict(mlp, [7, 8, 9, 10]))
    assert running_worker(stack, tx_hash) == "w0"
    sent = time.monotonic()

    stack.start_worker("w1", 0.0)  # idle: takes the duplicate the bridge sends
    receipt = stack.wait_receipt(tx_hash, timeout=DEADLINE)

    assert receipt["status"] == "0x1"
    assert receipt["inferences"][0]["sprinter"] == stack.sprinters["w1"]
    assert time.monotonic() - sent < DEADLINE
    stack.kill_worker("w0")  # do not leave it sleeping into the next test


def test_all_sprinters_down_transfers_flow_and_the_inference_tx_is_dropped_with_a_reason(
    stack: RollupStack, mlp: str, consumer: str
) -> None:
    for name in stack.sprinters:
        stack.kill_worker(name)
    user, payer = stack.accounts[3], stack.accounts[4]
    nonce = int(stack.rpc("eth_getTransactionCount", user.address, "pending"), 16)
    sent = time.monotonic()
    tx_hash = stack.send(user, consumer, predict(mlp, [5, 6, 7, 8]), nonce=nonce)

    # Ordinary transfers keep flowing, each within about a block time, while it waits.
    latencies, recipient = [], Account.create().address
    while time.monotonic() - sent < DEADLINE - 2:
        t0 = time.monotonic()
        receipt = stack.transact(payer, recipient, value=10**15, gas=21_000)
        assert receipt["status"] == "0x1"
        latencies.append(time.monotonic() - t0)
    assert stack.balance(recipient) == len(latencies) * 10**15
    assert sorted(latencies)[len(latencies) // 2] < 3 * BLOCK_TIME
    assert stack.client.inference_status(tx_hash).status in ("parked", "dispatched")

    end = sent + DEADLINE + 10
    while (status := stack.client.inference_status(tx_hash)).status != "dropped":
        assert time.monotonic() < end, f"still {status} after the deadline"
        time.sleep(0.1)
    assert status.reason and "deadline" in status.reason
    assert time.monotonic() - sent >= DEADLINE - 1
    assert stack.rpc("eth_getTransactionReceipt", tx_hash) is None

    # The nonce slot is free again: a plain transfer with the same nonce is included.
    assert int(stack.rpc("eth_getTransactionCount", user.address, "pending"), 16) == nonce
    again = stack.transact(user, recipient, value=1, gas=21_000, nonce=nonce)
    assert again["status"] == "0x1"
