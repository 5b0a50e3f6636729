"""airlock-retry with the celery and dramatiq executors when Redis restarts between flushes.

The process has published before, so its connections are warm; then Redis
refuses connections for a moment as the next flush starts. The flush's first
chunk (one intent) fails at connect, which sent nothing, so airlock-retry
tries it again, with its default ``retry_on``, until Redis is back; every
message reaches Redis exactly once.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

RETRY = {"retry_attempts": 20, "retry_wait": 0.1, "retry_max_delay": 10}  # waits: 0.1 s doubling, 10 s in all


@pytest.fixture
def redis_direct(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_url() -> str:
    from airlock.testing import require_service

    return require_service("redis")


def celery_task(proxy_url: str, name: str) -> tuple[Any, Callable[[Any], list[Any]], Callable[[], None]]:
    from celery import Celery

    app = Celery(name, broker=proxy_url, set_as_current=False)
    app.conf.update(task_default_queue=name, broker_connection_retry_on_startup=False)

    @app.task(name=f"{name}.job")
    def job(n: int) -> None:
        """Published only."""

    def queued(client: Any) -> list[Any]:
        return [json.loads(m)["headers"]["argsrepr"] for m in client.lrange(name, 0, -1)]

    return job, queued, app.close


def dramatiq_actor(proxy_url: str, name: str) -> tuple[Any, Callable[[Any], list[Any]], Callable[[], None]]:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=proxy_url, namespace=name)
    actor = dramatiq.actor(lambda n: None, broker=broker, queue_name="q", actor_name=f"{name}-job")

    def queued(client: Any) -> list[Any]:
        ids = [i.decode() for i in client.lrange(f"{name}:q", 0, -1)]
        return [repr(tuple(json.loads(client.hget(f"{name}:q.msgs", i))["args"])) for i in ids]

    return actor, queued, broker.close


@pytest.mark.parametrize("retry_set", ["on the scope", "per intent"])
@pytest.mark.parametrize("backend", ["celery", "dramatiq"])
def test_a_flush_that_starts_while_redis_restarts_is_retried_and_delivered_once(
    backend: str, retry_set: str, airlock_outage, redis_direct: Any
) -> None:  # type: ignore[no-untyped-def]
    """Per intent, the retry calls the executor with a copy of the intent (the
    retry options stripped): the executors still recognise it as the intent
    whose connect failed, so its retry is not refused as a later intent's."""
    proxy = airlock_outage("redis")
    name = f"airlock-restart-{backend}-{uuid.uuid4().hex[:8]}"
    make = celery_task if backend == "celery" else dramatiq_actor
    task, queued, close = make(proxy.url, name)
    try:
        with airlock.scope(executor=backend):  # warm: the connection pool holds an open connection
            airlock.enqueue(task, -1)
        proxy.down()
        threading.Timer(2.0, proxy.up).start()  # longer than a client library's own reconnect attempts
        per_scope, per_intent = (RETRY, None) if retry_set == "on the scope" else ({}, RETRY)
        with airlock.scope(executor=backend, fail_fast=False, **per_scope) as scope:
            for n in range(5):
                airlock.enqueue(task, n, _dispatch_options=per_intent)
        report = scope.report
        assert report.ok and len(report.dispatched) == 5
        assert len(report.attempts(report.dispatched[0])) >= 1  # the first intent was refused, then retried
        assert sorted(queued(redis_direct)) == sorted(repr((n,)) for n in range(-1, 5))  # each once
    finally:
        close()
        for key in redis_direct.scan_iter(f"{name}*"):
            redis_direct.delete(key)
