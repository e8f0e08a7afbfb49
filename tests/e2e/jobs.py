"""Reading the Celery messages a hub's Redis holds, as an attacker with Redis access would."""

from __future__ import annotations

import base64
import json
import time

import redis

from neurostack.protocol.jobs import InferenceJob


def sent_job(r: redis.Redis, rid: str, timeout: float = 15.0) -> InferenceJob:
    """The job of request ``rid`` as Celery carries it (queued or held by a worker)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for raw in [*r.hvals("unacked"), *r.lrange("inference", 0, -1)]:
            envelope = json.loads(raw)
            payload = envelope[0] if isinstance(envelope, list) else envelope
            if str(payload["headers"].get("id", "")).startswith(rid):
                args = json.loads(base64.b64decode(payload["body"]))[0]
                return InferenceJob.from_message(args[0])
        time.sleep(0.02)
    raise AssertionError(f"no Celery message for {rid}")
