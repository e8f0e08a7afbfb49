"""The Neuro Stack SDK: upload models, run inference, verify receipts.

::

    from hub_client import HubClient
    with HubClient("http://127.0.0.1:8600") as hub:
        info = hub.upload_model("model.onnx", private_key=key, name="mlp")
        result = hub.infer(info.cid, {"x": [[1.0, 2.0, 3.0, 4.0]]})   # receipt verified
        print(result.arrays()["y"], result.signer)

The public surface is exactly ``__all__``; everything else (``_wire``, ``files``, ...) may
change. ``RollupClient`` (``hub_client/rollup.py``) talks to a rollup's ``neuro_*`` JSON-RPC:
inference witnesses, statuses and Merkle proofs, verified locally against block headers::

    from hub_client import RollupClient
    with RollupClient("http://127.0.0.1:8545") as rollup:
        checked = rollup.verify_inference_proof(rollup.inference_proof(tx_hash))
        proven = rollup.verify_inference(tx_hash)   # the light client: trusts no RPC answer

It is also a small dApp toolkit (``hub_client/dapp.py``): ``rollup.deploy(account,
artifact, *args)`` returns a ``Contract`` to ``.call(...)`` and ``.transact(...)``;
``send_transaction``/``wait_for_receipt`` sign locally and follow PIPE's status.
"""

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.tensors import ModelInput, ModelOutput

from .async_client import AsyncHubClient
from .client import DEFAULT_HUB_URL, HubClient
from .dapp import Contract, Event, InferenceCall, TransactionReceipt
from .errors import (
    ContractReverted,
    HubError,
    HubUnavailable,
    InferenceDropped,
    InferenceNotFound,
    InferenceTimeout,
    InvalidInput,
    JobNotFound,
    ModelNotFound,
    NotFound,
    ProofInvalid,
    ReceiptInvalid,
    RollupError,
    RollupUnavailable,
    RpcError,
    UploadRejected,
    VerificationFailed,
)
from .light import Check, CheckName, InferenceVerification, Outcome
from .models import InferenceResult, JobStatus, ModelInfo, TensorSpec, ZkCircuit, ZkStep
from .rollup import (
    BlockHeader,
    ChainInfo,
    InferenceProof,
    InferenceStatus,
    InferenceWitness,
    RollupClient,
    VerifiedInference,
)
from .verify import ZkKeys, verify_receipt

__all__ = [
    "DEFAULT_HUB_URL",
    "AsyncHubClient",
    "BlockHeader",
    "ChainInfo",
    "Check",
    "CheckName",
    "Contract",
    "ContractReverted",
    "Event",
    "HubClient",
    "HubError",
    "HubUnavailable",
    "InferenceCall",
    "InferenceDropped",
    "InferenceMode",
    "InferenceNotFound",
    "InferenceProof",
    "InferenceReceipt",
    "InferenceResult",
    "InferenceStatus",
    "InferenceTimeout",
    "InferenceVerification",
    "InferenceWitness",
    "InvalidInput",
    "JobNotFound",
    "JobStatus",
    "ModelInfo",
    "ModelInput",
    "ModelNotFound",
    "ModelOutput",
    "NotFound",
    "Outcome",
    "ProofInvalid",
    "ReceiptInvalid",
    "RollupClient",
    "RollupError",
    "RollupUnavailable",
    "RpcError",
    "TensorSpec",
    "TransactionReceipt",
    "UploadRejected",
    "VerificationFailed",
    "VerifiedInference",
    "ZkCircuit",
    "ZkKeys",
    "ZkStep",
    "verify_receipt",
]
