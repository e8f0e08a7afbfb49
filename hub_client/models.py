"""The SDK's data: what the hub returns, as frozen dataclasses (no behaviour beyond views)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.tensors import ModelOutput, model_output_to_arrays
from neurostack.protocol.types import Address, Hash32, ModelCID, RequestId

JobState = Literal["pending", "done", "failed"]
ZkState = Literal["pending", "ready", "failed"]


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output: its name, numpy dtype name and shape (None = dynamic)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None


@dataclass(frozen=True)
class ZkStep:
    """One step of a model's ZK setup on the hub; ``seconds`` is None while it runs."""

    name: str
    seconds: float | None


@dataclass(frozen=True)
class ZkCircuit:
    """A model's ZK circuit as the hub describes it (``ModelInfo.zk``).

    ``settings_hash`` and ``verifying_key_hash`` (sha256 of the artefact bytes) are what a
    chain's registry records; every hash names a file of ``GET /v1/zk/artifacts/{hash}``.
    """

    status: ZkState
    reason: str | None = None
    steps: tuple[ZkStep, ...] = ()
    logrows: int | None = None
    input_scales: tuple[int, ...] = ()
    output_scales: tuple[int, ...] = ()
    proof_bytes: int | None = None
    development_srs: bool | None = None
    settings_hash: Hash32 | None = None
    verifying_key_hash: Hash32 | None = None
    proving_key_hash: Hash32 | None = None
    circuit_hash: Hash32 | None = None
    srs_hash: Hash32 | None = None
    backend: str | None = None
    backend_version: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@dataclass(frozen=True)
class ModelInfo:
    """A model stored on the hub, as ``GET /v1/models/{cid}`` describes it."""

    cid: ModelCID
    name: str
    version: str
    owner: str
    description: str
    size: int
    model_hash: Hash32
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    created: str | float | None = None
    zk: ZkCircuit | None = None


@dataclass(frozen=True)
class InferenceResult:
    """A model's output with the sprinter's signed receipt for it.

    ``signer`` is the address the receipt's signature recovered to when the client
    verified it (``None`` when verification was turned off).
    """

    output: ModelOutput
    receipt: InferenceReceipt
    request_id: RequestId
    worker: str
    signer: Address | None = None

    @property
    def verified(self) -> bool:
        """True when the client checked the receipt against what it sent."""
        return self.signer is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """The output tensors as numpy arrays (floats as float64, strings as str objects)."""
        return model_output_to_arrays(self.output)


@dataclass(frozen=True)
class JobStatus:
    """An asynchronous inference job: ``pending`` until a sprinter answers."""

    job_id: str
    status: JobState
    result: InferenceResult | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status != "pending"
