"""The Celery app a requester sends jobs with: sending only, JSON, the sprinters' queue.

Jobs are sent by task name (``INFER_TASK_NAME``), so a requester never imports the hub's
task code. Results come back through the Redis result contract, not Celery's backend.
"""

from __future__ import annotations

from celery import Celery

from neurostack.protocol.jobs import INFER_QUEUE


def make_sender(redis_url: str) -> Celery:
    """A sending-only Celery app on the hub's broker at ``redis_url``."""
    app = Celery("neurostack.jobs", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=INFER_QUEUE,
        broker_connection_retry_on_startup=True,
        broker_pool_limit=16,
    )
    return app
