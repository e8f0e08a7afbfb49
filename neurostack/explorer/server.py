"""Running the explorer under uvicorn: in the foreground (the CLI) or on a thread (tests).

``port=0`` binds a free port; :attr:`ExplorerServer.url` says which one it got.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Self

import uvicorn

from .app import create_app
from .context import ExplorerSettings


def _config(settings: ExplorerSettings, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings), log_level=log_level, access_log=False, lifespan="on"
    )


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(
    settings: ExplorerSettings, host: str = "127.0.0.1", port: int = 8700, *,
    log_level: str = "warning", announce: Callable[[str], None] | None = None,
) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM (uvicorn's signal handling), then return.

    ``announce(url)`` is called once the port is bound (``port=0`` picks one); an
    ``OSError`` means the address is taken.
    """
    sock = _bind(host, port)
    if announce is not None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        announce(f"http://{shown}:{sock.getsockname()[1]}")
    try:
        uvicorn.Server(_config(settings, log_level)).run(sockets=[sock])
    finally:
        sock.close()


class ExplorerServer:
    """The explorer on a background thread; a context manager."""

    def __init__(
        self, settings: ExplorerSettings, host: str = "127.0.0.1", port: int = 0, *,
        log_level: str = "warning",
    ) -> None:  # fmt: skip
        self._server = uvicorn.Server(_config(settings, log_level))
        self._sock = _bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._thread = threading.Thread(
            target=lambda: self._server.run(sockets=[self._sock]), name="explorer", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> object:
        return self._server.config.app

    def start(self, timeout: float = 20.0) -> Self:
        self._thread.start()
        ready = threading.Event()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the explorer thread exited during start-up; see the log")
            if waited > timeout:
                raise TimeoutError(f"the explorer did not start within {timeout} s")
            ready.wait(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
