"""The reader's Celery app on the test Redis, and a real in-process worker that must run what was published."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from celery import Celery, signals
from celery.contrib.testing.worker import start_worker

from . import WAIT, wait_until


@contextmanager
def on_redis(app: Celery, url: str) -> Iterator[None]:
    """Point ``app`` at Redis under a key prefix of its own; remove every key under it afterwards."""
    prefix = f"airlock-docs-{uuid.uuid4().hex[:10]}:"
    app.conf.update(
        broker_url=url,
        broker_transport_options={"global_keyprefix": prefix},
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
    )
    try:
        yield
    finally:
        with redis.Redis.from_url(url) as client:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


class Deliveries:
    """What was published (from any thread), and what a worker received and ran, by task id."""

    def __init__(self) -> None:
        self.published: dict[str, tuple[str, str, bool]] = {}  # id -> (task, routing key, has an ETA)
        self.received: set[str] = set()
        self.succeeded: set[str] = set()
        self.failed: dict[str, BaseException] = {}

    def _on_publish(self, sender: str, headers: dict[str, Any], routing_key: str, **_: Any) -> None:
        self.published[headers["id"]] = (sender, routing_key, headers.get("eta") is not None)

    def _on_received(self, request: Any, **_: Any) -> None:
        self.received.add(request.id)

    def _on_success(self, sender: Any, **_: Any) -> None:
        self.succeeded.add(sender.request.id)

    def _on_failure(self, task_id: str, exception: BaseException, **_: Any) -> None:
        self.failed[task_id] = exception

    @contextmanager
    def recording(self) -> Iterator[Deliveries]:
        pairs = [
            (signals.after_task_publish, self._on_publish),
            (signals.task_received, self._on_received),
            (signals.task_success, self._on_success),
            (signals.task_failure, self._on_failure),
        ]
        for signal, receiver in pairs:
            signal.connect(receiver, weak=False)
        try:
            yield self
        finally:
            for signal, receiver in pairs:
                signal.disconnect(receiver)

    def unfinished(self) -> list[str]:
        """Published tasks a worker has not received, or (without an ETA) not run successfully yet."""
        return [
            f"{task} ({task_id})"
            for task_id, (task, _, eta) in list(self.published.items())
            if task_id not in self.received or not (eta or task_id in self.succeeded)
        ]

    def work_off(self, app: Celery) -> None:
        """Run a worker on every queue published to until all published tasks are done.

        A task with an ETA only has to reach the worker (it would run later).
        Raises ``AssertionError`` if nothing was published, a task failed, or
        the worker did not get everything within ``WAIT`` seconds.
        """
        assert self.published, "the example published no task: it proved nothing"
        queues = sorted({app.conf.task_default_queue} | {key for _, key, _ in self.published.values()})
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=WAIT, queues=queues):
            wait_until(lambda: self.failed or not self.unfinished(), f"the worker runs {self.unfinished()}")
        assert not self.failed, f"tasks failed on the worker: {self.failed}"
