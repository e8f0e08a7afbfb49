"""The Celery task sprinters run: thin, the work is in :mod:`neurostack.hub.sprinter`.

The task is declared with ``shared_task`` under the protocol's ``INFER_TASK_NAME`` so the
hub API and ``bridge/`` send jobs by name without importing this module. It is
idempotent by request id (a late-acknowledged task may run twice) and retried only for
transient failures, never past the job's deadline and never for invalid input. Its
return value is not stored by Celery (``ignore_result``): requesters read the Redis result
contract of :mod:`neurostack.protocol.job_keys`, for jobs sent by the hub and by
``bridge/`` alike.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, shared_task

from neurostack.protocol.jobs import INFER_TASK_NAME

from .errors import Avoided, TransientError
from .sprinter import error_message
from .worker import current_sprinter

RETRY_DELAY = 0.5  # seconds between attempts after a transient failure
AVOIDED_DELAY = 0.1  # seconds before a job this sprinter must avoid is offered again
MAX_RETRIES = 20


# ignore_result: results travel through neurostack:result:<id> (protocol.job_keys); Celery
# would otherwise also write every return value to its result backend and publish it.
@shared_task(name=INFER_TASK_NAME, bind=True, ignore_result=True)
def infer(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    """Run one ``InferenceJob`` message; returns its ``JobResult`` message."""
    try:
        return current_sprinter().handle(message)
    except Avoided as exc:
        # Back to the queue for another sprinter (a retry is a new message any worker may
        # take); never past the deadline, where the requester has stopped waiting anyway.
        deadline = float(message.get("deadline", 0) or 0)
        if time.time() + AVOIDED_DELAY >= deadline or self.request.retries >= MAX_RETRIES:
            return error_message(message, str(exc), current_sprinter().name)
        raise self.retry(exc=exc, countdown=AVOIDED_DELAY, max_retries=MAX_RETRIES) from exc
    except TransientError as exc:
        deadline = float(message.get("deadline", 0) or 0)
        if time.time() + RETRY_DELAY >= deadline or self.request.retries >= MAX_RETRIES:
            return error_message(
                message, f"gave up before the deadline: {exc}", current_sprinter().name
            )
        raise self.retry(exc=exc, countdown=RETRY_DELAY, max_retries=MAX_RETRIES) from exc
