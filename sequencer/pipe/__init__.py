"""PIPE — parallelised inference pre-execution: the sequencer's inference mempool.

Transactions whose contracts call models are parked, simulated to find their model
calls, sent as jobs to an :class:`InferenceBackend` (``bridge.CeleryBridge`` in a devnet),
stitched together as results arrive, and released to the block builder with their
receipts as the block's witness. See docs/pipe.md.

Wiring (the composition root does this; ``sequencer`` never imports ``bridge``)::

    pool = attach(node, CeleryBridge(redis_url) if redis_url else NoInference())
    ...
    pool.close()

Modules: ``backend`` (the interface and the disabled stand-in), ``pool`` (the hooks and
the detection thread), ``calls`` (inference for ``eth_call``), ``records`` (per-block
witness storage), ``status`` (what ``neuro_getInferenceStatus`` reports), ``errors``.
"""

from .backend import NO_BACKEND_MESSAGE, InferenceBackend, NoInference
from .errors import InferenceFailed, InferenceTimedOut, InferenceUnavailable, PipeError
from .pool import InferencePool, attach, may_call_models
from .records import BlockInferences, InferenceRecords
from .status import RequestInfo, RequestState, StatusRecord, TxStatus

__all__ = [
    "NO_BACKEND_MESSAGE",
    "BlockInferences",
    "InferenceBackend",
    "InferenceFailed",
    "InferencePool",
    "InferenceRecords",
    "InferenceTimedOut",
    "InferenceUnavailable",
    "NoInference",
    "PipeError",
    "RequestInfo",
    "RequestState",
    "StatusRecord",
    "TxStatus",
    "attach",
    "may_call_models",
]  # fmt: skip
