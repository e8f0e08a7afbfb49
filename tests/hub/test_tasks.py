"""The Celery task's retry policy: transient failures are retried until the deadline,
everything else is answered at once (run eagerly: no broker involved)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Retry

from neurostack.hub import tasks
from neurostack.hub.errors import Avoided, TransientError


class FlakySprinter:
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientError("Redis is unreachable: connection refused")
        return {"requestId": message["requestId"], "receipt": None, "error": None, "worker": "ok"}


@pytest.fixture
def eager() -> Celery:
    app = Celery("test", set_as_current=True)
    app.conf.task_always_eager = True
    return app


def _message(deadline_in: float) -> dict[str, Any]:
    return {"requestId": "0x" + "ab" * 32, "deadline": time.time() + deadline_in}


def test_transient_failure_is_retried(monkeypatch: pytest.MonkeyPatch, eager: Celery) -> None:
    sprinter = FlakySprinter(failures=1)
    monkeypatch.setattr(tasks, "current_sprinter", lambda: sprinter)
    with pytest.raises(Retry):
        tasks.infer.apply(args=[_message(30)], throw=True)
    assert sprinter.calls == 1


def test_invalid_retry_past_the_deadline_becomes_an_error_result(
    monkeypatch: pytest.MonkeyPatch, eager: Celery
) -> None:
    sprinter = FlakySprinter(failures=10)
    monkeypatch.setattr(tasks, "current_sprinter", lambda: sprinter)
    result = tasks.infer.apply(args=[_message(0.1)]).get()
    assert result["receipt"] is None
    assert "gave up before the deadline" in result["error"]
    assert sprinter.calls == 1


def test_success_passes_the_result_through(monkeypatch: pytest.MonkeyPatch, eager: Celery) -> None:
    monkeypatch.setattr(tasks, "current_sprinter", lambda: FlakySprinter(failures=0))
    assert tasks.infer.apply(args=[_message(30)]).get()["worker"] == "ok"


class AvoidedSprinter:
    name = "revoked-here"

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        raise Avoided("the requester cannot use results signed by this sprinter")


def test_a_job_that_avoids_this_sprinter_goes_back_to_the_queue(
    monkeypatch: pytest.MonkeyPatch, eager: Celery
) -> None:
    monkeypatch.setattr(tasks, "current_sprinter", lambda: AvoidedSprinter())
    with pytest.raises(Retry):
        tasks.infer.apply(args=[_message(30)], throw=True)


def test_invalid_avoided_job_past_its_deadline_is_dropped_not_retried(
    monkeypatch: pytest.MonkeyPatch, eager: Celery
) -> None:
    monkeypatch.setattr(tasks, "current_sprinter", lambda: AvoidedSprinter())
    result = tasks.infer.apply(args=[_message(0.05)]).get()
    assert result["receipt"] is None and "cannot use results" in result["error"]
