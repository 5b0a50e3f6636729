"""A Celery app for the end-to-end test (imported only when celery and airlock-celery are installed).

Broker: the Redis service; the queue name is unique to this process and removed by the test.
"""

from __future__ import annotations

import uuid

from celery import Celery

from airlock.testing import service_url

from .tasks import record_visible

QUEUE = f"airlock-django-e2e-{uuid.uuid4().hex[:10]}"

app = Celery(QUEUE, broker=service_url("redis"), set_as_current=False)
app.conf.update(
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=False,
    broker_transport_options={"socket_timeout": 5, "socket_connect_timeout": 5},
)

#: Runs ``record_visible`` in a Celery worker: a separate thread and a separate connection.
check_row = app.task(name=f"{QUEUE}.check_row")(record_visible)
