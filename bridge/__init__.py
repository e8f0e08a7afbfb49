"""The rollup-to-hub path: inference requests become Celery jobs; first valid result wins.

``CeleryBridge`` implements the sequencer's ``InferenceBackend`` (``submit(job)`` returns
a future of the ``JobResult``). See docs/bridge.md.
"""

from .dispatcher import CeleryBridge, make_celery
from .errors import BridgeError, BrokerUnavailable

__all__ = ["BridgeError", "BrokerUnavailable", "CeleryBridge", "make_celery"]
