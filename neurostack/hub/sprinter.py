"""The sprinter: what a hub worker does with one inference job.

``Sprinter.handle(message)`` is idempotent by request id and signer: a job this sprinter
already answered returns its stored result. It refuses jobs whose deadline passed and
jobs that ask it to stay away (``avoid``: its results are not usable on that chain);
otherwise, for a VANILLA job, it gets the model (local store, else the hub's
``/v1/models/{cid}/file`` with its CID checked), checks that it is only its own bytes
(:mod:`.model_policy`, once per CID) and runs it in a sandbox process within the job's
time and memory bounds (:mod:`.sandbox`); a ZK job is proved by :mod:`.zk_prover` in the
worker itself (see docs/security.md). It signs the receipt and stores it under its own
address in the request's results hash (:mod:`neurostack.protocol.job_keys`), counting the
request completed once; the same script publishes the result on the chain's completion
channel, which every requester of that chain (hub API, bridge) listens to. A failure is
signed too, so that requesters can tell it from one planted in Redis. The Celery task in
:mod:`neurostack.hub.tasks` is a thin wrapper around it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import redis
from eth_keys.datatypes import PrivateKey

from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest, model_cid
from neurostack.protocol.errors import InvalidJob, InvalidReceipt, InvalidTensor
from neurostack.protocol.jobs import InferenceJob, JobResult, read_job_result, sign_job_error
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import (
    InferenceReceipt,
    check_receipt,
    make_receipt,
    sprinter_address,
)
from neurostack.protocol.tensors import (
    decode_model_input,
    encode_model_output,
    model_input_to_feeds,
    outputs_to_model_output,
)

from .errors import Avoided, InvalidModel, JobRejected, TransientError
from .model_policy import check_self_contained, parse_model
from .sandbox import ModelSpec, SandboxPool, output_dict
from .settings import HubSettings
from .zk_prover import ZkProver

log = logging.getLogger(__name__)

ERROR_TTL = 60  # seconds a failure stays visible to GET /v1/jobs/{id}
LATE = "the job's deadline passed before a sprinter ran it"
MODEL_SPECS = 1024  # models whose input specs a sprinter remembers

# Atomically: this sprinter's result is stored under its own address (a non-hash value at
# the key is planted junk and goes), the request is counted completed once, the chain's
# requesters get the result itself, and the worker's running mark goes. The counter comes
# last and may fail without undoing the rest (a planted non-integer).
_STORE_RESULT = """
redis.pcall('HDEL', KEYS[5], ARGV[4])
if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', KEYS[4], ARGV[1])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.pcall('INCR', KEYS[3])
  return 1
end
return 0
"""
# The same for a signed failure, kept ERROR_TTL seconds.
_STORE_ERROR = """
redis.pcall('HDEL', KEYS[3], ARGV[4])
if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1
"""


class Sprinter:
    """Runs inference jobs for one worker process (thread-safe)."""

    def __init__(
        self,
        settings: HubSettings,
        redis_client: redis.Redis,
        http: httpx.Client | None = None,
        pool: SandboxPool | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.name = settings.worker_name
        # Read before any model is: the key never has to be found while one is loaded.
        self.private_key = settings.signing_key()
        self._signer = PrivateKey(self.private_key)  # built once: derives the public key
        self.address = sprinter_address(self._signer)
        self._field = "0x" + self.address.hex()  # this sprinter's field in result hashes
        self.sandboxes = pool or SandboxPool(settings)
        self._specs: OrderedDict[str, ModelSpec] = OrderedDict()
        self._specs_lock = threading.Lock()
        self._store_result = self.redis.register_script(_STORE_RESULT)
        self._store_error = self.redis.register_script(_STORE_ERROR)
        self._http = http or (httpx.Client(timeout=30.0) if settings.hub_url else None)
        self.zk = ZkProver(settings, self._http)

    # -- the job --------------------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """Serve one job message; returns a ``JobResult`` message. Raises
        :class:`TransientError` for failures worth a retry."""
        try:
            job = InferenceJob.from_message(message)
        except InvalidJob as exc:
            log.warning("rejected a malformed job: %s", exc)
            return error_message(message, f"invalid job: {exc}", self.name)
        rid = keys.request_hex(job.request_id)
        if self.address in job.avoid:
            raise Avoided(f"{rid}: the requester cannot use results signed by {self._field}")
        late = time.time() > job.deadline
        running = keys.running_key(job.chain_id, rid)
        try:
            # One round trip: our stored result if any, and (for a live job) mark it running.
            # A planted value of the wrong type fails its command only (raise_on_error off).
            pipe = self.redis.pipeline(transaction=False)
            pipe.hget(keys.results_key(job.chain_id, rid), self._field)
            if not late:
                pipe.hset(running, self.name, os.getpid())
                # a ZK job's deadline (the job's own) is longer than job_deadline
                ttl = max(job.deadline - time.time(), self.settings.job_deadline)
                pipe.expire(running, int(ttl) + 60)
            stored = pipe.execute(raise_on_error=False)[0]
            mine = self._own_result(job, stored)
            if mine is not None:
                if not late:
                    self.redis.hdel(running, self.name)
                return mine
            if late:
                # Not recorded as an error: a late copy (say, redelivered after the visibility
                # timeout) must not fail a newer identical request still pending.
                log.info("dropped %s: its deadline passed before it could run", rid)
                return JobResult(job.request_id, None, LATE, self.name).to_message()
            try:
                return self._run(job, rid)
            except JobRejected as exc:
                return self._fail(job, rid, str(exc))
            except BaseException:
                self.redis.hdel(running, self.name)
                raise
        except redis.RedisError as exc:
            raise TransientError(f"Redis is unreachable: {exc}") from exc

    def _own_result(self, job: InferenceJob, stored: Any) -> dict[str, Any] | None:
        """Our stored result of ``job``, if it really is ours (anyone may write the field)."""
        if not isinstance(stored, bytes):
            return None
        try:
            result = read_job_result(stored)
            if result.receipt is None:
                return None
            signer = check_receipt(result.receipt, chain_id=job.chain_id, request_id=job.request_id)
        except (InvalidJob, InvalidReceipt):
            return None
        return result.to_message() if signer == self.address else None

    def _run(self, job: InferenceJob, rid: str) -> dict[str, Any]:
        if self.settings.worker_delay:
            time.sleep(self.settings.worker_delay)
        proof = b""
        if job.mode == InferenceMode.ZK:
            output_abi, proof = self.zk.prove(job)
            provider = "ezkl"
        else:
            output_abi, provider = self._infer(job)
        receipt = make_receipt(
            chain_id=job.chain_id,
            model_cid=job.model_cid,
            model_hash=cid_digest(job.model_cid),
            mode=job.mode,
            input_abi=job.input_abi,
            output_abi=output_abi,
            expiry=job.expiry,
            private_key=self._signer,
            proof=proof,
        )
        return self._store(job, rid, receipt, provider)

    def _infer(self, job: InferenceJob) -> tuple[bytes, str]:
        """The model's output for ``job`` (ABI-encoded), run in a sandbox, and the provider
        that ran it."""
        try:
            inp = decode_model_input(job.input_abi)
        except InvalidTensor as exc:
            raise JobRejected(f"invalid input for model {job.model_cid}: {exc}") from None

        def feeds(spec: ModelSpec) -> dict[str, Any]:
            try:
                return model_input_to_feeds(inp, spec.input_specs)
            except InvalidTensor as exc:
                raise JobRejected(f"invalid input for model {job.model_cid}: {exc}") from None

        cid = job.model_cid
        spec = self._known_spec(cid)
        data = None if spec is not None else self._checked_model_bytes(cid)
        spec, arrays = self.sandboxes.run_job(
            cid,
            spec,
            lambda: data if data is not None else self._model_bytes(cid),
            feeds,
            job.deadline,
        )
        self._remember_spec(cid, spec)
        try:
            output = outputs_to_model_output(output_dict(spec, arrays))
        except InvalidTensor as exc:
            raise JobRejected(f"the model's output cannot be encoded: {exc}") from None
        return encode_model_output(output), spec.provider

    def _store(
        self, job: InferenceJob, rid: str, receipt: InferenceReceipt, provider: str
    ) -> dict[str, Any]:
        result = JobResult(job.request_id, receipt, None, self.name).to_message()
        # Keep the stored result while at least half of the receipt's validity remains, so a
        # cached answer is never handed out close to its expiry.
        ttl = max(1, int((job.expiry - time.time()) / 2))
        first = self._store_result(
            keys=[
                keys.results_key(job.chain_id, rid),
                keys.completed_key(job.chain_id, rid),
                keys.COMPLETED_TOTAL,
                keys.done_channel(job.chain_id),
                keys.running_key(job.chain_id, rid),
            ],
            args=[json.dumps(result), ttl, self._field, self.name],
        )
        log.info("completed %s on %s%s", rid, provider, "" if first else " (again)")
        return result

    def _fail(self, job: InferenceJob, rid: str, reason: str) -> dict[str, Any]:
        failed = sign_job_error(job.chain_id, job.request_id, reason, self.name, self._signer)
        result = failed.to_message()
        self._store_error(
            keys=[
                keys.errors_key(job.chain_id, rid),
                keys.done_channel(job.chain_id),
                keys.running_key(job.chain_id, rid),
            ],
            args=[json.dumps(result), ERROR_TTL, self._field, self.name],
        )
        log.info("job %s failed: %s", rid, reason)
        return result

    # -- models ---------------------------------------------------------------------

    def _known_spec(self, cid: str) -> ModelSpec | None:
        with self._specs_lock:
            spec = self._specs.get(cid)
            if spec is not None:
                self._specs.move_to_end(cid)
            return spec

    def _remember_spec(self, cid: str, spec: ModelSpec) -> None:
        with self._specs_lock:
            self._specs[cid] = spec
            self._specs.move_to_end(cid)
            while len(self._specs) > MODEL_SPECS:
                self._specs.popitem(last=False)

    def _checked_model_bytes(self, cid: str) -> bytes:
        """The model's bytes, checked to be only their own (the store checked them at
        upload too, but a worker may get them from elsewhere, and checks cost little)."""
        data = self._model_bytes(cid)
        try:
            check_self_contained(parse_model(data))
        except InvalidModel as exc:
            raise JobRejected(f"model {cid} cannot be served: {exc}") from None
        return data

    def _model_bytes(self, cid: str) -> bytes:
        local = Path(self.settings.store_dir) / "models" / f"{cid}.onnx"
        try:
            data = local.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            raise TransientError(f"cannot read {local}: {exc}") from exc
        if data is not None and model_cid(data) == cid:
            return data
        if self._http is None:
            raise JobRejected(
                f"model {cid} is not in this worker's store ({self.settings.store_dir}) and no "
                "hub URL is set to download it from (--hub-url)"
            )
        url = f"{self.settings.hub_url.rstrip('/')}/v1/models/{cid}/file"  # type: ignore[union-attr]
        try:
            response = self._http.get(url)
        except httpx.HTTPError as exc:
            raise TransientError(f"cannot download {url}: {exc}") from exc
        if response.status_code in (400, 404):
            raise JobRejected(f"the hub does not know model {cid}; upload it first")
        if response.status_code != 200:
            raise TransientError(f"downloading {url} answered HTTP {response.status_code}")
        data = response.content
        if model_cid(data) != cid:
            raise TransientError(f"the file downloaded from {url} does not match CID {cid}")
        return data


def error_message(message: Any, reason: str, worker: str) -> dict[str, Any]:
    """A failed ``JobResult`` message for a job that may not even parse."""
    rid = message.get("requestId", "") if isinstance(message, dict) else ""
    return {"version": 1, "requestId": rid, "receipt": None, "error": reason, "worker": worker}


__all__ = ["Sprinter", "error_message"]
