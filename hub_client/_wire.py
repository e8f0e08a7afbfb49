"""The hub's HTTP API on the client side: building requests, reading responses, mapping errors.

Both :class:`~hub_client.HubClient` and :class:`~hub_client.AsyncHubClient` are thin shells
over these functions; only the line that sends a request differs between them, so every
rule about paths, bodies, status codes and response shapes is written once, here.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

import httpx
import numpy as np
from eth_utils import decode_hex

from neurostack.protocol.cid import parse_model_cid
from neurostack.protocol.errors import ProtocolError
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import receipt_from_json
from neurostack.protocol.tensors import (
    ModelInput,
    encode_model_input,
    model_input_from_mapping,
    model_input_to_json,
    model_output_from_json,
)
from neurostack.protocol.types import Hash32, ModelCID, RequestId
from neurostack.protocol.uploads import parse_hub_id

from .errors import (
    HubError,
    HubUnavailable,
    InferenceTimeout,
    InvalidInput,
    JobNotFound,
    ModelNotFound,
    ReceiptInvalid,
    UploadRejected,
)
from .models import (
    InferenceResult,
    JobState,
    JobStatus,
    ModelInfo,
    TensorSpec,
    ZkCircuit,
    ZkState,
    ZkStep,
)
from .verify import SentRequest, ZkKeys, verify_against_request

MODELS_PATH = "/v1/models"
HUB_PATH = "/v1/hub"
INFER_PATH = "/v1/infer"
JOBS_PATH = "/v1/jobs"
ZK_ARTIFACTS_PATH = "/v1/zk/artifacts"

#: Inputs a caller may pass to ``infer``: a ``ModelInput`` or name -> array / nested lists.
Inputs = ModelInput | Mapping[str, "np.ndarray | list[Any] | float | int | str"]


class Area(Enum):
    """Which part of the API a call belongs to: decides what a 4xx means to the caller."""

    MODELS = "models"
    UPLOAD = "upload"
    INFER = "infer"
    JOBS = "jobs"
    ZK = "zk"


def model_path(cid: str) -> str:
    return f"{MODELS_PATH}/{cid}"


def job_path(job_id: str) -> str:
    return f"{JOBS_PATH}/{job_id}"


def checked_cid(cid: str) -> ModelCID:
    """The CID, validated locally so a typo costs no round trip."""
    try:
        return parse_model_cid(cid)
    except ProtocolError as exc:
        raise InvalidInput(
            f"{cid!r} is not a model CID: {exc}", hint="model CIDs look like 'bafkrei...'"
        ) from None


# --- errors ---------------------------------------------------------------------------------


def _detail(response: httpx.Response) -> str:
    """The hub's message: FastAPI's ``{"detail": ...}`` (a string or a validation list)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI request-validation errors
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', ()))}: {item.get('msg', item)}"
            if isinstance(item, dict)
            else str(item)
            for item in detail
        )
    return str(detail)


def raise_for_status(response: httpx.Response, area: Area) -> None:
    """Turn a non-2xx answer into the typed error a caller of ``area`` can act on."""
    if response.is_success:
        return
    status, detail = response.status_code, _detail(response)
    if status == 404 and area is Area.JOBS:
        raise JobNotFound(
            detail, status=status, hint="job results expire; submit the request again"
        )
    if status == 404:
        raise ModelNotFound(
            detail, status=status, hint="list the stored models with `neurostack model list`"
        )
    if area is Area.UPLOAD and 400 <= status < 500:
        raise UploadRejected(detail, status=status, hint="fix the file or key and upload again")
    if status in (400, 422):
        raise InvalidInput(
            detail,
            status=status,
            hint="compare with the model's inputs (`neurostack model show CID`)",
        )
    if status in (408, 504):
        raise InferenceTimeout(detail, status=status, hint="retry, or add sprinter workers")
    if status >= 500:
        raise HubUnavailable(detail, status=status, hint="the hub failed on its side; retry later")
    raise HubError(detail, status=status)


@contextlib.contextmanager
def translate_transport_errors(base_url: str, area: Area) -> Iterator[None]:
    """Map httpx's network failures to SDK errors (works around ``await`` calls too)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        if area is Area.INFER:
            raise InferenceTimeout(
                f"no answer from {base_url} in time ({type(exc).__name__})",
                hint="raise the client's timeout or add sprinter workers",
            ) from None
        raise HubUnavailable(
            f"{base_url} did not answer in time ({type(exc).__name__})", hint="retry later"
        ) from None
    except httpx.TransportError as exc:
        raise HubUnavailable(
            f"cannot reach the hub at {base_url}: {exc or type(exc).__name__}",
            hint="start one with `neurostack hub serve` or pass the right URL (--hub)",
        ) from None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise HubError(
            f"the hub answered {response.request.url.path} with a body that is not JSON",
            status=response.status_code,
            hint="check that the URL points at a Neuro Stack hub",
        ) from None


# --- models ---------------------------------------------------------------------------------


def _pick(obj: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    # The hub speaks camelCase in JSON; accept snake_case too so a record is never half-read.
    for name in names:
        if name in obj:
            return obj[name]
    return default


def _tensor_specs(items: Any) -> tuple[TensorSpec, ...]:
    specs = []
    for item in items or ():
        shape = item.get("shape")
        specs.append(
            TensorSpec(
                name=str(item["name"]),
                dtype=str(item.get("dtype", item.get("type", ""))),
                shape=None if shape is None else tuple(shape),
            )
        )
    return tuple(specs)


_ZK_STATES: dict[str, ZkState] = {"pending": "pending", "ready": "ready", "failed": "failed"}


def _hash_or_none(value: Any) -> Hash32 | None:
    return Hash32(decode_hex(value)) if value else None


def parse_zk(obj: Any) -> ZkCircuit | None:
    """The ``zk`` field of a model record (None: the model has no ZK circuit)."""
    if obj is None:
        return None
    status = _ZK_STATES.get(str(obj.get("status")))
    if status is None:
        raise ValueError(f"unknown ZK status {obj.get('status')!r}")
    return ZkCircuit(
        status=status,
        reason=obj.get("reason"),
        steps=tuple(ZkStep(str(s["name"]), s.get("seconds")) for s in obj.get("steps") or ()),
        logrows=obj.get("logrows"),
        input_scales=tuple(obj.get("inputScales") or ()),
        output_scales=tuple(obj.get("outputScales") or ()),
        proof_bytes=obj.get("proofBytes"),
        development_srs=obj.get("developmentSrs"),
        settings_hash=_hash_or_none(obj.get("settingsHash")),
        verifying_key_hash=_hash_or_none(obj.get("verifyingKeyHash")),
        proving_key_hash=_hash_or_none(obj.get("provingKeyHash")),
        circuit_hash=_hash_or_none(obj.get("circuitHash")),
        srs_hash=_hash_or_none(obj.get("srsHash")),
        backend=obj.get("backend"),
        backend_version=obj.get("backendVersion"),
    )


def parse_model_info(obj: Any) -> ModelInfo:
    """One model record from ``GET /v1/models/{cid}`` or an upload's answer."""
    try:
        raw_hash = _pick(obj, "modelHash", "model_hash", default="")
        return ModelInfo(
            cid=ModelCID(str(_pick(obj, "cid", "modelCID", "model_cid"))),
            name=str(obj.get("name", "")),
            version=str(obj.get("version", "")),
            owner=str(obj.get("owner", "")),
            description=str(obj.get("description", "")),
            size=int(obj.get("size", 0)),
            model_hash=Hash32(decode_hex(raw_hash) if raw_hash else b""),
            inputs=_tensor_specs(obj.get("inputs")),
            outputs=_tensor_specs(obj.get("outputs")),
            created=_pick(obj, "created", "createdAt", "created_at"),
            zk=parse_zk(obj.get("zk")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HubError(f"the hub returned a model record the SDK cannot read: {exc!r}") from None


def parse_model_list(obj: Any) -> list[ModelInfo]:
    items = obj.get("models", []) if isinstance(obj, dict) else obj
    return [parse_model_info(item) for item in items]


def read_model(response: httpx.Response, area: Area = Area.MODELS) -> ModelInfo:
    raise_for_status(response, area)
    return parse_model_info(_json(response))


def read_hub_id(response: httpx.Response) -> bytes:
    """The hub id of ``GET /v1/hub``: what an upload signature is bound to."""
    if response.status_code == 404:
        raise UploadRejected(
            "this hub does not publish a hub id (GET /v1/hub), so it cannot check EIP-712 "
            "upload signatures",
            status=404,
            hint="upgrade the hub to a Neuro Stack release with signed uploads",
        )
    raise_for_status(response, Area.UPLOAD)
    body = _json(response)
    try:
        return parse_hub_id(str(body["hubId"]))
    except (KeyError, TypeError, ProtocolError):
        raise HubError(
            "the hub's GET /v1/hub answer has no valid hubId",
            status=response.status_code,
            hint="check that the URL points at a Neuro Stack hub",
        ) from None


def read_model_list(response: httpx.Response) -> list[ModelInfo]:
    raise_for_status(response, Area.MODELS)
    return parse_model_list(_json(response))


# --- inference ------------------------------------------------------------------------------


def to_mode(mode: InferenceMode | int | str) -> InferenceMode:
    try:
        if isinstance(mode, str):
            return InferenceMode[mode.strip().upper()]
        return InferenceMode(int(mode))
    except (KeyError, ValueError):
        names = ", ".join(m.name.lower() for m in InferenceMode)
        raise InvalidInput(f"unknown inference mode {mode!r}", hint=f"use one of {names}") from None


def to_model_input(inputs: Inputs) -> ModelInput:
    """Accept a ``ModelInput`` or a mapping of name -> numpy array / nested lists."""
    if isinstance(inputs, ModelInput):
        return inputs
    if not isinstance(inputs, Mapping):
        raise InvalidInput(
            f"inputs must be a ModelInput or a mapping of tensor name to array, "
            f"not {type(inputs).__name__}",
            hint='pass e.g. {"x": np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)}',
        )
    try:
        return model_input_from_mapping(inputs)
    except ProtocolError as exc:
        raise InvalidInput(f"cannot encode the inputs: {exc}", hint="fix the arrays") from None


def build_inference(
    model_cid: str, inputs: Inputs, mode: InferenceMode | int | str
) -> tuple[dict[str, Any], SentRequest]:
    """The ``POST /v1/infer`` body and the record needed to verify its receipt later."""
    cid = checked_cid(model_cid)
    model_input = to_model_input(inputs)
    chosen = to_mode(mode)
    body = {
        "modelCID": cid,
        "mode": int(chosen),
        "input": model_input_to_json(model_input),
    }
    sent = SentRequest(cid, chosen, encode_model_input(model_input))
    return body, sent


def parse_inference(
    obj: Any,
    sent: SentRequest | None,
    *,
    verify: bool,
    expected_signers: Any = None,
    zk_keys: ZkKeys | None = None,
) -> InferenceResult:
    """An inference answer (``{requestId, output, receipt, worker}``), verified if asked."""
    try:
        receipt = receipt_from_json(obj["receipt"])
    except (KeyError, TypeError, ProtocolError) as exc:
        raise ReceiptInvalid(f"the hub's answer carries no readable receipt: {exc}") from None
    try:
        output = model_output_from_json(obj["output"])
        rid = RequestId(decode_hex(obj.get("requestId") or "0x" + receipt.request_id.hex()))
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise HubError(f"the hub returned an inference answer the SDK cannot read: {exc}") from None
    signer = None
    if verify:
        if rid != receipt.request_id:
            raise ReceiptInvalid("the answer's requestId differs from its receipt's request id")
        signer = verify_against_request(
            receipt, output, sent, expected_signers=expected_signers, zk_keys=zk_keys
        )
    return InferenceResult(
        output=output,
        receipt=receipt,
        request_id=rid,
        worker=str(obj.get("worker", "")),
        signer=signer,
    )


def read_inference(
    response: httpx.Response,
    sent: SentRequest,
    *,
    verify: bool,
    expected_signers: Any = None,
    zk_keys: ZkKeys | None = None,
) -> InferenceResult:
    raise_for_status(response, Area.INFER)
    return parse_inference(
        _json(response), sent, verify=verify, expected_signers=expected_signers, zk_keys=zk_keys
    )


def read_job_id(response: httpx.Response) -> str:
    raise_for_status(response, Area.INFER)
    body = _json(response)
    job_id = _pick(body, "jobId", "job_id", "id") if isinstance(body, dict) else None
    if not job_id:
        raise HubError(
            "the hub accepted the job but returned no jobId", status=response.status_code
        )
    return str(job_id)


# The states a job may be reported in, typed (a lookup narrows ``str`` to ``JobState``).
_JOB_STATES: dict[str, JobState] = {"pending": "pending", "done": "done", "failed": "failed"}


def read_job(
    response: httpx.Response,
    job_id: str,
    sent: SentRequest | None,
    *,
    verify: bool,
    expected_signers: Any = None,
    zk_keys: ZkKeys | None = None,
) -> JobStatus:
    raise_for_status(response, Area.JOBS)
    body = _json(response)
    reported = str(body.get("status", ""))
    status = _JOB_STATES.get(reported)
    if status is None:
        raise HubError(f"the hub reported job {job_id} in an unknown state {reported!r}")
    result = None
    if status == "done" and body.get("result") is not None:
        result = parse_inference(
            body["result"], sent, verify=verify, expected_signers=expected_signers, zk_keys=zk_keys
        )
    return JobStatus(job_id=job_id, status=status, result=result, error=body.get("error"))


# --- ZK artefacts ---------------------------------------------------------------------------


def zk_artifact_plan(info: ModelInfo) -> dict[str, Hash32]:
    """Which artefacts verifying ``info``'s ZK receipts takes, by hash; InvalidInput when
    the model has no ready circuit."""
    zk = info.zk
    if zk is None or not zk.ready:
        if zk is None:
            why = "has no ZK circuit"
        elif zk.status == "failed":
            why = f"has no usable ZK circuit: its setup failed ({zk.reason})"
        else:
            why = "has a ZK circuit still being made"
        raise InvalidInput(
            f"model {info.cid} {why}",
            hint="upload it with zk=True and wait for its setup (`neurostack model upload --zk`)",
        )
    assert zk.settings_hash and zk.verifying_key_hash and zk.srs_hash
    return {
        "settings": zk.settings_hash,
        "verifying_key": zk.verifying_key_hash,
        "srs": zk.srs_hash,
    }


def artifact_path(artifact_hash: bytes) -> str:
    return f"{ZK_ARTIFACTS_PATH}/0x{bytes(artifact_hash).hex()}"


def read_artifact(response: httpx.Response, artifact_hash: bytes) -> bytes:
    """An artefact's bytes, checked against the hash that named it."""
    raise_for_status(response, Area.ZK)
    data = response.content
    if hashlib.sha256(data).digest() != bytes(artifact_hash):
        raise ReceiptInvalid(
            f"the hub served ZK artefact 0x{bytes(artifact_hash).hex()} with other bytes",
            hint="the hub is faulty or the response was altered; do not trust its receipts",
        )
    return data


def zk_model_of(response: httpx.Response) -> str | None:
    """The model CID of a job answer whose receipt is a ZK receipt (None otherwise)."""
    try:
        receipt = response.json()["result"]["receipt"]
        return str(receipt["modelCID"]) if int(receipt["mode"]) == InferenceMode.ZK else None
    except (ValueError, KeyError, TypeError):
        return None


def zk_setup_timeout(cid: str, timeout: float) -> InferenceTimeout:
    return InferenceTimeout(
        f"the ZK setup of model {cid} did not finish within {timeout:g} s",
        hint="large models take longer; wait again with a longer timeout",
    )
