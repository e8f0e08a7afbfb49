"""A small process supervisor: start services, wait until ready, watch, stop them all.

Each service is a child process in its own session (so its own process group):
a terminal's Ctrl-C reaches only ``neurostack up``, which then stops the services
batch by batch in reverse start order (a batch side by side), SIGTERM to the whole
group first and SIGKILL after a grace period, so grandchildren (Celery pool
processes, uvicorn workers) go too. On Linux
each child also gets ``PR_SET_PDEATHSIG``: if the supervisor itself is killed with
SIGKILL, its children receive SIGTERM instead of living on as orphans.

Output of every service goes to ``<log_dir>/<name>.log``; errors quote its tail.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from .errors import ServiceExited, ServiceNotReady

ReadyCheck = Callable[[], bool]
"""Returns True once the service answers; must return within about a second."""


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: its command line and how to tell that it is ready."""

    name: str
    argv: Sequence[str]
    ready_check: ReadyCheck | None = None  # None: ready as soon as it runs
    env: Mapping[str, str] = field(default_factory=dict)  # added to the supervisor's env
    cwd: Path | None = None
    ready_timeout: float = 60.0
    dirs: Sequence[Path] = ()  # folders it needs, created just before it starts


@dataclass
class Service:
    """A started service."""

    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    log_start: int = 0  # where this run's output begins (logs are appended across runs)
    batch: int = 0  # which start() call started it; batches stop in reverse order

    @property
    def name(self) -> str:
        return self.spec.name

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_start)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent thread dies (Linux only)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Runs services; use as a context manager so they are always stopped.

    Start services from the main thread: the parent-death signal is tied to the
    thread that forked the child.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        grace: float = 10.0,
        poll: float = 0.1,
        force: threading.Event | None = None,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.grace = grace
        # Set while stopping (a second Ctrl-C): skip what is left of the grace period.
        self.force = force or threading.Event()
        self.poll = poll
        self.services: list[Service] = []

    # -- starting --------------------------------------------------------------

    def start(
        self, specs: Sequence[ServiceSpec], stop: threading.Event | None = None
    ) -> list[Service]:
        """Start ``specs`` side by side and wait until every one is ready (or ``stop``).

        Raises :class:`ServiceExited` if one exits meanwhile and
        :class:`ServiceNotReady` if one is not ready within its ``ready_timeout``.
        """
        batch = max((s.batch for s in self.services), default=-1) + 1
        started = [self._spawn(spec, batch) for spec in specs]
        pending = {s.name: s for s in started}
        deadlines = {s.name: time.monotonic() + s.spec.ready_timeout for s in started}
        while pending and not (stop is not None and stop.is_set()):
            for name, service in list(pending.items()):
                self._check_alive(service)
                check = service.spec.ready_check
                if check is None or _safe(check):
                    del pending[name]
                elif time.monotonic() > deadlines[name]:
                    raise ServiceNotReady(
                        name,
                        f"{name} was not ready after {service.spec.ready_timeout:.0f} s "
                        f"(log: {service.log_path})",
                        service.log_tail(),
                    )
            if pending:
                time.sleep(self.poll)
        return started

    def _spawn(self, spec: ServiceSpec, batch: int) -> Service:
        for folder in (self.log_dir, *spec.dirs):
            Path(folder).mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        log_start = log_file.tell()
        log_file.write(
            f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start {_one_line(spec.argv)}\n".encode()
        )
        log_file.flush()
        process = subprocess.Popen(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=spec.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **spec.env},
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl, no locks
        )
        service = Service(spec, process, log_path, log_file, log_start, batch)
        self.services.append(service)
        return service

    # -- running ---------------------------------------------------------------

    def _check_alive(self, service: Service) -> None:
        code = service.process.poll()
        if code is not None:
            raise ServiceExited(
                service.name,
                f"{service.name} exited with status {code} (log: {service.log_path})",
                code,
                service.log_tail(),
            )

    def watch(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set; raise :class:`ServiceExited` if a service dies."""
        while not stop.wait(self.poll):
            for service in self.services:
                self._check_alive(service)

    # -- stopping --------------------------------------------------------------

    def stop(self) -> dict[str, int]:
        """Stop every service and return their exit statuses.

        Batches (one per :meth:`start` call) stop in reverse order, so what others
        depend on (the broker) stops last; the services of one batch stop side by side.
        """
        codes: dict[str, int] = {}
        for batch in sorted({s.batch for s in self.services}, reverse=True):
            members = [s for s in self.services if s.batch == batch]
            codes.update(self._stop_batch(members))
            for service in members:
                service.log_file.close()
        self.services.clear()
        return codes

    def _stop_batch(self, members: list[Service]) -> dict[str, int]:
        # start_new_session: each child leads its own process group, id = its pid.
        for service in members:
            _signal_group(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while (
            any(s.process.poll() is None for s in members)
            and time.monotonic() < deadline
            and not self.force.is_set()
        ):
            time.sleep(0.05)
        codes: dict[str, int] = {}
        for service in members:
            if service.process.poll() is None:
                _signal_group(service.process.pid, signal.SIGKILL)
            codes[service.name] = service.process.wait()
        # The leaders are gone; give the rest of their groups a moment, then no mercy.
        deadline = time.monotonic() + min(self.grace, 3.0)
        groups = [s.process.pid for s in members]
        while (
            any(_group_alive(g) for g in groups)
            and time.monotonic() < deadline
            and not self.force.is_set()
        ):
            time.sleep(0.05)
        for group in groups:
            _signal_group(group, signal.SIGKILL)
        return codes

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _one_line(argv: Sequence[str]) -> str:
    return shlex.join(argv).replace("\n", "\\n")


def _safe(check: ReadyCheck) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - a check that cannot connect yet is "not ready"
        return False


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
