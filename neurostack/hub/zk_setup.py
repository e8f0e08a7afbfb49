"""Making a model's ZK circuit once, in the background (``POST /v1/models`` with ``zk``).

The HTTP request only marks the model ``pending`` and queues it. One thread runs the
queue, one setup at a time, each in a fresh child process
(``python -m neurostack.hub.zk_setup JOB``, which imports only what a setup needs, unlike
``multiprocessing``'s spawn, which re-imports the CLI's main module): ezkl holds the GIL
while it works (measured: a Python thread ran 4 % of its idle speed during a proof),
which would stall the API's event loop, and a child can be killed when it passes
``zk_setup_timeout`` or dies without taking the API down. The child runs the backend's
steps (settings, calibrate, compile, SRS, keys, test proof), rewrites the model's
:class:`~neurostack.hub.zk_store.ZkRecord` as each starts and ends (the CLI shows them
live), stores the artefacts as content-addressed blobs and ends with ``ready`` or
``failed(reason)``. Setups left ``pending`` by a stopped hub are queued again at start.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .settings import HubSettings
from .store import ModelRecord, ModelStore
from .zk_store import ZkRecord, ZkStep, ZkStore

log = logging.getLogger(__name__)

_STOP = ""


@dataclass(frozen=True)
class SetupJob:
    """What the child process needs (JSON on its command line)."""

    cid: str
    model: Path
    store_dir: Path
    scale: int
    max_logrows: int
    srs_dir: Path | None  # a ceremony directory, or None for development SRS files

    def to_json(self) -> str:
        return json.dumps({k: None if v is None else str(v) for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, text: str) -> SetupJob:
        d = json.loads(text)
        return cls(
            cid=d["cid"],
            model=Path(d["model"]),
            store_dir=Path(d["store_dir"]),
            scale=int(d["scale"]),
            max_logrows=int(d["max_logrows"]),
            srs_dir=None if d["srs_dir"] is None else Path(d["srs_dir"]),
        )


class ZkSetupRunner:
    """Queues ZK setups and runs them one by one in child processes."""

    def __init__(self, settings: HubSettings, store: ModelStore) -> None:
        self.settings = settings
        self.store = store
        self.zk = ZkStore(store.root)
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        for cid, record in self.zk.records().items():
            if record.status == "pending":
                log.warning("ZK setup of %s was interrupted; running it again", cid)
                self._queue.put(cid)
        self._thread = threading.Thread(target=self._loop, name="neurostack-zk-setup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the queue; a setup cut short stays ``pending`` and runs at the next start."""
        self._queue.put(_STOP)
        with self._lock:
            self._stopping = True
            if self._child is not None and self._child.poll() is None:
                self._child.kill()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def request(self, record: ModelRecord) -> ZkRecord:
        """Queue a setup unless one is pending or done; a failed one is tried again."""
        with self._lock:
            current = self.zk.record(record.cid)
            if current is not None and current.status in ("pending", "ready"):
                return current
            pending = self.zk.pending(record.cid)
        self._queue.put(record.cid)
        return pending

    def _loop(self) -> None:
        while True:
            cid = self._queue.get()
            if cid == _STOP:
                return
            try:
                self._run(cid)
            except Exception:  # one bad setup must not end the queue
                log.exception("ZK setup of %s failed unexpectedly", cid)
                self._fail(cid, "the hub failed while running the setup; see its log")

    def _run(self, cid: str) -> None:
        current = self.zk.record(cid)
        if current is None or current.status != "pending":
            return  # queued twice (a restart and a new upload): already done
        s = self.settings
        job = SetupJob(
            cid=cid,
            model=self.store.model_path(cid),
            store_dir=self.store.root,
            scale=s.zk_scale,
            max_logrows=s.zk_max_logrows,
            srs_dir=s.zk_srs_dir,
        )
        # started under the lock: a stop() that came first leaves the setup pending (it runs
        # at the next start) instead of letting a child start after the stop and finish
        with self._lock, (self.zk.logs / f"{cid}.log").open("wb") as log_file:
            if self._stopping:
                return
            # ezkl prints tables and notices from Rust straight to fds 1 and 2
            child = subprocess.Popen(
                [sys.executable, "-m", "neurostack.hub.zk_setup", job.to_json()],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._child = child
        try:
            child.wait(timeout=s.zk_setup_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            self._fail(
                cid,
                f"the setup took longer than {s.zk_setup_timeout:g} s (zk_setup_timeout); "
                "raise it for large models",
            )
        with self._lock:
            self._child = None
            if self._stopping:
                return
        record = self.zk.record(cid)
        if record is not None and record.status == "pending":
            self._fail(cid, f"the setup process ended with exit code {child.returncode}")
        shutil.rmtree(self.zk.work / cid, ignore_errors=True)

    def _fail(self, cid: str, reason: str) -> None:
        record = self.zk.record(cid)
        if record is None or record.status != "pending":
            return
        self.zk.write(
            cid,
            record.model_copy(
                update={"status": "failed", "reason": reason, "finished": time.time()}
            ),
        )


def run_setup(job: SetupJob) -> None:
    """The child process: run the backend's setup and record every step of it."""
    zk = ZkStore(job.store_dir)
    record = zk.record(job.cid) or zk.pending(job.cid)
    steps: list[ZkStep] = []

    def on_step(name: str, seconds: float | None) -> None:
        nonlocal record
        if seconds is None:
            steps.append(ZkStep(name=name))
        else:
            steps[-1] = ZkStep(name=name, seconds=round(seconds, 3))
        record = record.model_copy(update={"steps": tuple(steps)})
        zk.write(job.cid, record)

    try:
        from neurostack.zk import SetupOptions, SrsSource, ZkError, backend_for, parse_settings

        try:
            backend = backend_for("ezkl")
            srs = (
                SrsSource(job.srs_dir, generate=False)
                if job.srs_dir is not None
                else SrsSource(zk.srs_dir, generate=True)
            )
            result = backend.setup(
                job.model,
                zk.work / job.cid,
                srs=srs,
                options=SetupOptions(scale=job.scale, max_logrows=job.max_logrows),
                on_step=on_step,
            )
        except ZkError as exc:
            zk.write(job.cid, _failed(record, str(exc)))
            return
        settings_file = zk.work / job.cid / "circuit-settings.json"
        settings_file.write_bytes(result.settings)
        parsed = parse_settings(result.settings)
        settings_hash, _ = zk.add_blob(settings_file)
        vk_hash, vk_size = zk.add_blob(result.verifying_key)
        pk_hash, pk_size = zk.add_blob(result.proving_key)
        circuit_hash, _ = zk.add_blob(result.circuit)
        srs_hash, _ = zk.add_blob(result.srs)
        zk.write(
            job.cid,
            record.model_copy(
                update={
                    "status": "ready",
                    "finished": time.time(),
                    "backend": parsed.backend,
                    "backendVersion": parsed.backend_version,
                    "logrows": parsed.logrows,
                    "inputScales": tuple(t.scale for t in parsed.inputs),
                    "outputScales": tuple(t.scale for t in parsed.outputs),
                    "proofBytes": parsed.proof_bytes,
                    "developmentSrs": job.srs_dir is None,
                    "settingsHash": settings_hash,
                    "verifyingKeyHash": vk_hash,
                    "provingKeyHash": pk_hash,
                    "circuitHash": circuit_hash,
                    "srsHash": srs_hash,
                    "provingKeyBytes": pk_size,
                    "verifyingKeyBytes": vk_size,
                }
            ),
        )
    except Exception as exc:  # the reason goes to the record; the traceback to the log
        zk.write(job.cid, _failed(record, f"setup failed: {type(exc).__name__}: {exc}"))
        raise


def _failed(record: ZkRecord, reason: str) -> ZkRecord:
    return record.model_copy(update={"status": "failed", "reason": reason, "finished": time.time()})


__all__ = ["SetupJob", "ZkSetupRunner", "run_setup"]

if __name__ == "__main__":
    run_setup(SetupJob.from_json(sys.argv[1]))
