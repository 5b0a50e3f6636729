"""``<!-- test: with django-celery -->``: the ``django-project`` setup, with ``AIRLOCK = {"EXECUTOR":
"celery"}`` and the reader's Celery app (``myapp.celery.app``) on the test Redis.

After the block, a real worker (a thread of this process, with its own
database connection) must run every task the block published, and what those
tasks published in turn; then, as for ``django-project``, none of the
reader's tasks may have run inside a transaction.
"""

from __future__ import annotations

from airlock.testing import require_service

from . import execute
from ._celery_worker import Deliveries, on_redis
from .django_project import check_outbox, start


def run(code: str, path: str, line: int) -> None:
    from myapp.celery import app

    start(AIRLOCK={"EXECUTOR": "celery"})
    with on_redis(app, require_service("redis")), Deliveries().recording() as deliveries:
        execute(code, path, line)
        deliveries.work_off(app)
    check_outbox()
