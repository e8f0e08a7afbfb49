"""The Celery worker bootstrap of a sprinter process.

``neurostack hub worker`` calls :func:`run_worker` with settings built from its options.
A worker can also be started with plain Celery (``celery -A neurostack.hub.worker
worker -Q inference``): then ``app`` is built on first access from the
``NEUROSTACK_HUB_*`` environment variables (and ``REDIS_URL``). This module and the CLI
are the only places in the hub that read the environment.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import sys
from typing import Any

import redis
from celery import Celery
from eth_utils import to_checksum_address

from neurostack.protocol.jobs import INFER_QUEUE
from neurostack.protocol.receipts import sprinter_address

from .celery_app import make_celery
from .errors import SettingsError
from .settings import HubSettings
from .sprinter import Sprinter

log = logging.getLogger(__name__)

_sprinter: Sprinter | None = None
_app: Celery | None = None

POOLS = ("threads", "prefork", "solo")


def configure(settings: HubSettings) -> Celery:
    """Build this process's Celery app and sprinter from ``settings``."""
    global _sprinter, _app
    if not settings.redis_url:
        raise SettingsError("a worker needs the broker: pass --redis-url or set REDIS_URL")
    _app = make_celery(settings.redis_url, settings)
    _sprinter = Sprinter(settings, redis.Redis.from_url(settings.redis_url))
    atexit.register(_sprinter.sandboxes.close)
    return _app


PR_SET_DUMPABLE = 4


def protect_process_memory() -> None:
    """Make this process non-dumpable (Linux): other processes of the same user, its own
    sandboxes included, can then neither read its memory nor its ``/proc`` entries
    (``environ``, ``mem``), where the signing key lives. Elsewhere this does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.warning("could not make the sprinter non-dumpable (errno %d)", ctypes.get_errno())
    except (OSError, AttributeError):
        log.warning("could not make the sprinter non-dumpable (no prctl)")


def current_sprinter() -> Sprinter:
    """The process's sprinter (configured from the environment on first use)."""
    if _sprinter is None:
        configure(HubSettings.from_environ(os.environ))
    assert _sprinter is not None
    return _sprinter


def run_worker(
    settings: HubSettings, *, concurrency: int = 1, pool: str = "threads", loglevel: str = "INFO"
) -> None:
    """Run a Celery worker consuming the inference queue until it is stopped."""
    if pool not in POOLS:
        raise SettingsError(f"unknown pool {pool!r}; choose one of {', '.join(POOLS)}")
    protect_process_memory()
    app = configure(settings)
    log.warning("sprinter %s signing as %s", settings.worker_name, _signer_address())
    assert _sprinter is not None
    if pool != "prefork":  # prefork's children start their own (pipes do not survive a fork)
        # One sandbox per job slot, started while Celery starts: the first jobs need not wait.
        _sprinter.sandboxes.prestart(1 if pool == "solo" else concurrency)
    app.worker_main(
        [
            "worker",
            "--queues",
            INFER_QUEUE,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--hostname",
            f"{settings.worker_name}@%h",
            "--loglevel",
            loglevel,
            # Mingle and gossip exchange state between workers at start-up and afterwards;
            # sprinters are stateless, so they only cost start-up time and traffic.
            "--without-mingle",
            "--without-gossip",
        ]
    )


def _signer_address() -> str:
    assert _sprinter is not None
    return to_checksum_address(sprinter_address(_sprinter.private_key))


def __getattr__(name: str) -> Any:  # lets `celery -A neurostack.hub.worker` find the app
    if name in ("app", "celery"):
        if _app is None:
            configure(HubSettings.from_environ(os.environ))
        return _app
    raise AttributeError(name)
