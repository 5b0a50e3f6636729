"""``<!-- test: with celery-app -->``: the reader's Celery app (``myapp.celery.app``, tasks in
``myapp.tasks``) on the test Redis. After the block, a real worker must receive every task it
published and run each one without an ETA, including what those tasks published in turn.
"""

from __future__ import annotations

from myapp.celery import app

from airlock.testing import require_service

from . import execute
from ._celery_worker import Deliveries, on_redis


def run(code: str, path: str, line: int) -> None:
    with on_redis(app, require_service("redis")), Deliveries().recording() as deliveries:
        execute(code, path, line)
        deliveries.work_off(app)
