"""The Celery job schema shared by the hub API and ``bridge/`` (defined once, here).

A job is one inference request; its ``request_id`` is its idempotency key (a job delivered
twice must give the same result and be paid once). Messages are JSON-safe dicts (bytes as
0x-hex) so Celery's default JSON serializer carries them unchanged.

A result travels through Redis, which anyone holding its password can write, so a
requester uses one only after :func:`check_job_result`: a receipt must verify (signature,
hashes, request id, chain id, a decodable output) and a failure must be signed
(:func:`sign_job_error`), and in both cases the signer must be admissible by the
requester's own rule (a :data:`SignerCheck`, e.g. the chain's registry).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cid import parse_model_cid
from .errors import InvalidCID, InvalidJob, InvalidReceipt, InvalidTensor
from .hashing import keccak, uint_bytes
from .modes import InferenceMode
from .receipts import (
    InferenceReceipt,
    SigningKey,
    check_receipt,
    receipt_from_json,
    receipt_to_json,
    recover_digest_signer,
    sign_digest,
    sprinter_address,
)
from .request import request_id
from .tensors import decode_model_input, decode_model_output
from .types import Address, Hash32, ModelCID, RequestId

INFER_TASK_NAME = "neurostack.infer"
"""Celery task name of an inference job; its one argument is ``InferenceJob.to_message()``."""
INFER_QUEUE = "inference"
"""Celery queue sprinters consume."""
MESSAGE_VERSION = 1
JOB_ERROR_DOMAIN = b"neurostack.job-error.v1"
"""Domain separator of a sprinter's signed failure (:func:`job_error_digest`)."""
MAX_AVOID = 16
"""Most sprinter addresses a job may ask to stay away from (``InferenceJob.avoid``)."""

SignerCheck = Callable[[Address, InferenceMode], "str | None"]
"""Why ``signer`` may not answer a job of ``mode`` (``None``: it may). The consumer of
results supplies it: a chain checks its sprinter registry as of the block being built."""


def any_signer(signer: Address, mode: InferenceMode) -> str | None:
    """The :data:`SignerCheck` that admits every signer (a valid signature is enough)."""
    return None


@dataclass(frozen=True, slots=True)
class InferenceJob:
    """One inference to run. ``expiry`` goes into the receipt (unix seconds); ``deadline``
    (unix seconds, float) is when the requester stops waiting: workers drop late jobs, and
    each job carries its own (a ZK proof may take minutes, a VANILLA run milliseconds).
    ``avoid`` lists sprinters whose results the requester could not use (a key revoked or
    not admitted on its chain): those sprinters leave the job to others."""

    request_id: RequestId
    chain_id: int
    model_cid: ModelCID
    mode: InferenceMode
    input_abi: bytes
    expiry: int
    deadline: float
    avoid: tuple[Address, ...] = ()

    def to_message(self) -> dict[str, Any]:
        """The JSON-safe Celery payload."""
        message: dict[str, Any] = {
            "version": MESSAGE_VERSION,
            "requestId": "0x" + bytes(self.request_id).hex(),
            "chainId": self.chain_id,
            "modelCID": self.model_cid,
            "mode": int(self.mode),
            "input": "0x" + bytes(self.input_abi).hex(),
            "expiry": self.expiry,
            "deadline": self.deadline,
        }
        if self.avoid:
            message["avoid"] = ["0x" + bytes(a).hex() for a in self.avoid]
        return message

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
        avoid = _addresses(d.get("avoid", []))
        return cls(RequestId(rid), chain_id, cid, mode, input_abi, expiry, float(deadline), avoid)


@dataclass(frozen=True, slots=True)
class JobResult:
    """A worker's answer: a signed receipt, or an error message saying why there is none,
    signed by ``sprinter`` (``signature``, see :func:`sign_job_error`)."""

    request_id: RequestId
    receipt: InferenceReceipt | None
    error: str | None = None
    worker: str = ""
    signature: bytes = b""
    sprinter: Address | None = None

    def to_message(self) -> dict[str, Any]:
        """The JSON-safe Celery result."""
        message: dict[str, Any] = {
            "version": MESSAGE_VERSION,
            "requestId": "0x" + bytes(self.request_id).hex(),
            "receipt": None if self.receipt is None else receipt_to_json(self.receipt),
            "error": self.error,
            "worker": self.worker,
        }
        if self.signature:
            message["signature"] = "0x" + bytes(self.signature).hex()
        if self.sprinter is not None:
            message["sprinter"] = "0x" + bytes(self.sprinter).hex()
        return message

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
        signature = _hex(d, "signature") if d.get("signature") is not None else b""
        sprinter = None
        if d.get("sprinter") is not None:
            (sprinter,) = _addresses([d["sprinter"]], "sprinter")
        return cls(rid, receipt, error, worker, signature, sprinter)


# A JSON string, matched without backtracking (possessive), so the skeleton of a message
# (everything outside its strings) is found in linear time.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
MAX_CONTAINERS = 16  # objects and arrays outside strings in a result message (it has 2)


def read_job_result(raw: bytes) -> JobResult:
    """Parse a ``JobResult`` message that came from Redis (anyone holding its password may
    have written it); InvalidJob if it is not one.

    Nesting is bounded before ``json.loads`` runs: its C parser recurses once per level
    and checks only the interpreter's recursion limit, which py-evm's dependencies raise
    to 100,000, so ``[[[[…`` would overflow the C stack and kill the process.
    """
    if not isinstance(raw, (bytes, bytearray)):
        raise InvalidJob("a job result message must be bytes of JSON")
    if raw.count(b"{") + raw.count(b"[") > MAX_CONTAINERS:  # else strings hold some: look
        skeleton = _JSON_STRING.sub(b"", raw)
        if skeleton.count(b"{") + skeleton.count(b"[") > MAX_CONTAINERS:
            raise InvalidJob("a job result message is not nested like one")
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidJob(f"a job result message must be JSON: {str(exc)[:80]}") from None
    return JobResult.from_message(message)


def job_error_digest(chain_id: int, rid: bytes, error: str) -> Hash32:
    """``keccak256(JOB_ERROR_DOMAIN ‖ uint256 chainId ‖ requestId ‖ keccak256(utf8(error)))``:
    what a sprinter signs when it reports that a job cannot be served."""
    if len(rid) != 32:
        raise InvalidJob("a request id is 32 bytes")
    return keccak(
        JOB_ERROR_DOMAIN
        + uint_bytes(chain_id, 32, "chain id")
        + bytes(rid)
        + keccak(error.encode("utf-8", "surrogatepass"))
    )


def sign_job_error(
    chain_id: int, rid: bytes, error: str, worker: str, private_key: SigningKey
) -> JobResult:
    """The failed result of request ``rid`` on ``chain_id``, signed by a sprinter key."""
    signature = sign_digest(job_error_digest(chain_id, rid, error), private_key)
    signer = sprinter_address(private_key)
    return JobResult(RequestId(bytes(rid)), None, error, worker, signature, signer)


def job_result_signer(result: JobResult, *, chain_id: int, request_id: bytes) -> Address:
    """Verify what a result proves by itself and return who signed it.

    A receipt must pass :func:`check_receipt` for this chain and request (signature,
    output hash, model hash, request id recomputed from its fields) and carry a decodable
    ``ModelOutput``; a failure must be signed (:func:`job_error_digest`). Raises
    InvalidJob naming what failed. Whether the signer may answer is the caller's rule
    (:func:`check_job_result`).
    """
    if bytes(result.request_id) != bytes(request_id):
        raise InvalidJob("the result answers another request id")
    if result.receipt is not None:
        try:
            signer = check_receipt(result.receipt, chain_id=chain_id, request_id=request_id)
            decode_model_output(result.receipt.output)
        except (InvalidReceipt, InvalidTensor) as exc:
            raise InvalidJob(f"invalid receipt: {exc}") from None
        return signer
    if not result.signature or result.sprinter is None:
        raise InvalidJob("the failure is not signed by a sprinter")
    try:
        digest = job_error_digest(chain_id, request_id, result.error or "")
        signer = recover_digest_signer(digest, result.signature, "job error")
    except (InvalidReceipt, ValueError) as exc:
        raise InvalidJob(f"invalid failure signature: {exc}") from None
    if signer != result.sprinter:
        # Recovery always yields some address; only the one the failure names counts.
        raise InvalidJob("invalid failure signature: it was not made by the sprinter it names")
    return signer


def check_job_result(
    result: JobResult,
    *,
    chain_id: int,
    request_id: bytes,
    mode: InferenceMode,
    admissible: SignerCheck,
) -> Address:
    """Verify a result read from Redis before anyone uses it; return its signer.

    :func:`job_result_signer`, then the signer must pass ``admissible`` for ``mode``.
    Raises InvalidJob naming what failed.
    """
    signer = job_result_signer(result, chain_id=chain_id, request_id=request_id)
    problem = admissible(signer, mode)
    if problem is not None:
        raise InvalidJob(f"inadmissible signer: {problem}")
    return signer


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


def _addresses(value: Any, name: str = "avoid") -> tuple[Address, ...]:
    if not isinstance(value, list) or len(value) > MAX_AVOID:
        raise InvalidJob(f"job field {name!r} must be a list of at most {MAX_AVOID} addresses")
    out = []
    for item in value:
        raw = _hex({name: item}, name)
        if len(raw) != 20:
            raise InvalidJob(f"job field {name!r} must hold 20-byte 0x-hex addresses")
        out.append(Address(raw))
    return tuple(out)


def _hex(d: dict[str, Any], key: str) -> bytes:
    value = d.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidJob(f"job field {key!r} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidJob(f"job field {key!r} is not valid hex") from None
