"""End to end with Celery: a request enqueues a Celery task; a real worker runs it after the commit.

Needs the airlock-celery plugin and the Redis service: it runs in the
workspace run (``make test-all``); the run of this plugin alone
(``make test-plugin``), where airlock-celery is not installed, does not
collect it (see ``conftest.py``).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

import airlock
from airlock.testing import require_service

WAIT_SECONDS = 20.0


@pytest.mark.usefixtures("real_commits")
def test_request_enqueues_celery_task_and_a_worker_runs_it_after_commit(alias, probe):
    require_service("redis")
    import redis
    from airlock_django_testproject.celery_app import QUEUE, app
    from celery.contrib.testing.worker import start_worker

    airlock.configure(executor="celery")  # reset after the test (conftest)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            response = Client().get(f"/celery_create/{alias}/via-celery/")
            assert response.status_code == 201
            deadline = time.monotonic() + WAIT_SECONDS
            while not probe and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        with redis.Redis.from_url(app.conf.broker_url) as client:
            client.delete(QUEUE, f"_kombu.binding.{QUEUE}")

    assert probe == [("via-celery", True)]  # the worker's own connection saw the committed row
    assert [i.name for i in response.wsgi_request.airlock_scope.report.dispatched] == ["check_row"]
