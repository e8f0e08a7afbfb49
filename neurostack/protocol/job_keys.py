"""Redis names of the job-result contract between sprinters and requesters.

Everything a job leaves in Redis lives under its chain's namespace ``neurostack:<chainId>:``
(chain id 0 is the hub's off-chain inference), so chains sharing one hub never share a
key, whatever their request ids. Per request (id written as 0x-prefixed lowercase hex):

- :func:`results_key`: a hash, one field per sprinter (its 0x address) holding the
  ``JobResult`` message (JSON) it computed. Results are kept per signer, not "first
  write wins": whoever can write Redis can add a field, so requesters verify every
  candidate and use the first valid one (:func:`neurostack.protocol.jobs.check_job_result`).
- :func:`errors_key`: the same for signed failures (unknown model, invalid input).
- :func:`done_channel`: pub/sub, the chain's completion channel. A sprinter publishes the
  whole ``JobResult`` message there when it stores one, so a requester needs no read.

Requesters never depend on Celery's result backend, and sprinters know no requester's
private channel. Names only: no I/O here.
"""

from __future__ import annotations

PREFIX = "neurostack:"
COMPLETED_TOTAL = PREFIX + "completed_total"  # request ids completed, each counted once


def request_hex(request_id: bytes) -> str:
    """The request id as the keys spell it."""
    return "0x" + bytes(request_id).hex()


def namespace(chain_id: int) -> str:
    """The prefix of every key and channel of one chain's jobs."""
    return f"{PREFIX}{int(chain_id)}:"


def done_channel(chain_id: int) -> str:
    """Pub/sub channel of a chain's completions; each message is a ``JobResult`` (JSON)."""
    return namespace(chain_id) + "done"


def results_key(chain_id: int, rid_hex: str) -> str:
    """Hash: sprinter address (0x hex) -> the ``JobResult`` message (JSON) it computed."""
    return f"{namespace(chain_id)}results:{rid_hex}"


def errors_key(chain_id: int, rid_hex: str) -> str:
    """Hash: sprinter address -> its signed failed ``JobResult`` (short-lived)."""
    return f"{namespace(chain_id)}errors:{rid_hex}"


def job_key(chain_id: int, rid_hex: str) -> str:
    """Marks a submitted job: JSON ``{"deadline": unix, "submitted": unix, "mode": n}``."""
    return f"{namespace(chain_id)}job:{rid_hex}"


def completed_key(chain_id: int, rid_hex: str) -> str:
    """Set once when a request is first completed (1, by construction; tests assert it)."""
    return f"{namespace(chain_id)}completed:{rid_hex}"


def running_key(chain_id: int, rid_hex: str) -> str:
    """Hash worker name -> pid of sprinters currently running a request (observability)."""
    return f"{namespace(chain_id)}running:{rid_hex}"


def chain_key(chain_id: int) -> str:
    """Registration of a chain on a hub: its genesis hash (0x hex), held under a lease."""
    return f"{PREFIX}chain:{int(chain_id)}"
