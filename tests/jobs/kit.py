"""Test kit of the job client tests: jobs, honest and forged results, a recording Celery."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import redis

from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest, model_cid
from neurostack.protocol.jobs import InferenceJob, JobResult, sign_job_error
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import make_receipt, sprinter_address
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import (
    encode_model_input,
    encode_model_output,
    model_input_from_json,
    outputs_to_model_output,
)
from neurostack.protocol.types import Address

CHAIN_ID = 77
HONEST_KEY = b"\x01" * 32
OTHER_HONEST_KEY = b"\x02" * 32
STRANGER_KEY = b"\x09" * 32  # a valid key nobody admitted
CID = model_cid(b"some model")


@dataclass
class RecordingCelery:
    """Records what would have been queued (task ids and the jobs' ``avoid`` lists)."""

    sent: list[str] = field(default_factory=list)
    avoid: list[list[str]] = field(default_factory=list)

    def send_task(self, name: str, *, args: list[Any], task_id: str, **_: Any) -> None:
        self.sent.append(task_id)
        self.avoid.append(args[0].get("avoid", []))


def admitted(*private_keys: bytes) -> Any:
    """A SignerCheck admitting exactly the addresses of ``private_keys``."""
    allowed = {sprinter_address(k) for k in private_keys}

    def check(signer: Address, mode: InferenceMode) -> str | None:
        return None if signer in allowed else f"signer 0x{signer.hex()} is not registered"

    return check


def make_job(x: float, *, chain_id: int = CHAIN_ID, deadline_in: float = 5.0) -> InferenceJob:
    abi = encode_model_input(model_input_from_json({"x": [[x]]}))
    mode = InferenceMode.VANILLA
    return InferenceJob(
        request_id(chain_id, CID, mode, abi), chain_id, CID, mode, abi,  # type: ignore[arg-type]
        int(time.time()) + 600, time.time() + deadline_in,
    )  # fmt: skip


def receipt_result(
    job: InferenceJob, key: bytes = HONEST_KEY, *, y: float = 1.5, chain_id: int | None = None
) -> JobResult:
    """A result a sprinter holding ``key`` would store for ``job`` (on ``chain_id``)."""
    output = encode_model_output(outputs_to_model_output({"y": np.array([[y]], np.float32)}))
    receipt = make_receipt(
        chain_id=job.chain_id if chain_id is None else chain_id, model_cid=job.model_cid,
        model_hash=cid_digest(job.model_cid), mode=job.mode, input_abi=job.input_abi,
        output_abi=output, expiry=job.expiry, private_key=key,
    )  # fmt: skip
    return JobResult(receipt.request_id, receipt, None, "w-" + key[:1].hex())


def error_result(job: InferenceJob, key: bytes, error: str = "the model failed") -> JobResult:
    return sign_job_error(job.chain_id, job.request_id, error, "w-" + key[:1].hex(), key)


def plant(
    r: redis.Redis, job: InferenceJob, raw: bytes, *, field: str = "0xjunk", kind: str = "results"
) -> None:
    """Write ``raw`` into the job's results (or errors) hash and publish it, as an attacker
    holding the Redis password, or a sprinter, would."""
    rid = keys.request_hex(job.request_id)
    key = keys.results_key if kind == "results" else keys.errors_key
    r.hset(key(job.chain_id, rid), field, raw)
    r.publish(keys.done_channel(job.chain_id), raw)


def store(r: redis.Redis, job: InferenceJob, result: JobResult) -> None:
    """What an honest sprinter does with its result."""
    field = "0x" + (result.receipt.sprinter if result.receipt else result.sprinter or b"").hex()
    plant(r, job, json.dumps(result.to_message()).encode(), field=field,
          kind="results" if result.receipt else "errors")  # fmt: skip
