"""The sprinter: what a hub worker does with one inference job.

``Sprinter.handle(message)`` is idempotent by request id. It returns the stored result
if a job with that id already completed; refuses jobs whose deadline passed; otherwise
gets the model (local store, else the hub's ``/v1/models/{cid}/file`` with its CID
checked), checks that it is only its own bytes (:mod:`.model_policy`, once per CID),
runs it in a sandbox process within the job's time and memory bounds (:mod:`.sandbox`),
signs the receipt, and stores the result with ``SET NX``
so that the first result wins and a request id is counted as completed exactly once;
the same script publishes the result on the hub's ``RESULT_CHANNEL`` and the id on the
shared ``DONE_CHANNEL``. The Celery task in :mod:`neurostack.hub.tasks` is a thin wrapper around it.
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
from neurostack.protocol.errors import InvalidJob, InvalidTensor
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.receipts import make_receipt
from neurostack.protocol.tensors import (
    decode_model_input,
    encode_model_output,
    model_input_to_feeds,
    outputs_to_model_output,
)

from .channels import RESULT_CHANNEL
from .errors import InvalidModel, JobRejected, TransientError
from .model_policy import check_self_contained, parse_model
from .sandbox import ModelSpec, SandboxPool, output_dict
from .settings import HubSettings

log = logging.getLogger(__name__)

ERROR_TTL = 60  # seconds a failure stays visible to GET /v1/jobs/{id}
LATE = "the job's deadline passed before a sprinter ran it"
MODEL_SPECS = 1024  # models whose input specs a sprinter remembers

# Atomically: first result wins, the request is counted once, waiters are told (the hub
# API gets the result itself, before the id goes out on the shared done channel), and
# the worker's running mark goes.
_STORE_RESULT = """
redis.call('HDEL', KEYS[6], ARGV[4])
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('INCR', KEYS[3])
  redis.call('DEL', KEYS[4])
  redis.call('PUBLISH', KEYS[7], ARGV[1])
  redis.call('PUBLISH', KEYS[5], ARGV[3])
  return 1
end
return 0
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
        self.sandboxes = pool or SandboxPool(settings)
        self._specs: OrderedDict[str, ModelSpec] = OrderedDict()
        self._specs_lock = threading.Lock()
        self._store_result = self.redis.register_script(_STORE_RESULT)
        self._http = http or (httpx.Client(timeout=30.0) if settings.hub_url else None)

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
        late = time.time() > job.deadline
        try:
            # One round trip: the stored result if any, and (for a live job) mark it running.
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(keys.result_key(rid))
            if not late:
                pipe.hset(keys.running_key(rid), self.name, os.getpid())
                pipe.expire(keys.running_key(rid), int(self.settings.job_deadline) + 60)
            stored = pipe.execute()[0]
            if stored is not None:
                if not late:
                    self.redis.hdel(keys.running_key(rid), self.name)
                return json.loads(stored)
            if late:
                # Not recorded under error:<id>: a late copy (say, redelivered after the
                # visibility timeout) must not fail a newer identical request still pending.
                log.info("dropped %s: its deadline passed before it could run", rid)
                return JobResult(job.request_id, None, LATE, self.name).to_message()
            try:
                return self._run(job, rid)
            except JobRejected as exc:
                return self._fail(job, rid, str(exc))
            except BaseException:
                self.redis.hdel(keys.running_key(rid), self.name)
                raise
        except redis.RedisError as exc:
            raise TransientError(f"Redis is unreachable: {exc}") from exc

    def _run(self, job: InferenceJob, rid: str) -> dict[str, Any]:
        if self.settings.worker_delay:
            time.sleep(self.settings.worker_delay)
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
        receipt = make_receipt(
            chain_id=job.chain_id,
            model_cid=job.model_cid,
            model_hash=cid_digest(job.model_cid),
            mode=job.mode,
            input_abi=job.input_abi,
            output_abi=encode_model_output(output),
            expiry=job.expiry,
            private_key=self._signer,
        )
        result = JobResult(job.request_id, receipt, None, self.name).to_message()
        # Keep the stored result while at least half of the receipt's validity remains, so a
        # cached answer is never handed out close to its expiry.
        ttl = max(1, int((job.expiry - time.time()) / 2))
        won = self._store_result(
            keys=[
                keys.result_key(rid),
                keys.completed_key(rid),
                keys.COMPLETED_TOTAL,
                keys.error_key(rid),
                keys.DONE_CHANNEL,
                keys.running_key(rid),
                RESULT_CHANNEL,
            ],
            args=[json.dumps(result), ttl, rid, self.name],
        )
        if won:
            log.info("completed %s on %s", rid, spec.provider)
            return result
        stored = self.redis.get(keys.result_key(rid))
        return json.loads(stored) if stored is not None else result

    def _fail(self, job: InferenceJob, rid: str, reason: str) -> dict[str, Any]:
        result = JobResult(job.request_id, None, reason, self.name).to_message()
        pipe = self.redis.pipeline()
        message = json.dumps(result)
        pipe.set(keys.error_key(rid), message, ex=ERROR_TTL)
        pipe.publish(RESULT_CHANNEL, message)
        pipe.publish(keys.DONE_CHANNEL, rid)
        pipe.hdel(keys.running_key(rid), self.name)
        pipe.execute()
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
