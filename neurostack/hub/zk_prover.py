"""Mode ZK on the hub: checking a request against the model's circuit (API side) and
proving it (sprinter side).

A sprinter proves with the model's compiled circuit, proving key and SRS, found by the
hashes in the model's ZK record: in its own store (``<store>/zk/blobs``, shared with the
hub or filled by earlier downloads) or downloaded from ``--hub-url``
(``GET /v1/zk/artifacts/{hash}``), checked against their sha256 before use. A circuit is
loaded once per worker process and kept (ezkl reads the proving key from its file at
every proof; its Python API has no in-memory key). Before signing, the sprinter verifies
its own proof with the verifier the chain runs (about 10 ms for the sample MLP): it never
signs a proof that would be rejected.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from neurostack.protocol.jobs import InferenceJob
from neurostack.protocol.tensors import encode_model_output
from neurostack.zk import (
    CircuitSettings,
    ProofRejected,
    ProofSystemUnavailable,
    ProverFiles,
    ProvingFailed,
    backend_for,
    parse_settings,
    verify,
)
from neurostack.zk.circuit import file_sha256, input_fixed

from .errors import InvalidInferenceRequest, JobRejected, TransientError, ZkNotReady
from .settings import HubSettings
from .zk_store import ZkRecord, ZkStore, parse_artifact_hash

log = logging.getLogger(__name__)

_settings_cache: dict[str, CircuitSettings] = {}


def _ready(record: ZkRecord | None, cid: str) -> ZkRecord:
    if record is None:
        raise InvalidInferenceRequest(
            f"model {cid} has no ZK circuit; upload it with zk=true "
            "(`neurostack model upload FILE --zk`) to use mode ZK"
        )
    if record.status == "pending":
        running = next((s.name for s in record.steps if s.seconds is None), "queued")
        raise ZkNotReady(
            f"the ZK setup of model {cid} is still running (step: {running}); retry when "
            f"GET /v1/models/{cid} shows zk.status ready"
        )
    if record.status == "failed" or record.settingsHash is None:
        raise InvalidInferenceRequest(
            f"model {cid} has no usable ZK circuit: its setup failed ({record.reason}); "
            "upload it again with zk=true to retry"
        )
    return record


def check_zk_input(zk: ZkStore, cid: str, input_abi: bytes) -> None:
    """Refuse, before anything is queued, a ZK request the circuit cannot take."""
    record = _ready(zk.record(cid), cid)
    settings_hash = record.settingsHash or ""
    settings = _settings_cache.get(settings_hash)
    if settings is None:
        settings = parse_settings(zk.blob_path(settings_hash).read_bytes())
        _settings_cache[settings_hash] = settings
    try:
        input_fixed(settings, input_abi)
    except ProofRejected as exc:
        raise InvalidInferenceRequest(
            f"invalid input for the ZK circuit of model {cid}: {exc.reason}"
        ) from None


@dataclass(frozen=True)
class LoadedCircuit:
    """Everything a sprinter needs to prove and self-check one model."""

    settings_bytes: bytes
    settings: CircuitSettings
    verifying_key: bytes
    srs: bytes
    files: ProverFiles


class ZkProver:
    """Proves ZK jobs for one worker process (thread-safe; circuits cached per process)."""

    def __init__(self, settings: HubSettings, http: httpx.Client | None) -> None:
        self.zk = ZkStore(settings.store_dir)
        self.hub_url = settings.hub_url.rstrip("/") if settings.hub_url else None
        self._http = http
        self._circuits: dict[str, LoadedCircuit] = {}
        self._lock = threading.Lock()

    def prove(self, job: InferenceJob) -> tuple[bytes, bytes]:
        """The receipt's output (the circuit's, ABI-encoded) and the proof for ``job``."""
        circuit = self.circuit(job.model_cid)
        try:
            proof = backend_for(circuit.settings.backend).prove(
                circuit.files, circuit.settings, job.input_abi
            )
        except ProofRejected as exc:
            raise JobRejected(f"invalid input for the ZK circuit: {exc.reason}") from None
        except ProvingFailed as exc:
            raise JobRejected(f"no proof for this input: {exc}") from None
        except ProofSystemUnavailable as exc:
            raise JobRejected(f"this sprinter cannot prove: {exc}") from None
        output_abi = encode_model_output(proof.output)
        try:
            verify(
                proof.proof,
                circuit.verifying_key,
                circuit.settings_bytes,
                job.input_abi,
                output_abi,
                srs=circuit.srs,
            )
        except ProofRejected as exc:
            raise JobRejected(f"the proof made here does not verify: {exc.reason}") from None
        log.info(
            "proved %s: witness %.3f s, proof %.3f s, %d bytes",
            job.model_cid,
            proof.witness_seconds,
            proof.prove_seconds,
            len(proof.proof),
        )
        return output_abi, proof.proof

    def circuit(self, cid: str) -> LoadedCircuit:
        with self._lock:
            cached = self._circuits.get(cid)
        if cached is not None:
            return cached
        record = _job_ready(self._record(cid), cid)
        paths = {
            name: self._blob(h)
            for name, h in (
                ("settings", record.settingsHash),
                ("vk", record.verifyingKeyHash),
                ("pk", record.provingKeyHash),
                ("circuit", record.circuitHash),
                ("srs", record.srsHash),
            )
        }
        settings_bytes = paths["settings"].read_bytes()
        loaded = LoadedCircuit(
            settings_bytes=settings_bytes,
            settings=parse_settings(settings_bytes),
            verifying_key=paths["vk"].read_bytes(),
            srs=paths["srs"].read_bytes(),
            files=ProverFiles(paths["circuit"], paths["pk"], paths["srs"]),
        )
        with self._lock:
            self._circuits[cid] = loaded
        return loaded

    def _record(self, cid: str) -> ZkRecord | None:
        local = self.zk.record(cid)
        if local is not None or self.hub_url is None or self._http is None:
            return local
        url = f"{self.hub_url}/v1/models/{cid}"
        try:
            response = self._http.get(url)
        except httpx.HTTPError as exc:
            raise TransientError(f"cannot read {url}: {exc}") from exc
        if response.status_code in (400, 404):
            return None
        if response.status_code != 200:
            raise TransientError(f"reading {url} answered HTTP {response.status_code}")
        zk = response.json().get("zk")
        return None if zk is None else ZkRecord.model_validate(zk)

    def _blob(self, artifact_hash: str | None) -> Path:
        digits = parse_artifact_hash(artifact_hash or "")
        path = self.zk.blobs / digits
        if path.is_file():
            if file_sha256(path).hex() == digits:
                return path
            log.warning("ZK artefact %s in the store is corrupt; fetching it again", digits)
        if self.hub_url is None or self._http is None:
            raise JobRejected(
                f"ZK artefact 0x{digits} is not in this worker's store and no hub URL is set "
                "to download it from (--hub-url)"
            )
        url = f"{self.hub_url}/v1/zk/artifacts/0x{digits}"
        fd, tmp_name = tempfile.mkstemp(dir=self.zk.tmp, suffix=".part")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise TransientError(f"downloading {url} answered HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != digits:
                raise TransientError(f"the file downloaded from {url} does not match its hash")
            os.replace(tmp_name, path)
        except httpx.HTTPError as exc:
            raise TransientError(f"cannot download {url}: {exc}") from exc
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return path


def _job_ready(record: ZkRecord | None, cid: str) -> ZkRecord:
    try:
        return _ready(record, cid)
    except (InvalidInferenceRequest, ZkNotReady) as exc:
        raise JobRejected(str(exc)) from None


__all__ = ["LoadedCircuit", "ZkProver", "check_zk_input"]
