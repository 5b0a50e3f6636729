"""Fixtures for airlock-dramatiq's tests: real Redis and RabbitMQ brokers, a real ``dramatiq.Worker``.

Every message the worker runs appends one JSON entry to a Redis list named
by the test (``ExecutionLog``). Broker namespaces, queues and keys are
unique per run and removed afterwards; every wait is bounded by ``WAIT``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dramatiq
import pytest
import redis
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from airlock.testing import OutageProxy, require_service

#: Seconds a test waits at most for the worker to run what it expects.
WAIT = 20.0


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    return f"airlock-dramatiq-{prefix}-{uuid.uuid4().hex[:10]}"


class ExecutionLog:
    """The Redis list where the ``record`` actor writes one entry per execution."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.client.lrange(self.key, 0, -1)]

    def wait_for(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        """The entries once there are at least ``count``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.client.llen(self.key) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} executions within {timeout}s, got {self.entries()}")
            time.sleep(0.02)
        return self.entries()


def make_broker(kind: str, url: str) -> Any:
    """A Dramatiq broker of ``kind`` ("redis" or "amqp") at ``url``, isolated by a unique namespace."""
    if kind == "redis":
        return RedisBroker(url=url, namespace=unique("ns"))
    parts = urlsplit(url)
    if parts.path == "//":  # kombu's spelling of the default vhost; pika wants it quoted
        url = urlunsplit(parts._replace(path="/%2F"))
    return RabbitmqBroker(url=url)


def remove(broker: Any, queues: list[str]) -> None:
    """Delete what a test left on its broker."""
    if isinstance(broker, RedisBroker):
        keys = list(broker.client.scan_iter(f"{broker.namespace}:*"))
        if keys:
            broker.client.delete(*keys)
    else:
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                broker.channel.queue_delete(name)
    broker.close()


class Backend:
    """A broker, a ``record`` actor on a unique queue, and logs in Redis."""

    def __init__(self, kind: str, broker_url: str, log_url: str) -> None:
        self.kind = kind
        self.broker = make_broker(kind, broker_url)
        self.queue = unique("q")
        self.redis = redis.Redis.from_url(log_url)
        self.keys: list[str] = []
        client = self.redis

        def record(key: str, *args: Any, **kwargs: Any) -> None:
            entry = {"args": list(args), "kwargs": kwargs, "ran_at": time.time()}
            client.rpush(key, json.dumps(entry))

        self.record = dramatiq.actor(record, broker=self.broker, queue_name=self.queue, actor_name=unique("record"))

    def log(self) -> ExecutionLog:
        key = unique("log")
        self.keys.append(key)
        return ExecutionLog(self.redis, key)

    def close(self) -> None:
        remove(self.broker, [self.queue])
        if self.keys:
            self.redis.delete(*self.keys)
        self.redis.close()


@pytest.fixture(scope="module")
def redis_url() -> str:
    return require_service("redis")


@pytest.fixture(scope="module", params=["redis", "amqp"])
def backend(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Backend]:
    """Dramatiq on Redis, then on RabbitMQ, each with a running one-thread worker."""
    broker_url = redis_url if request.param == "redis" else require_service("amqp")
    backend = Backend(request.param, broker_url, redis_url)
    worker = dramatiq.Worker(backend.broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        yield backend
    finally:
        worker.stop(timeout=int(WAIT * 1000))
        backend.close()


@pytest.fixture
def closed_broker() -> Iterator[Callable[[str], Any]]:
    """``closed_broker("redis" | "amqp")``: a broker of that kind pointed at a port where nothing listens."""
    brokers: list[Any] = []

    def make(kind: str) -> Any:
        url = str(OutageProxy(require_service(kind)).url)  # never up: nothing listens there
        broker = make_broker(kind, url)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.close()


@pytest.fixture
def proxied_redis_broker(airlock_outage: Any, redis_url: str) -> Iterator[tuple[Any, Any, Any]]:
    """(broker, actor, proxy): a broker on Redis through an ``airlock_outage``
    proxy, whose ``down()`` loses Redis; no worker. Its keys are removed afterwards."""
    proxy = airlock_outage("redis")
    broker = RedisBroker(url=proxy.url, namespace=unique("ns"))
    actor = dramatiq.actor(lambda *args: None, broker=broker, queue_name=unique("q"), actor_name=unique("noop"))
    yield broker, actor, proxy
    direct = redis.Redis.from_url(redis_url)
    keys = list(direct.scan_iter(f"{broker.namespace}:*"))
    if keys:
        direct.delete(*keys)
    direct.close()
    broker.close()
