"""The Celery application factory shared by the hub API (which sends jobs) and the
sprinters (which run them).

The settings suit long inference jobs on a Redis broker:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a job is acknowledged only after
  it ran, so a worker that dies mid-job leaves it to be delivered again;
- ``worker_prefetch_multiplier=1``: a busy worker does not hoard queued jobs that an
  idle one could run;
- ``visibility_timeout`` above the job deadline: Redis redelivers an unacknowledged job
  only once the job can no longer be running anywhere (tasks are idempotent by request
  id anyway, and a redelivered job past its deadline is not run);
- JSON only, results expiring with the receipts.
"""

from __future__ import annotations

from celery import Celery

from neurostack.protocol.jobs import INFER_QUEUE, INFER_TASK_NAME

from .settings import HubSettings

# Seconds beyond the job deadline before Redis hands an unacknowledged job out again.
VISIBILITY_MARGIN = 60.0


def make_celery(redis_url: str, settings: HubSettings, *, set_as_current: bool = True) -> Celery:
    """A Celery app whose broker and result backend are ``redis_url``."""
    app = Celery(
        "neurostack.hub",
        broker=redis_url,
        backend=redis_url,
        include=["neurostack.hub.tasks"],
        set_as_current=set_as_current,
    )
    deadline = max(settings.job_deadline, settings.zk_job_deadline)  # the longest job kind
    visibility = max(2 * deadline, deadline + VISIBILITY_MARGIN)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility},
        result_backend_transport_options={"visibility_timeout": visibility},
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=settings.receipt_ttl,
        task_default_queue=INFER_QUEUE,
        task_routes={INFER_TASK_NAME: {"queue": INFER_QUEUE}},
        task_track_started=False,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_pool_limit=16,
    )
    return app
