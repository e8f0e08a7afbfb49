"""Waiting for a running explorer, through its ``/health`` endpoint as a probe would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from neurostack.explorer import ExplorerServer


def wait_health(
    explorer: ExplorerServer, ok: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``/health`` until ``ok(health)``; return that health."""
    end = time.monotonic() + timeout
    health: dict[str, Any] = {}
    while time.monotonic() < end:
        health = httpx.get(explorer.url + "/health", timeout=10).json()
        if ok(health):
            return health
        time.sleep(0.05)
    raise AssertionError(f"the explorer never got there in {timeout} s: {health}")


def wait_indexed(explorer: ExplorerServer, number: int, timeout: float = 30.0) -> None:
    wait_health(explorer, lambda h: (h["indexedHead"] or -1) >= number, timeout)
