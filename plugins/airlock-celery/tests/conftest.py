"""Fixtures for airlock-celery's tests: real brokers, real workers, a Redis execution log.

Every task the workers run appends one JSON entry to a Redis list named by
the test (``ExecutionLog``), so a test sees exactly what ran, with which
arguments, from which queue and when. Names of queues and keys are unique
per run and removed afterwards. Every wait is bounded by ``WAIT`` seconds.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker

from airlock.testing import OutageProxy, require_service

#: Seconds a test waits at most for a worker to run what it expects.
WAIT = 20.0


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    return f"airlock-celery-{prefix}-{uuid.uuid4().hex[:10]}"


class ExecutionLog:
    """The Redis list where the ``record`` task writes one entry per execution."""

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
                pytest.fail(f"expected {count} task executions within {timeout}s, got {self.entries()}")
            time.sleep(0.02)
        return self.entries()


class Backend:
    """A Celery app with a ``record`` task, the queues its worker consumes, and a log factory."""

    def __init__(self, broker_url: str, log_url: str, **conf: Any) -> None:
        self.name = unique("app")
        self.queue = unique("q")
        self.other_queue = unique("q-other")
        self.redis = redis.Redis.from_url(log_url)
        self.keys: list[str] = []
        self.app = Celery(self.name, broker=broker_url, set_as_current=False)
        self.app.conf.update(
            task_default_queue=self.queue,
            worker_hijack_root_logger=False,
            broker_connection_retry_on_startup=False,
            broker_heartbeat=0,  # no heartbeat timer: the worker then stops in about a second
            **conf,
        )

        @self.app.task(name=f"{self.name}.record", bind=True)
        def record(task: Any, key: str, *args: Any, **kwargs: Any) -> None:
            self.write(task, key, args, kwargs)

        self.record = record

    def write(self, task: Any, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Append one execution of ``task`` (a bound task) to the log ``key``."""
        info = task.request.delivery_info or {}
        entry = {
            "args": list(args),
            "kwargs": kwargs,
            "queue": info.get("routing_key"),
            "eta": task.request.eta,
            "ran_at": time.time(),
        }
        self.redis.rpush(key, json.dumps(entry))

    def log(self) -> ExecutionLog:
        key = unique("log")
        self.keys.append(key)
        return ExecutionLog(self.redis, key)

    def task(self, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        """``@backend.task()``: register a task with a unique name on this app."""

        def decorator(fn: Callable[..., Any]) -> Any:
            return self.app.task(name=f"{self.name}.{fn.__name__}", **options)(fn)

        return decorator

    def cleanup(self) -> None:
        """Delete the logs, and the queue bindings kombu's Redis transport leaves behind."""
        self.redis.delete(*self.keys, *(f"_kombu.binding.{q}" for q in (self.queue, self.other_queue)))
        self.redis.close()

    def purge_queues(self) -> None:
        """Delete this backend's queues from the broker."""
        with self.app.connection_for_write() as connection:
            channel = connection.default_channel
            for queue in (self.queue, self.other_queue):
                channel.queue_delete(queue)


@pytest.fixture(scope="module")
def redis_url() -> str:
    return require_service("redis")


@pytest.fixture(scope="module")
def amqp_url() -> str:
    return require_service("amqp")


def running(backend: Backend) -> Iterator[Backend]:
    """Run a real in-process worker (solo pool) on both of the backend's queues.

    Celery's worker sets the root logger's level to its own log level; it is
    restored afterwards so later tests (of any suite) still see warnings.
    """
    root_level = logging.getLogger().level
    try:
        with start_worker(
            backend.app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            shutdown_timeout=WAIT,
            queues=[backend.queue, backend.other_queue],
        ):
            yield backend
    finally:
        logging.getLogger().setLevel(root_level)
        backend.purge_queues()
        backend.cleanup()


@pytest.fixture(scope="module", params=["redis", "amqp"])
def backend(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Backend]:
    """Celery on Redis, then on RabbitMQ, each with a running worker; the log stays in Redis.

    Module-scoped and parametrized, so one worker runs at a time (two
    in-process Celery workers in one process do not start reliably).
    """
    broker_url = redis_url if request.param == "redis" else request.getfixturevalue("amqp_url")
    yield from running(Backend(broker_url, redis_url))


@pytest.fixture(scope="module")
def redis_worker_with(redis_url: str) -> Iterator[Callable[[Callable[[Backend], None]], Backend]]:
    """``redis_worker_with(setup)``: Celery on Redis; ``setup(backend)`` registers tasks, then a worker starts.

    Celery workers only know the tasks registered when they start. The
    worker runs until the end of the test module.
    """
    running_workers: list[Iterator[Backend]] = []

    def start(setup: Callable[[Backend], None]) -> Backend:
        backend = Backend(redis_url, redis_url)
        setup(backend)
        worker = running(backend)
        running_workers.append(worker)
        return next(worker)

    yield start
    for worker in running_workers:
        next(worker, None)


@pytest.fixture
def closed_broker_url() -> Callable[[str], str]:
    """``closed_broker_url("redis" | "amqp")``: the service's URL moved to a port where nothing listens."""

    def make(service: str) -> str:
        return str(OutageProxy(require_service(service)).url)  # never up: nothing listens there

    return make


@pytest.fixture
def workerless_app() -> Iterator[Callable[[str], tuple[Celery, Any, str]]]:
    """``workerless_app(broker_url)`` -> (app, task, queue): a Celery app that nothing consumes."""
    apps: list[Celery] = []

    def make(broker_url: str) -> tuple[Celery, Any, str]:
        name, queue = unique("app"), unique("q")
        app = Celery(name, broker=broker_url, set_as_current=False)
        app.conf.task_default_queue = queue
        apps.append(app)

        @app.task(name=f"{name}.noop")
        def noop(*args: Any, **kwargs: Any) -> None:
            """Never runs: no worker consumes this app."""

        return app, noop, queue

    yield make
    for app in apps:
        app.close()
