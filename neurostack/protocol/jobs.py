"""The Celery job schema shared by the hub API and ``bridge/`` (defined once, here).

A job is one inference request; its ``request_id`` is its idempotency key (a job delivered
twice must give the same result and be paid once). Messages are JSON-safe dicts (bytes as
0x-hex) so Celery's default JSON serializer carries them unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .cid import parse_model_cid
from .errors import InvalidCID, InvalidJob, InvalidReceipt, InvalidTensor
from .hashing import keccak
from .modes import InferenceMode
from .receipts import InferenceReceipt, receipt_from_json, receipt_to_json
from .request import request_id
from .tensors import decode_model_input
from .types import ModelCID, RequestId

INFER_TASK_NAME = "neurostack.infer"
"""Celery task name of an inference job; its one argument is ``InferenceJob.to_message()``."""
INFER_QUEUE = "inference"
"""Celery queue sprinters consume."""
MESSAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class InferenceJob:
    """One inference to run. ``expiry`` goes into the receipt (unix seconds); ``deadline``
    (unix seconds, float) is when the requester stops waiting: workers drop late jobs."""

    request_id: RequestId
    chain_id: int
    model_cid: ModelCID
    mode: InferenceMode
    input_abi: bytes
    expiry: int
    deadline: float

    def to_message(self) -> dict[str, Any]:
        """The JSON-safe Celery payload."""
        return {
            "version": MESSAGE_VERSION,
            "requestId": "0x" + bytes(self.request_id).hex(),
            "chainId": self.chain_id,
            "modelCID": self.model_cid,
            "mode": int(self.mode),
            "input": "0x" + bytes(self.input_abi).hex(),
            "expiry": self.expiry,
            "deadline": self.deadline,
        }

    @classmethod
    def from_message(cls, d: Any) -> InferenceJob:
        """Parse and check a payload (CID, input ABI, and that the request id matches)."""
        if not isinstance(d, dict):
            raise InvalidJob("an inference job message must be a JSON object")
        if d.get("version", MESSAGE_VERSION) != MESSAGE_VERSION:
            raise InvalidJob(f"job message version {d.get('version')!r}; this worker reads 1")
        chain_id = _int(d, "chainId", 2**256)
        expiry = _int(d, "expiry", 2**64)
        deadline = d.get("deadline")
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
            raise InvalidJob("job field 'deadline' must be a number (unix seconds)")
        if not math.isfinite(deadline):
            raise InvalidJob("job field 'deadline' must be finite")
        try:
            mode = InferenceMode(_int(d, "mode", 256))
            cid = parse_model_cid(d.get("modelCID"))  # type: ignore[arg-type]
            input_abi = _hex(d, "input")
            decode_model_input(input_abi)
        except (ValueError, InvalidCID, InvalidTensor) as exc:
            raise InvalidJob(f"invalid inference job: {exc}") from None
        rid = _hex(d, "requestId")
        if rid != request_id(chain_id, cid, mode, input_abi):
            raise InvalidJob(
                "job requestId does not match its chain id, model, mode and input; "
                "build jobs with request_id()"
            )
        return cls(RequestId(rid), chain_id, cid, mode, input_abi, expiry, float(deadline))


@dataclass(frozen=True, slots=True)
class JobResult:
    """A worker's answer: a signed receipt, or an error message saying why there is none."""

    request_id: RequestId
    receipt: InferenceReceipt | None
    error: str | None = None
    worker: str = ""

    def to_message(self) -> dict[str, Any]:
        """The JSON-safe Celery result."""
        return {
            "version": MESSAGE_VERSION,
            "requestId": "0x" + bytes(self.request_id).hex(),
            "receipt": None if self.receipt is None else receipt_to_json(self.receipt),
            "error": self.error,
            "worker": self.worker,
        }

    @classmethod
    def from_message(cls, d: Any) -> JobResult:
        """Parse a result; InvalidJob if malformed or if the receipt answers another request."""
        if not isinstance(d, dict):
            raise InvalidJob("a job result message must be a JSON object")
        rid = RequestId(_hex(d, "requestId"))
        error, worker = d.get("error"), d.get("worker", "")
        if error is not None and not isinstance(error, str):
            raise InvalidJob("job result field 'error' must be a string or null")
        if not isinstance(worker, str):
            raise InvalidJob("job result field 'worker' must be a string")
        receipt = None
        if d.get("receipt") is not None:
            try:
                receipt = receipt_from_json(d["receipt"])
            except InvalidReceipt as exc:
                raise InvalidJob(f"job result carries a malformed receipt: {exc}") from None
            if receipt.request_id != rid:
                raise InvalidJob("job result receipt answers another request id")
        elif error is None:
            raise InvalidJob("job result has neither a receipt nor an error")
        return cls(rid, receipt, error, worker)


def shard_key(model_cid: str, input_hash: bytes) -> str:
    """Routing key of a request: hex ``keccak256(utf8(modelCID) ‖ inputHash)``.

    Equal (model, input) pairs always map to the same key, so a router that hashes it to
    a worker or queue sends identical work to the same place (warm session cache).
    """
    return keccak(model_cid.encode("utf-8") + bytes(input_hash)).hex()


def shard_index(key: str, shards: int) -> int:
    """Which of ``shards`` buckets a :func:`shard_key` falls in (uniform, stable)."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    return int(key[:16], 16) % shards


def _int(d: dict[str, Any], key: str, bound: int) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < bound:
        raise InvalidJob(f"job field {key!r} must be an integer from 0 to {bound - 1}")
    return value


def _hex(d: dict[str, Any], key: str) -> bytes:
    value = d.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidJob(f"job field {key!r} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidJob(f"job field {key!r} is not valid hex") from None
