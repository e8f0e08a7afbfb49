"""Deployment settings of the reference hub (:class:`HubSettings`).

The CLI (``neurostack hub serve|worker``) and the Celery worker bootstrap build one
``HubSettings`` from command-line options and environment variables and pass it
down; nothing else in :mod:`neurostack.hub` reads the environment.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .errors import SettingsError

ENV_PREFIX = "NEUROSTACK_HUB_"
MiB = 1024 * 1024


class HubSettings(BaseModel):
    """Everything the hub API and its sprinters need to run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_dir: Path = Field(Path("hub"), description="model store: models/, meta/, tmp/")
    redis_url: str | None = Field(
        None, description="broker and result store; None = embedded redis-server (serve only)"
    )
    hub_url: str | None = Field(
        None,
        description="where a worker downloads models it lacks locally (GET /v1/models/{cid}/file)",
    )
    max_upload_bytes: int = Field(64 * MiB, gt=0, description="largest model file accepted")
    max_request_bytes: int = Field(16 * MiB, gt=0, description="largest /v1/infer body")
    max_tensor_elements: int = Field(1_000_000, gt=0, description="largest input tensor")
    job_deadline: float = Field(30.0, gt=0, description="seconds a job may take end to end")
    speculative_after: float = Field(
        5.0, gt=0, description="seconds without a result before one duplicate is sent"
    )
    receipt_ttl: int = Field(3600, gt=0, description="seconds a receipt stays valid (expiry)")
    ready_cache_seconds: float = Field(2.0, ge=0, description="how long /ready caches its answer")
    not_ready_cache_seconds: float = Field(
        0.25, ge=0, description="how long /ready caches a 'not ready' (at most ready_cache_seconds)"
    )
    hub_id: str | None = Field(
        None, description="0x + 64 hex: the id uploads are signed for; None = <store>/hub-id"
    )
    # sprinter (worker) side
    worker_key: SecretStr | None = Field(None, description="hex secp256k1 key signing receipts")
    worker_key_file: Path | None = Field(None, description="file holding the hex key")
    worker_name: str = Field(
        default_factory=lambda: f"sprinter-{socket.gethostname()}-{os.getpid()}"
    )
    worker_delay: float = Field(
        0.0, ge=0, description="added sleep per job (benchmarks, fault tests)"
    )
    session_cache_bytes: int = Field(512 * MiB, gt=0, description="ONNX session cache bound")
    providers: str = Field("auto", pattern="^(auto|cpu|cuda)$", description="onnxruntime provider")
    intra_op_threads: int = Field(
        0, ge=0, description="onnxruntime threads per session; 0 = its default"
    )
    # ZK (mode ZK = 1): circuit setup on the hub, proving on sprinters
    zk_job_deadline: float = Field(
        120.0, gt=0, description="seconds a ZK job (witness + proof) may take end to end"
    )
    zk_setup_timeout: float = Field(
        600.0, gt=0, description="seconds one model's ZK setup may take before it is stopped"
    )
    zk_scale: int = Field(13, ge=0, le=24, description="fixed-point bits of ZK inputs/weights")
    zk_max_logrows: int = Field(
        17, ge=8, le=26, description="largest ZK circuit (2^rows) calibration may choose"
    )
    zk_srs_dir: Path | None = Field(
        None,
        description="directory of ceremony SRS files kzg<rows>.srs; None = generate a "
        "development SRS (never for production)",
    )
    # bounds of every job, enforced by the worker's sandbox processes (docs/security.md)
    job_time_limit: float = Field(
        10.0, gt=0, description="seconds a job's model may take to load and run"
    )
    job_memory_bytes: int = Field(
        2048 * MiB,
        ge=64 * MiB,
        description="memory a job's sandbox may take beyond its start-up size",
    )
    max_output_elements: int = Field(
        1_000_000, gt=0, description="output values one job may return (all outputs)"
    )

    def signing_key(self) -> bytes:
        """The worker's 32-byte private key from ``worker_key`` or ``worker_key_file``."""
        if self.worker_key is not None:
            text = self.worker_key.get_secret_value()
            origin = "the worker key setting"
        elif self.worker_key_file is not None:
            try:
                text = self.worker_key_file.read_text()
            except OSError as exc:
                raise SettingsError(
                    f"cannot read the worker key file {self.worker_key_file}: {exc.strerror}; "
                    "pass --key-file with a readable file holding a hex private key"
                ) from exc
            origin = str(self.worker_key_file)
        else:
            raise SettingsError(
                "no worker key: pass --key-file FILE or set NEUROSTACK_HUB_WORKER_KEY to a hex key"
            )
        text = text.strip().removeprefix("0x")
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise SettingsError(f"{origin} does not hold a 32-byte hex private key")
        return key

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: Any) -> HubSettings:
        """Settings from ``NEUROSTACK_HUB_<FIELD>`` variables (plus ``REDIS_URL``), then
        ``overrides`` (CLI options; ``None`` values are ignored)."""
        values: dict[str, Any] = {}
        if environ.get("REDIS_URL"):
            values["redis_url"] = environ["REDIS_URL"]
        for name in cls.model_fields:
            env = ENV_PREFIX + name.upper()
            if environ.get(env):
                values[name] = environ[env]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise SettingsError(
                f"hub setting {field!r} is invalid: {first['msg']} "
                f"(option --{field.replace('_', '-')} or {ENV_PREFIX}{field.upper()})"
            ) from exc

    def to_environ(self) -> dict[str, str]:
        """The inverse of :meth:`from_environ`, for starting workers in child processes."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            out[ENV_PREFIX + name.upper()] = str(value)
        return out
