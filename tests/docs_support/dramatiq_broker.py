"""``<!-- test: with dramatiq-broker -->``: a Dramatiq ``RedisBroker`` on the test Redis, set as the
global broker before the reader's actors (``myapp.actors``) are declared. After the block, a real
worker must receive every message the block sent and process each one without a delay.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from airlock.testing import require_service

from . import execute, wait_until


class Deliveries(dramatiq.Middleware):
    """What was sent (by message id), what a worker received, processed, or failed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, tuple[str, bool]] = {}  # id -> (actor, delayed)
        self.received: set[str] = set()
        self.processed: set[str] = set()
        self.failed: dict[str, BaseException] = {}

    def after_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        with self.lock:
            self.sent[message.message_id] = (message.actor_name, bool(delay))

    def before_delay_message(self, broker: Any, message: Any) -> None:
        with self.lock:
            self.received.add(message.message_id)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None, exception: Any = None) -> None:
        with self.lock:
            self.received.add(message.message_id)
            if exception is None:
                self.processed.add(message.message_id)
            else:
                self.failed[message.message_id] = exception

    def unfinished(self) -> list[str]:
        with self.lock:
            return [
                f"{actor} ({message_id})"
                for message_id, (actor, delayed) in self.sent.items()
                if message_id not in self.received or not (delayed or message_id in self.processed)
            ]


def run(code: str, path: str, line: int) -> None:
    url = require_service("redis")
    namespace = f"airlock-docs-{uuid.uuid4().hex[:10]}"
    deliveries = Deliveries()
    broker = RedisBroker(url=url, namespace=namespace)
    broker.add_middleware(deliveries)
    dramatiq.set_broker(broker)
    try:
        execute(code, path, line)
        assert deliveries.sent, "the example sent no message: it proved nothing"
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            wait_until(lambda: deliveries.failed or not deliveries.unfinished(), "the worker gets every message")
        finally:
            worker.stop()
        assert not deliveries.failed, f"messages failed on the worker: {deliveries.failed}"
    finally:
        broker.close()
        with redis.Redis.from_url(url) as client:
            keys = list(client.scan_iter(match=f"{namespace}:*"))
            if keys:
                client.delete(*keys)
