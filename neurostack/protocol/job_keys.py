"""Redis key names of the job-result contract between sprinters and requesters.

A sprinter stores the winning ``JobResult`` of a request under :func:`result_key` with
``SET NX`` (first result wins, a request is completed once) and publishes the request id
on :data:`DONE_CHANNEL`. Requesters (the hub API, ``bridge/``) wait on that channel and
re-read the key, so neither needs Celery's own result backend. Request ids are written
as 0x-prefixed lowercase hex. Names only: no I/O here.
"""

from __future__ import annotations

PREFIX = "neurostack:"
DONE_CHANNEL = PREFIX + "done"  # pub/sub: message = request id hex, sent once per completion
COMPLETED_TOTAL = PREFIX + "completed_total"  # request ids completed, each counted once


def request_hex(request_id: bytes) -> str:
    """The request id as the keys spell it."""
    return "0x" + bytes(request_id).hex()


def result_key(rid_hex: str) -> str:
    """The winning ``JobResult`` message (JSON) of a request."""
    return f"{PREFIX}result:{rid_hex}"


def error_key(rid_hex: str) -> str:
    """The last failed ``JobResult`` (JSON) of a request: short-lived, a result wins over it."""
    return f"{PREFIX}error:{rid_hex}"


def job_key(rid_hex: str) -> str:
    """Marks a submitted job: JSON ``{"deadline": unix, "submitted": unix}``."""
    return f"{PREFIX}job:{rid_hex}"


def completed_key(rid_hex: str) -> str:
    """How many times a request id was completed (1, by construction; tests assert it)."""
    return f"{PREFIX}completed:{rid_hex}"


def running_key(rid_hex: str) -> str:
    """Hash worker name -> pid of sprinters currently running a request (observability)."""
    return f"{PREFIX}running:{rid_hex}"
