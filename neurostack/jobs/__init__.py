"""The sprinter job protocol, implemented once for every requester (``bridge/`` for chains,
``neurostack.hub`` for off-chain inference): submit unless a valid result exists, listen
for completions, poll, redundancy copies, speculative duplicate, per-job deadline, and
every result verified (signature, hashes, request id, chain id, the signer admissible by
the caller's rule) before a future resolves. See docs/bridge.md.

This package sits between ``neurostack.protocol`` (the job schema, the Redis key names,
receipt checks) and its two users, which stay independent of each other; it may use
Redis and Celery, and imports nothing above it.

- :class:`JobClient`: the sync core (``submit(job, admissible=...) -> Future[JobResult]``).
- :class:`AsyncJobClient`: its asyncio facade (``run``, ``submit``, ``status``).
- :class:`ChainRegistration`: one chain per chain id on a hub.
"""

from .aio import AsyncJobClient, JobStatus
from .client import Expired, JobClient, TaskSender
from .errors import BrokerUnavailable, ChainIdTaken, JobsError
from .registration import ChainRegistration
from .sender import make_sender

__all__ = [
    "AsyncJobClient",
    "BrokerUnavailable",
    "ChainIdTaken",
    "ChainRegistration",
    "Expired",
    "JobClient",
    "JobStatus",
    "JobsError",
    "TaskSender",
    "make_sender",
]
