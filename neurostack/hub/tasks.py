"""The Celery task sprinters run: thin, the work is in :mod:`neurostack.hub.sprinter`.

The task is declared with ``shared_task`` under the protocol's ``INFER_TASK_NAME`` so the
hub API and ``bridge/`` send jobs by name without importing this module. It is
idempotent by request id (a late-acknowledged task may run twice) and retried only for
transient failures, never past the job's deadline and never for invalid input.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, shared_task

from neurostack.protocol.jobs import INFER_TASK_NAME

from .errors import TransientError
from .sprinter import error_message
from .worker import current_sprinter

RETRY_DELAY = 0.5  # seconds between attempts after a transient failure
MAX_RETRIES = 20


@shared_task(name=INFER_TASK_NAME, bind=True)
def infer(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    """Run one ``InferenceJob`` message; returns its ``JobResult`` message."""
    try:
        return current_sprinter().handle(message)
    except TransientError as exc:
        deadline = float(message.get("deadline", 0) or 0)
        if time.time() + RETRY_DELAY >= deadline or self.request.retries >= MAX_RETRIES:
            return error_message(
                message, f"gave up before the deadline: {exc}", current_sprinter().name
            )
        raise self.retry(exc=exc, countdown=RETRY_DELAY, max_retries=MAX_RETRIES) from exc
