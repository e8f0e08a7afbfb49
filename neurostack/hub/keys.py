"""Redis key names shared by the hub API and its sprinters (documented in docs/hub.md).

All keys use the request id as 0x-prefixed lowercase hex. Results are idempotent by
request id: the first sprinter to ``SET NX`` ``result:<id>`` wins; every later delivery
of the same job returns that stored result.
"""

from __future__ import annotations

PREFIX = "neurostack:"
DONE_CHANNEL = PREFIX + "done"  # pub/sub: message = request id hex, sent once per completion
COMPLETED_TOTAL = PREFIX + "completed_total"  # request ids completed, each counted once


def request_hex(request_id: bytes) -> str:
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
