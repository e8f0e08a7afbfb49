"""Errors of chain projects and of the devnet supervisor.

Tree::

    DevnetError
    ├── ProjectError(ValueError)     `neurostack new` got a bad value or an occupied target
    ├── PortInUse                    a port the devnet needs is taken (another devnet?)
    └── ServiceError                 a devnet process failed
        ├── ServiceNotReady          it did not become ready in time
        └── ServiceExited            it exited while it should be running
"""

from __future__ import annotations


class DevnetError(Exception):
    """Root of every error this package raises on purpose."""


class ProjectError(DevnetError, ValueError):
    """A chain project cannot be created as asked; the message says what to change."""


class PortInUse(DevnetError):
    """A port from chain.toml is already taken; the message names it and the setting."""


class ServiceError(DevnetError):
    """A supervised process failed; ``service`` names it, ``log_tail`` is its last output."""

    def __init__(self, service: str, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.service = service
        self.log_tail = log_tail


class ServiceNotReady(ServiceError):
    """A process did not pass its readiness check within its timeout."""


class ServiceExited(ServiceError):
    """A process exited on its own; ``returncode`` is its exit status."""

    def __init__(self, service: str, message: str, returncode: int, log_tail: str = "") -> None:
        super().__init__(service, message, log_tail)
        self.returncode = returncode
