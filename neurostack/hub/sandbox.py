"""Where a sprinter runs models: a pool of memory-limited sandbox processes it can kill.

Every model a sprinter loads, and every inference it runs, happens in a sandbox process
(:mod:`.sandbox_child`), never in the sprinter, which holds the signing key. A job gets
one sandbox for its whole stay and a wall-clock budget (``job_time_limit``, cut to the
job's own deadline): loading the model and running it must answer within it, or the
sandbox is killed (SIGKILL) and the job fails with the reason. A sandbox that runs past
its memory bound (:mod:`.sandbox_child`) answers a memory error or dies; either way it
is replaced and the job fails with the reason. The sprinter itself never stops serving.

Sandboxes are started ahead of need (``prestart``) and reused: a started one keeps its
loaded sessions (their LRU bound is ``session_cache_bytes`` in each), so an honest job
pays two pipe hops and no process start. A killed or failed sandbox is replaced at once,
in the background; only the next job that draws the replacement waits for its start.

The sandboxes share one private empty working directory (mode 0700) and get an
environment with nothing but what Python, onnxruntime and CUDA read (no
``NEUROSTACK_*``, no ``REDIS_URL``), so neither a path a model names nor the process's
environment leads to the project folder or a secret. They run in the sprinter's process
group (a signal to the worker reaches them) and exit by themselves when it is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import JobRejected, TransientError
from .samples import sample_model_path
from .sandbox_wire import Arrays, FrameError, decode_arrays, encode_arrays, pack, unpack
from .settings import HubSettings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds a new sandbox may take to import onnxruntime and answer
MiB = 1024 * 1024
# What a sandbox's environment keeps: the interpreter's, the loader's and CUDA's own.
ENV_KEEP = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
ENV_KEEP_PREFIXES = ("CUDA_", "NVIDIA_", "OMP_", "ORT_CUDA_")
# Bytes of answer per output value a sandbox may send (float64 plus framing, generously).
ANSWER_BYTES_PER_VALUE = 64
READ_CHUNK = 1 << 16


class SandboxFailure(JobRejected):
    """A job's model was stopped or crashed in its sandbox (never retried)."""


class JobTimeLimit(SandboxFailure):
    """The model ran past the job's wall-clock budget and its sandbox was killed."""


class JobMemoryLimit(SandboxFailure):
    """The model needed more memory than a job may have."""


@dataclass(frozen=True)
class ModelSpec:
    """What the sprinter needs to feed a loaded model."""

    input_specs: dict[str, tuple[str, tuple[int | None, ...]]]
    output_names: tuple[str, ...]
    provider: str


@dataclass(frozen=True)
class SandboxLimits:
    """The bounds of every job (``HubSettings`` fields of the same meaning)."""

    time_limit: float
    memory_bytes: int
    max_output_elements: int

    @classmethod
    def from_settings(cls, settings: HubSettings) -> SandboxLimits:
        return cls(settings.job_time_limit, settings.job_memory_bytes, settings.max_output_elements)


def sandbox_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str]:
    """The environment a sandbox starts with (see the module docstring)."""
    env = {k: v for k, v in environ.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)}
    # One malloc arena per thread would reserve 64 MiB of address space each, counted
    # against RLIMIT_AS although never used.
    env["MALLOC_ARENA_MAX"] = "2"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Sandbox:
    """One sandbox process and its two pipes; used by one job at a time."""

    def __init__(self, config: dict[str, Any], workdir: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "neurostack.hub.sandbox_child", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=workdir,
            env=sandbox_environment(),
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._readable = select.poll()
        self._readable.register(self._out, select.POLLIN)
        self._writable = select.poll()
        self._writable.register(self._in, select.POLLOUT)
        self._buffer = bytearray()
        self.provider: str | None = None
        self.memory_limited = False
        self.dead = False
        self.memory = f"{int(config['memory_bytes']) / MiB:g} MiB"

    # -- process --------------------------------------------------------------------

    def kill(self) -> None:
        """Stop the process now (SIGKILL) and release its pipes."""
        self.dead = True
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]

    def _died(self) -> SandboxFailure:
        """The failure to report for a sandbox that stopped answering by itself."""
        try:  # its pipe closed: it is exiting, let it finish to learn how
            code: int | None = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        return SandboxFailure(
            f"the model crashed its sandbox ({how}); it may need more memory than this "
            f"hub's limit of {self.memory} per job, or onnxruntime cannot run it"
        )

    def wait_ready(self, deadline: float) -> None:
        """Wait for the start-up message; :class:`TransientError` if it never comes."""
        if self.provider is not None:
            return
        try:
            header, _ = self._receive(deadline, 1 << 16)
        except SandboxFailure as exc:
            raise TransientError(f"a sandbox process failed to start: {exc}") from exc
        except TimeoutError:
            self.kill()
            raise TransientError("a sandbox process did not start in time") from None
        if header.get("op") != "ready":
            self.kill()
            raise TransientError(f"a sandbox process answered {header.get('op')!r} at start")
        self.provider = str(header.get("provider"))
        self.memory_limited = header.get("limit") is not None

    # -- requests -------------------------------------------------------------------

    def load(self, cid: str, data: bytes, deadline: float) -> ModelSpec:
        """Create a session for ``data`` in the sandbox; :class:`JobRejected` if onnxruntime
        cannot load it."""
        header, _ = self._request({"op": "load", "cid": cid}, [data], deadline, 1 << 20)
        if header.get("op") != "loaded":
            raise self._failure(header, "onnxruntime cannot load the model")
        try:
            inputs = {
                str(k): (str(v[0]), tuple(None if d is None else int(d) for d in v[1]))
                for k, v in header["inputs"].items()
            }
            outputs = tuple(str(n) for n in header["outputs"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            self.kill()
            raise SandboxFailure("the sandbox sent an unreadable model description") from None
        return ModelSpec(inputs, outputs, str(header.get("provider", self.provider)))

    def run(self, cid: str, feeds: Arrays, deadline: float, max_values: int) -> Arrays | None:
        """The model's outputs for ``feeds``; None when the sandbox has not loaded ``cid``."""
        described, blobs = encode_arrays(feeds)
        header, out_blobs = self._request(
            {"op": "run", "cid": cid, "arrays": described, "max_output_elements": max_values},
            blobs,
            deadline,
            (1 << 20) + max_values * ANSWER_BYTES_PER_VALUE,
        )
        if header.get("op") == "need_model":
            return None
        if header.get("op") != "result":
            raise self._failure(header, "the model failed on this input")
        try:
            return decode_arrays(header.get("arrays"), out_blobs)
        except FrameError as exc:
            self.kill()
            raise SandboxFailure(f"the sandbox sent unreadable outputs ({exc})") from None

    def _failure(self, header: dict[str, Any], what: str) -> JobRejected:
        kind, message = header.get("kind"), str(header.get("message", ""))[:500]
        if kind == "memory":
            self.kill()  # its heap may be in any state: start afresh
            return JobMemoryLimit(
                f"{what}: it needs more memory than this hub's limit of {self.memory} per job "
                "(job_memory_bytes)"
            )
        if kind in ("model_failed", "invalid_model", "output_too_large"):
            return JobRejected(f"{what}: {message}" if kind != "output_too_large" else message)
        self.kill()
        return SandboxFailure(f"the sandbox answered unexpectedly ({kind}: {message})")

    def _request(
        self, header: dict[str, Any], blobs: list[bytes], deadline: float, max_answer: int
    ) -> tuple[dict[str, Any], list[bytes]]:
        try:
            self._send(pack(header, blobs), deadline)
            return self._receive(deadline, max_answer)
        except TimeoutError:
            self.kill()
            raise

    # -- pipes, with the deadline -----------------------------------------------------

    # A request and its answer cost three system calls here (write, poll, read): on a
    # small machine each one is a measurable share of a tiny model's job.

    def _wait(self, poller: select.poll, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise TimeoutError

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while True:
            try:
                view = view[os.write(self._in, view) :]
            except BlockingIOError:
                pass
            except OSError:  # BrokenPipeError: it is gone
                raise self._died() from None
            if not view:
                return
            self._wait(self._writable, deadline)

    def _fill(self, deadline: float, size: int) -> None:
        """Wait for bytes from the sandbox and append what is there (up to ``size``)."""
        self._wait(self._readable, deadline)
        try:
            chunk = os.read(self._out, size)
        except BlockingIOError:
            return
        except OSError:
            raise self._died() from None
        if not chunk:
            raise self._died()
        self._buffer += chunk

    def _receive(self, deadline: float, max_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
        while len(self._buffer) < 4:
            self._fill(deadline, READ_CHUNK)
        length = int.from_bytes(self._buffer[:4], "big")
        if length > max_bytes:
            self.kill()
            raise SandboxFailure(
                f"the sandbox's answer ({length} bytes) is larger than this job may return"
            )
        end = 4 + length
        while len(self._buffer) < end:
            self._fill(deadline, max(READ_CHUNK, end - len(self._buffer)))
        body = bytes(self._buffer[4:end])
        del self._buffer[:end]
        try:
            return unpack(body)
        except FrameError as exc:
            self.kill()
            raise SandboxFailure(f"the sandbox sent an unreadable answer ({exc})") from None


class SandboxPool:
    """The sprinter's sandboxes: handed out one per job, replaced when they fail."""

    def __init__(self, settings: HubSettings) -> None:
        self.limits = SandboxLimits.from_settings(settings)
        self._config: dict[str, Any] = {
            "providers": settings.providers,
            "intra_op_threads": settings.intra_op_threads,
            "memory_bytes": settings.job_memory_bytes,
            "session_cache_bytes": settings.session_cache_bytes,
            "probe_model": str(sample_model_path("mlp_regressor")),
        }
        self.workdir = tempfile.mkdtemp(prefix="neurostack-sandbox-")  # 0700, empty
        self._idle: list[Sandbox] = []
        self._all: set[Sandbox] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._announced = False
        self._pid = os.getpid()

    def _forget_after_fork(self) -> None:
        """In a forked child (Celery's prefork pool) the sandboxes and their pipes belong
        to the parent: start with none of them."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._idle, self._all = [], set()

    def _start(self) -> Sandbox:
        with self._lock:
            config = dict(self._config)
        box = Sandbox(config, self.workdir)
        with self._lock:
            self._all.add(box)
        return box

    def prestart(self, count: int) -> None:
        """Start ``count`` sandboxes now, so the first jobs need not wait for one."""
        boxes = [self._start() for _ in range(count)]
        with self._lock:
            self._idle.extend(boxes)

    @contextlib.contextmanager
    def sandbox(self, deadline: float) -> Iterator[Sandbox]:
        """A ready sandbox for one job; returned to the pool afterwards, or replaced if it
        was killed (a replacement is started at once)."""
        self._forget_after_fork()
        box = self._idle_sandbox() or self._start()
        try:
            box.wait_ready(deadline)
            self._announce(box)
            yield box
        finally:
            self._release(box)

    def _idle_sandbox(self) -> Sandbox | None:
        """A waiting sandbox that is still alive (one may have died while idle, say to the
        kernel's OOM killer: that is no job's fault, so it is dropped, not handed out)."""
        while True:
            with self._lock:
                box = self._idle.pop() if self._idle else None
            if box is None or box.proc.poll() is None:
                return box
            box.kill()
            with self._lock:
                self._all.discard(box)

    def _announce(self, box: Sandbox) -> None:
        with self._lock:
            if self._announced:
                return
            self._announced = True
            if box.provider in ("CPUExecutionProvider", "CUDAExecutionProvider"):
                # Later sandboxes skip the CUDA probe: the answer is known.
                self._config["providers"] = "cuda" if "CUDA" in box.provider else "cpu"
        log.warning(
            "sprinter runs onnxruntime with %s in sandbox processes (per job: %g s, %s)",
            box.provider,
            self.limits.time_limit,
            f"{self.limits.memory_bytes / MiB:g} MiB"
            if box.memory_limited
            else "memory NOT limited: this platform refused the limit (Linux enforces it)",
        )

    def _release(self, box: Sandbox) -> None:
        if box.dead or box.proc.poll() is not None:
            box.kill()
            with self._lock:
                self._all.discard(box)
                closed = self._closed
            if not closed:
                replacement = self._start()
                with self._lock:
                    self._idle.append(replacement)
            return
        with self._lock:
            if not self._closed:
                self._idle.append(box)
                return
        box.kill()

    def close(self) -> None:
        """Stop every sandbox and remove the working directory."""
        with self._lock:
            self._closed = True
            boxes = list(self._all)
            self._all.clear()
            self._idle.clear()
        for box in boxes:
            box.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def run_job(
        self,
        cid: str,
        spec: ModelSpec | None,
        model_bytes: Callable[[], bytes],
        feeds: Callable[[ModelSpec], Arrays],
        job_deadline: float,
    ) -> tuple[ModelSpec, Arrays]:
        """Load (unless ``spec`` is known) and run one job's model within its budget;
        ``feeds`` builds the input from the model's spec, ``job_deadline`` is unix time.
        Raises :class:`JobTimeLimit` when the budget runs out, :class:`JobRejected` when
        the model fails, :class:`TransientError` when no sandbox can start."""
        limits = self.limits
        start_by = time.monotonic() + max(0.0, job_deadline - time.time()) + START_TIMEOUT
        with self.sandbox(start_by) as box:
            # The budget starts once the sandbox is ready: starting one is the hub's cost.
            budget = min(limits.time_limit, job_deadline - time.time())
            deadline = time.monotonic() + budget
            try:
                if spec is None:
                    spec = box.load(cid, model_bytes(), deadline)
                inputs = feeds(spec)
                outputs = box.run(cid, inputs, deadline, limits.max_output_elements)
                if outputs is None:  # this sandbox had not loaded it (or evicted it)
                    box.load(cid, model_bytes(), deadline)
                    outputs = box.run(cid, inputs, deadline, limits.max_output_elements)
                if outputs is None:
                    raise SandboxFailure("the sandbox lost the model it had just loaded")
            except TimeoutError:
                box.kill()
                if budget < limits.time_limit:
                    raise JobTimeLimit(
                        "the job's deadline passed while its model ran; the model was stopped"
                    ) from None
                raise JobTimeLimit(
                    f"the model ran longer than this hub's limit of {limits.time_limit:g} s "
                    "per job (job_time_limit) and was stopped; send a smaller input or use "
                    "a lighter model"
                ) from None
        return spec, outputs

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._all)

    def pids(self) -> list[int]:
        with self._lock:
            return [b.proc.pid for b in self._all]


def output_dict(spec: ModelSpec, outputs: Arrays) -> dict[str, np.ndarray]:
    """The outputs in the model's declared order (a sandbox answers by name)."""
    try:
        return {name: outputs[name] for name in spec.output_names}
    except KeyError as exc:
        raise SandboxFailure(f"the sandbox did not return output {exc}") from None


__all__ = [
    "JobMemoryLimit",
    "JobTimeLimit",
    "ModelSpec",
    "Sandbox",
    "SandboxFailure",
    "SandboxLimits",
    "SandboxPool",
    "output_dict",
    "sandbox_environment",
]
