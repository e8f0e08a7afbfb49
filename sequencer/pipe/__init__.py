"""PIPE — parallelised inference pre-execution: the sequencer's inference mempool.

Transactions whose contracts call models are parked, simulated to find their model
calls, sent as jobs to an :class:`InferenceBackend` (``bridge.CeleryBridge`` in a devnet),
stitched together as results arrive, and released to the block builder with their
receipts as the block's witness. See docs/pipe.md.

Wiring (the composition root does this; ``sequencer`` never imports ``bridge``)::

    pool = attach(node, CeleryBridge(redis_url) if redis_url else NoInference())
    ...
    pool.close()

Modules: ``backend`` (the interface and the disabled stand-in), ``pool`` (parking,
detection, the block inputs), ``view`` (what PIPE reads from the node), ``calls``
(inference for ``eth_call``), ``status`` (what ``neuro_getInferenceStatus`` reports),
``errors``. Each block's witness is stored by the engine (``sequencer.records``).
"""

from .backend import NO_BACKEND_MESSAGE, InferenceBackend, NoInference
from .errors import InferenceFailed, InferenceTimedOut, InferenceUnavailable, PipeError
from .pool import InferencePool, attach, may_call_models
from .status import RequestInfo, RequestState, StatusRecord, TxStatus
from .view import ChainView, PoolView

__all__ = [
    "NO_BACKEND_MESSAGE",
    "ChainView",
    "InferenceBackend",
    "InferenceFailed",
    "InferencePool",
    "InferenceTimedOut",
    "InferenceUnavailable",
    "NoInference",
    "PipeError",
    "PoolView",
    "RequestInfo",
    "RequestState",
    "StatusRecord",
    "TxStatus",
    "attach",
    "may_call_models",
]  # fmt: skip
