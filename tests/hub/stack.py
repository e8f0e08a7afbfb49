"""A real hub stack for integration tests and benchmarks: the embedded redis-server,
the API under uvicorn (``neurostack hub serve``) and sprinter workers
(``neurostack hub worker``), each in its own process group.

    with HubStack(tmp_path, workers=2) as stack:
        record = stack.upload(sample_model_path("mlp_regressor"))
        httpx.post(stack.url + "/v1/infer", json={...})

Everything started is stopped on exit, also when start-up fails half-way. The Redis
server runs in this process's control (not inside ``serve``) so tests can restart it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import redis
from eth_account import Account

from neurostack.hub.broker import EmbeddedRedis, free_port
from neurostack.protocol.uploads import model_upload, parse_hub_id, sign_upload

NEUROSTACK = str(Path(sys.executable).with_name("neurostack"))
START_TIMEOUT = 60.0


@dataclass
class WorkerProcess:
    name: str
    key_hex: str
    address: str
    proc: subprocess.Popen[bytes] | None = None


def _stop(*procs: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """SIGTERM each process group at once, then SIGKILL what is left after ``grace``."""
    running = [p for p in procs if p is not None and p.poll() is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    end = time.monotonic() + grace
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class HubStack:
    """Redis + hub API + N workers, started as real processes."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int = 2,
        worker_delay: float = 0.0,
        speculative_after: float = 5.0,
        job_deadline: float = 30.0,
        max_upload_bytes: int | None = None,
        pool: str | None = None,
        worker_options: list[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.store_dir = self.root / "store"
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.worker_delay = worker_delay
        self.speculative_after = speculative_after
        self.job_deadline = job_deadline
        self.max_upload_bytes = max_upload_bytes
        self.pool = pool  # the workers' Celery pool; None: the CLI's default
        self.worker_options = worker_options or []  # more `hub worker` options
        self.redis = EmbeddedRedis(self.root / "redis")
        self.port = 0
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, WorkerProcess] = {}
        for i in range(workers):
            key = "0x" + secrets.token_hex(32)
            self.workers[f"w{i}"] = WorkerProcess(f"w{i}", key, Account.from_key(key).address)
        self.owner = Account.create()  # a model owner for uploads

    # -- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def start(self) -> Self:
        try:
            self.redis.start()
            self.start_api()
            self.start_workers()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, log_name: str, args: list[str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NEUROSTACK_HUB_INTRA_OP_THREADS": "1"}
        env.pop("REDIS_URL", None)
        with open(self.logs / f"{log_name}.log", "ab") as log:
            return subprocess.Popen(
                [NEUROSTACK, "hub", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def start_api(self) -> None:
        self.port = self.port or free_port()
        args = [
            "serve",
            "--port",
            str(self.port),
            "--store",
            str(self.store_dir),
            "--redis-url",
            self.redis_url,
            "--speculative-after",
            str(self.speculative_after),
            "--job-deadline",
            str(self.job_deadline),
        ]
        if self.max_upload_bytes:
            args += ["--max-upload-bytes", str(self.max_upload_bytes)]
        self.api = self._spawn("api", args)

    def start_worker(self, name: str) -> None:
        w = self.workers[name]
        key_file = self.root / f"{name}.key"
        key_file.write_text(w.key_hex)
        key_file.chmod(0o600)
        w.proc = self._spawn(
            name,
            [
                "worker",
                "--redis-url",
                self.redis_url,
                "--store",
                str(self.store_dir),
                "--hub-url",
                self.url,
                "--key-file",
                str(key_file),
                "--name",
                name,
                "--delay",
                str(self.worker_delay),
                "--loglevel",
                "WARNING",
                *(["--pool", self.pool] if self.pool else []),
                *self.worker_options,
            ],
        )

    def start_workers(self) -> None:
        for name in self.workers:
            self.start_worker(name)

    def stop_workers(self) -> None:
        _stop(*(w.proc for w in self.workers.values()))
        for w in self.workers.values():
            w.proc = None

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker's whole process group, as a crash would."""
        proc = self.workers[name].proc
        assert proc is not None and proc.poll() is None, f"worker {name} is not running"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)

    def restart_redis(self) -> None:
        """Stop the redis-server cleanly and start it again at the same URL."""
        self.redis.stop()
        self.redis.start()

    def wait_ready(self, workers: int | None = None, timeout: float = START_TIMEOUT) -> None:
        """Wait until /ready lists ``workers`` sprinters (default: all running ones)."""
        want = (
            workers
            if workers is not None
            else sum(1 for w in self.workers.values() if w.proc is not None)
        )
        end = time.monotonic() + timeout
        last = ""
        while time.monotonic() < end:
            self._check_alive()
            try:
                r = httpx.get(self.url + "/ready", timeout=5)
                last = r.text
                if r.status_code == 200 and len(r.json()["workers"]) >= want:
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise RuntimeError(f"hub stack not ready after {timeout}s: {last}\n{self.log_tail()}")

    def _check_alive(self) -> None:
        procs = [("api", self.api)] + [(w.name, w.proc) for w in self.workers.values()]
        for name, proc in procs:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        self.stop_workers()
        _stop(self.api)
        self.api = None
        self.redis.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- helpers --------------------------------------------------------------------

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    @property
    def hub_id(self) -> bytes:
        """The hub's id (``GET /v1/hub``): what upload signatures are bound to."""
        return parse_hub_id(httpx.get(self.url + "/v1/hub", timeout=10).json()["hubId"])

    def upload(self, path: Path, *, name: str | None = None, **fields: Any) -> dict[str, Any]:
        """Upload a model signed by ``self.owner``; returns the record (201 or 200)."""
        data = Path(path).read_bytes()
        response = httpx.post(
            self.url + "/v1/models",
            timeout=60,
            **upload_form(
                data, self.owner, name=name or Path(path).stem, hub_id=self.hub_id, **fields
            ),
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def hub_id_of(client: Any) -> bytes:
    """The id (``GET /v1/hub``) of the hub an httpx or FastAPI test client talks to."""
    return parse_hub_id(client.get("/v1/hub").json()["hubId"])


def upload_form(
    data: bytes,
    owner: Any,
    *,
    name: str,
    hub_id: bytes,
    signer: Any = None,
    version: str = "1",
    description: str = "",
    signature: bytes | None = None,
) -> dict[str, Any]:
    """httpx keyword arguments (``files`` and ``data``) of a model upload signed by
    ``signer`` (default: ``owner``) for the hub ``hub_id`` (EIP-712, as the SDK signs), or
    carrying ``signature`` as given."""
    if signature is None:
        upload = model_upload(hub_id, hashlib.sha256(data).digest(), name, version, description)
        signature = sign_upload(upload, (signer or owner).key)
    return {
        "files": {"file": (f"{name}.onnx", data, "application/octet-stream")},
        "data": {
            "owner": owner.address,
            "signature": "0x" + bytes(signature).hex(),
            "name": name,
            "version": version,
            "description": description,
        },
    }
