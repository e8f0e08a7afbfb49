"""Attacks through a raw Redis client on the hub's broker, with its password (what a
compromised Redis, or anyone who learned the password, can do): while an honest sprinter
computes a transaction's job, the attacker writes a result of their own into the
request's result hash and publishes it on the chain's completion channel. Whatever it is
(a bad signature, a key the registry does not admit or has revoked, another request's or
another chain's receipt, an unsigned failure, garbage, a huge or deeply nested value), the
honest result is the one used: the transaction is included with the model's real output,
paid to an honest sprinter, and the chain goes on serving. Without the password, Redis
refuses the client.

The job the attacker targets is read the way they would: from Celery's messages in Redis.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak

from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.receipts import make_receipt
from neurostack.protocol.registry import REGISTRY_ADDRESS
from neurostack.protocol.tensors import (
    ModelInput,
    Number,
    NumberTensor,
    encode_model_input,
    encode_model_output,
    model_input_to_json,
    outputs_to_model_output,
)

from .jobs import sent_job
from .models import chain_value, mlp_output
from .stack import CHAIN_ID, Options, RollupStack, predict, selector

pytestmark = pytest.mark.slow

DELAY = 2.0  # each sprinter sleeps this long per job: the attacker's window
REVOKED = Account.create()  # admitted in genesis, revoked by the chain owner before the attacks
STRANGER = Account.create()  # never admitted
DECIMALS = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RollupStack]:
    options = Options(
        workers=2, worker_delay=DELAY, deadline=30.0, speculative_after=10.0,
        extra_sprinters=(REVOKED.address,),
    )  # fmt: skip
    with RollupStack(tmp_path_factory.mktemp("e2e-redis-attacks"), options) as s:
        owner = Account.from_key(s.sequencer_key)
        s.transact(s.accounts[9], owner.address, value=10**18, gas=21_000)
        revoke = keccak(text="revokeSprinter(address)")[:4] + encode(["address"], [REVOKED.address])
        receipt = s.transact(owner, "0x" + bytes(REGISTRY_ADDRESS).hex(), revoke, gas=200_000)
        assert receipt["status"] == "0x1"
        yield s


@pytest.fixture(scope="module")
def replayable(stack: RollupStack, mlp: str, consumer: str) -> dict[str, Any]:
    """An honest receipt of an earlier transaction: what an attacker could replay."""
    receipt = stack.transact(stack.accounts[8], consumer, predict(mlp, [1, 1, 1, 1]))
    proof = stack.rpc("neuro_getInferenceProof", receipt["transactionHash"])
    return dict(proof["receipt"])


def signed_by(job: InferenceJob, key: str, *, chain_id: int = CHAIN_ID) -> JobResult:
    """A well-formed receipt for ``job`` with an output the attacker chose."""
    output = encode_model_output(outputs_to_model_output({"y": np.array([[666.0]], np.float32)}))
    receipt = make_receipt(
        chain_id=chain_id, model_cid=job.model_cid, model_hash=cid_digest(job.model_cid),
        mode=job.mode, input_abi=job.input_abi, output_abi=output, expiry=job.expiry,
        private_key=key,
    )  # fmt: skip
    return JobResult(receipt.request_id, receipt, None, "attacker")


def as_bytes(result: JobResult) -> bytes:
    return json.dumps(result.to_message()).encode()


def contract_input(features: list[int]) -> ModelInput:
    """The input ModelConsumer.predict builds (a [1, n] tensor "x" of features·10^-3)."""
    values = tuple(Number(f, DECIMALS) for f in features)
    return ModelInput(numbers=(NumberTensor("x", values, (1, len(features))),))


def off_chain_receipt(stack: RollupStack, cid: str, features: list[int]) -> dict[str, Any]:
    """An honest sprinter's receipt of this very input, from the hub's off-chain API
    (chain id 0): signed by a registered key, but for another chain."""
    body = {"modelCID": cid, "input": model_input_to_json(contract_input(features))}
    with stack.hub.client() as hub:
        receipt = dict(hub.post("/v1/infer", json=body).json()["receipt"])
    assert receipt["chainId"] == 0
    return receipt


def forge(kind: str, job: InferenceJob, stack: RollupStack, replay: dict[str, Any]) -> bytes:
    rid = keys.request_hex(job.request_id)
    honest = next(iter(stack.sprinters.values()))
    if kind == "bad-signature":  # names an honest sprinter, signed by someone else
        forged = signed_by(job, STRANGER.key.hex())
        assert forged.receipt is not None
        receipt = dataclasses.replace(forged.receipt, sprinter=bytes.fromhex(honest[2:]))
        return as_bytes(JobResult(job.request_id, receipt, None, "attacker"))
    if kind == "unregistered-signer":
        return as_bytes(signed_by(job, STRANGER.key.hex()))
    if kind == "revoked-signer":
        return as_bytes(signed_by(job, REVOKED.key.hex()))
    if kind == "another-request":  # an honest receipt, replayed under this request
        return json.dumps({"version": 1, "requestId": rid, "receipt": replay, "error": None,
                           "worker": "w0"}).encode()  # fmt: skip
    if kind == "another-chain":  # an honest sprinter's receipt of this input, for chain 0
        return json.dumps({"version": 1, "requestId": rid, "receipt": replay, "error": None,
                           "worker": "w0"}).encode()  # fmt: skip
    if kind == "unsigned-failure":  # accepted, it would drop the transaction
        return json.dumps({"version": 1, "requestId": rid, "receipt": None,
                           "error": "unknown model", "worker": "w0"}).encode()  # fmt: skip
    if kind == "garbage":
        return secrets.token_bytes(512)
    if kind == "nested":  # json.loads would recurse 200,000 levels: a crashed process
        return b'{"requestId": "' + rid.encode() + b'", "x": ' + b"[" * 200_000
    if kind == "huge":
        return b'{"requestId": "' + rid.encode() + b'", "x": "' + b"0" * (24 << 20) + b'"}'
    raise AssertionError(kind)


KINDS = [
    "bad-signature", "unregistered-signer", "revoked-signer", "another-request",
    "another-chain", "unsigned-failure", "garbage", "nested", "huge",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_result_written_into_redis_never_replaces_the_honest_one(
    stack: RollupStack, mlp: str, consumer: str, replayable: dict[str, Any], kind: str
) -> None:
    stack.ensure_workers(DELAY)
    features = [KINDS.index(kind) + 2, 7, -3, 5]
    if kind == "another-chain":  # taken before the transaction is sent: ready to replay
        replayable = off_chain_receipt(stack, mlp, features)
    r = stack.hub.redis_client()  # the attacker holds the password
    user = stack.accounts[KINDS.index(kind) % 7]
    tx_hash = stack.send(user, consumer, predict(mlp, features))
    status = stack.client.inference_status(tx_hash)
    end = time.monotonic() + 10
    while not status.requests and time.monotonic() < end:
        time.sleep(0.02)
        status = stack.client.inference_status(tx_hash)
    rid = keys.request_hex(status.requests[0].request_id)
    job = sent_job(r, rid)
    assert job.input_abi == encode_model_input(contract_input(features))

    forged = forge(kind, job, stack, replayable)
    r.hset(keys.results_key(CHAIN_ID, rid), "0x" + "ab" * 20, forged)
    r.publish(keys.done_channel(CHAIN_ID), forged)
    if kind == "unsigned-failure":
        r.hset(keys.errors_key(CHAIN_ID, rid), "0x" + "ab" * 20, forged)

    receipt = stack.wait_receipt(tx_hash, timeout=30)
    assert receipt["status"] == "0x1", receipt
    (call,) = receipt["inferences"]
    assert call["sprinter"] in stack.sprinters.values()  # an honest sprinter, paid
    stored = decode(["int256"], stack.call(consumer, selector("ModelConsumer", "lastValue")))
    assert stored[0] == chain_value(mlp_output(features, DECIMALS))[0]  # the model's output
    proof = stack.client.inference_proof(tx_hash)
    stack.client.verify_inference_proof(
        proof, int(receipt["blockNumber"], 16), expected_signers=stack.sprinters.values()
    )
    # The chain keeps serving: an ordinary transfer goes in.
    assert (
        stack.transact(stack.accounts[9], Account.create().address, value=1, gas=21_000)["status"]
        == "0x1"
    )


def test_invalid_redis_client_without_the_password_is_refused(stack: RollupStack) -> None:
    url = stack.hub.redis_url
    assert stack.hub.redis.auth is not None and stack.hub.redis.auth.password in url
    port = stack.hub.redis.port
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).set("neurostack:x", "y")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port, password="guess").ping()
