"""The rollup-to-hub path: inference requests become Celery jobs; first valid result wins.

``CeleryBridge`` implements the sequencer's ``InferenceBackend`` (``submit(job,
admissible=...)`` returns a future of the verified ``JobResult``) over the job client
of :mod:`neurostack.jobs`. Its errors are the job client's. See docs/bridge.md.
"""

from neurostack.jobs import BrokerUnavailable, ChainIdTaken, JobsError, make_sender

from .backend import CeleryBridge

__all__ = ["BrokerUnavailable", "CeleryBridge", "ChainIdTaken", "JobsError", "make_sender"]
