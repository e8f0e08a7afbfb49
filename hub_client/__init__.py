"""The Neuro Stack SDK: upload models, run inference, verify receipts.

::

    from hub_client import HubClient
    with HubClient("http://127.0.0.1:8600") as hub:
        info = hub.upload_model("model.onnx", private_key=key, name="mlp")
        result = hub.infer(info.cid, {"x": [[1.0, 2.0, 3.0, 4.0]]})   # receipt verified
        print(result.arrays()["y"], result.signer)

The public surface is exactly ``__all__``; everything else (``_wire``, ``files``, ...) may
change. Talking to a rollup's ``neuro_*`` JSON-RPC (inference witnesses and Merkle proofs
against block headers) is planned as a separate ``RollupClient`` in ``hub_client/rollup.py``
beside these classes; it will reuse ``verify`` and join the error tree in ``errors``.
"""

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.tensors import ModelInput, ModelOutput

from .async_client import AsyncHubClient
from .client import DEFAULT_HUB_URL, HubClient
from .errors import (
    HubError,
    HubUnavailable,
    InferenceTimeout,
    InvalidInput,
    JobNotFound,
    ModelNotFound,
    NotFound,
    ReceiptInvalid,
    UploadRejected,
)
from .models import InferenceResult, JobStatus, ModelInfo, TensorSpec
from .verify import verify_receipt

__all__ = [
    "DEFAULT_HUB_URL",
    "AsyncHubClient",
    "HubClient",
    "HubError",
    "HubUnavailable",
    "InferenceMode",
    "InferenceReceipt",
    "InferenceResult",
    "InferenceTimeout",
    "InvalidInput",
    "JobNotFound",
    "JobStatus",
    "ModelInfo",
    "ModelInput",
    "ModelNotFound",
    "ModelOutput",
    "NotFound",
    "ReceiptInvalid",
    "TensorSpec",
    "UploadRejected",
    "verify_receipt",
]
