"""``HubClient``: the synchronous SDK over the hub's HTTP API.

Everything but the sending of requests lives in ``_wire`` (requests, responses, errors),
``files`` (upload signing, download checking) and ``verify`` (receipts), shared with
:class:`~hub_client.async_client.AsyncHubClient`.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt
from neurostack.protocol.types import Address

from . import _wire
from ._wire import Area, Inputs
from .files import (
    DownloadWriter,
    Progress_,
    check_uploaded,
    open_for_upload,
    plan_upload,
)
from .models import InferenceResult, JobStatus, ModelInfo
from .verify import SentRequest, ZkKeys, verify_receipt

DEFAULT_HUB_URL = "http://127.0.0.1:8600"
#: Above the hub's default job deadline (30 s) so the hub's own 504 arrives first.
DEFAULT_TIMEOUT = 60.0
#: Requests of submitted jobs kept for verifying their results; the oldest are forgotten.
MAX_REMEMBERED_JOBS = 1024


class _ClientCore:
    """Configuration and the bookkeeping both clients share (no I/O here)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout,
        verify_receipts: bool,
        expected_signers: Iterable[str | bytes] | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.verify_receipts = verify_receipts
        self.expected_signers = None if expected_signers is None else tuple(expected_signers)
        self._sent: OrderedDict[str, SentRequest] = OrderedDict()
        # Verifying keys by model CID: fetched once, checked against the model's hashes.
        self._zk_keys: dict[str, ZkKeys] = {}

    def _needs_zk_keys(self, mode: InferenceMode) -> bool:
        return self.verify_receipts and mode == InferenceMode.ZK

    def _remember(self, job_id: str, sent: SentRequest) -> None:
        self._sent[job_id] = sent
        while len(self._sent) > MAX_REMEMBERED_JOBS:
            self._sent.popitem(last=False)

    def verify_receipt(
        self,
        receipt: InferenceReceipt | Mapping[str, Any],
        *,
        chain_id: int | None = None,
        expected_signers: Iterable[str | bytes] | None = None,
    ) -> Address:
        """Check a receipt's hashes, signature and expiry; return its signer.

        ``expected_signers`` defaults to the client's own. Raises ``ReceiptInvalid``.
        """
        signers = self.expected_signers if expected_signers is None else expected_signers
        return verify_receipt(receipt, chain_id=chain_id, expected_signers=signers)


class HubClient(_ClientCore):
    """Talks to a Neuro Stack hub; every receipt is verified locally unless told otherwise.

    >>> with HubClient("http://127.0.0.1:8600") as hub:           # doctest: +SKIP
    ...     result = hub.infer(cid, {"x": [[1.0, 2.0, 3.0, 4.0]]})
    ...     result.arrays()["y"]
    """

    def __init__(
        self,
        base_url: str = DEFAULT_HUB_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify_receipts: bool = True,
        expected_signers: Iterable[str | bytes] | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout=timeout,
            verify_receipts=verify_receipts,
            expected_signers=expected_signers,
        )
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, area: Area, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with _wire.translate_transport_errors(self.base_url, area):
            return self._http.request(method, path, **kwargs)

    # --- models ---------------------------------------------------------------------------

    def upload_model(
        self,
        path: str | os.PathLike[str],
        *,
        private_key: str | bytes,
        name: str,
        version: str = "1",
        description: str = "",
        progress: Progress_ = True,
        zk: bool = False,
    ) -> ModelInfo:
        """Upload an ONNX file as the key's owner; the same bytes always get the same CID.

        ``progress``: True shows a bar for files over 1 MiB when stderr is a terminal,
        ``"always"`` shows it regardless, False never. ``zk=True`` asks the hub to make the
        model's ZK circuit (in the background: ``info.zk.status`` is ``pending``; see
        :meth:`wait_for_zk`).
        """
        plan = plan_upload(
            path, private_key=private_key, name=name, version=version, description=description
        )
        hub_id = _wire.read_hub_id(self._send(Area.UPLOAD, "GET", _wire.HUB_PATH))
        form = plan.form(hub_id)
        fields = {**form, "zk": "true"} if zk else form
        with open_for_upload(plan, progress) as fh:
            files = {"file": (plan.path.name, fh, "application/octet-stream")}
            response = self._send(Area.UPLOAD, "POST", _wire.MODELS_PATH, data=fields, files=files)
        info = _wire.read_model(response, Area.UPLOAD)
        check_uploaded(plan, info.cid)
        return info

    def list_models(self) -> list[ModelInfo]:
        return _wire.read_model_list(self._send(Area.MODELS, "GET", _wire.MODELS_PATH))

    def get_model(self, cid: str) -> ModelInfo:
        return _wire.read_model(
            self._send(Area.MODELS, "GET", _wire.model_path(_wire.checked_cid(cid)))
        )

    def wait_for_zk(
        self,
        cid: str,
        *,
        timeout: float = 600.0,
        poll: float = 0.5,
        on_update: Callable[[ModelInfo], None] | None = None,
    ) -> ModelInfo:
        """Poll the model until its ZK setup is no longer ``pending`` (``ready`` or
        ``failed``: check ``info.zk.status``); ``on_update`` sees every record read.
        Raises :class:`InferenceTimeout` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.get_model(cid)
            if on_update is not None:
                on_update(info)
            if info.zk is None or info.zk.status != "pending":
                return info
            if time.monotonic() >= deadline:
                raise _wire.zk_setup_timeout(cid, timeout)
            time.sleep(poll)

    def zk_keys(self, cid: str) -> ZkKeys:
        """The model's circuit settings, verifying key and SRS, downloaded once and checked
        against the hashes the hub lists on the model."""
        keys = self._zk_keys.get(cid)
        if keys is None:
            plan = _wire.zk_artifact_plan(self.get_model(cid))
            data = {
                name: _wire.read_artifact(self._send(Area.ZK, "GET", _wire.artifact_path(h)), h)
                for name, h in plan.items()
            }
            keys = self._zk_keys[cid] = ZkKeys(**data)
        return keys

    def download_model(self, cid: str, dest: str | os.PathLike[str]) -> Path:
        """Stream a model file to ``dest`` (a file, or a folder for ``<cid>.onnx``); the
        bytes are checked against the CID before the file appears."""
        writer = DownloadWriter(cid, dest)
        try:
            with (
                _wire.translate_transport_errors(self.base_url, Area.MODELS),
                self._http.stream("GET", _wire.model_path(writer.cid) + "/file") as response,
            ):
                if not response.is_success:
                    response.read()
                    _wire.raise_for_status(response, Area.MODELS)
                for chunk in response.iter_bytes():
                    writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    # --- inference ------------------------------------------------------------------------

    def infer(
        self,
        model_cid: str,
        inputs: Inputs,
        mode: InferenceMode | int | str = InferenceMode.VANILLA,
    ) -> InferenceResult:
        """Run a model on a sprinter and return its output with the verified receipt."""
        body, sent = _wire.build_inference(model_cid, inputs, mode)
        keys = self.zk_keys(sent.model_cid) if self._needs_zk_keys(sent.mode) else None
        response = self._send(Area.INFER, "POST", _wire.INFER_PATH, json=body)
        return _wire.read_inference(
            response,
            sent,
            verify=self.verify_receipts,
            expected_signers=self.expected_signers,
            zk_keys=keys,
        )

    def submit(
        self,
        model_cid: str,
        inputs: Inputs,
        mode: InferenceMode | int | str = InferenceMode.VANILLA,
    ) -> str:
        """Queue an inference without waiting; poll it with :meth:`get_job`."""
        body, sent = _wire.build_inference(model_cid, inputs, mode)
        response = self._send(
            Area.INFER, "POST", _wire.INFER_PATH, json=body, params={"wait": "false"}
        )
        job_id = _wire.read_job_id(response)
        self._remember(job_id, sent)
        return job_id

    def get_job(self, job_id: str) -> JobStatus:
        """A job's state; a finished job's receipt is verified against what was submitted."""
        response = self._send(Area.JOBS, "GET", _wire.job_path(job_id))
        sent = self._sent.get(job_id)
        zk_model = _wire.zk_model_of(response) if self.verify_receipts else None
        return _wire.read_job(
            response,
            job_id,
            sent,
            verify=self.verify_receipts,
            expected_signers=self.expected_signers,
            zk_keys=self.zk_keys(zk_model) if zk_model and sent else None,
        )
