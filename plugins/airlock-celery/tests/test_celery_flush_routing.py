"""Routing inside a flush: Celery's routing decides, queues are bound once to the flush's channel."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import redis
from airlock_celery import CeleryExecutor
from airlock_celery._routing import BindingRouter
from kombu import Connection, Queue
from kombu.common import Broadcast

import airlock


class FixedRouter:
    """Stands in for ``app.amqp.router``: routes every task to ``queue``."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def route(self, options: dict[str, Any], name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**options, "queue": self.queue}


class Producer:
    """Has the attributes the router reads: its channel and that channel's connection."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.connection = channel.connection.client


@pytest.fixture
def channel() -> Any:
    with Connection("memory://") as connection:
        yield connection.channel()


def test_a_routed_queue_is_bound_once_to_the_producer_channel(channel: Any) -> None:
    queue = Queue("orders")
    router = BindingRouter(FixedRouter(queue), Producer(channel))
    first = router.route({"priority": 3}, "task")
    second = router.route({}, "task")
    assert first["priority"] == 3
    assert first["queue"] is second["queue"] is not queue
    assert first["queue"] == queue and first["queue"].channel is channel and not queue.is_bound


def test_queues_are_bound_again_when_the_producer_channel_changes(channel: Any) -> None:
    producer = Producer(channel)
    router = BindingRouter(FixedRouter(Queue("orders")), producer)
    before = router.route({}, "task")["queue"]
    with Connection("memory://") as connection:
        producer.channel, producer.connection = connection.channel(), connection
        after = router.route({}, "task")["queue"]
    assert after is not before and after.channel is producer.channel


def test_nothing_is_bound_before_the_producer_connection_is_open() -> None:
    queue = Queue("orders")
    with Connection("memory://") as connection:
        producer = Producer(connection.channel())
        producer.connection = Connection("memory://")  # never connected
        assert BindingRouter(FixedRouter(queue), producer).route({}, "task")["queue"] is queue


@pytest.mark.parametrize("queue", [Broadcast("news"), Queue(""), None], ids=["broadcast", "anonymous", "none"])
def test_other_destinations_pass_through_untouched(channel: Any, queue: Any) -> None:
    assert BindingRouter(FixedRouter(queue), Producer(channel)).route({}, "task")["queue"] is queue


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_a_flush_follows_task_routes_and_explicit_queues(workerless_app, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    app, noop, default_queue = workerless_app(redis_url)
    routed, explicit = (f"airlock-celery-q-{kind}-{uuid.uuid4().hex[:10]}" for kind in ("routed", "explicit"))
    app.conf.task_routes = {noop.name: {"queue": routed}}
    client = redis.Redis.from_url(redis_url)
    try:
        with airlock.scope(executor="celery") as scope:
            for i in range(3):
                airlock.enqueue(noop, i)  # task_routes
            airlock.enqueue(noop, 3, _dispatch_options={"queue": explicit})  # the option wins over the route
        assert scope.report.ok and len(scope.report.dispatched) == 4
        assert (client.llen(routed), client.llen(explicit), client.llen(default_queue)) == (3, 1, 0)
    finally:
        client.delete(routed, explicit, default_queue, *(f"_kombu.binding.{q}" for q in (routed, explicit)))
        client.close()


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_an_intent_with_its_own_connection_keeps_its_place_in_the_flush(workerless_app, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """Celery publishes it at once on that connection: what the flush buffered
    before it is written first, so the broker sees the flush's order."""
    _, noop, queue = workerless_app(redis_url)
    client = redis.Redis.from_url(redis_url)
    own = Connection(redis_url)
    try:
        with airlock.scope(executor=CeleryExecutor(chunk_size=8, first_chunk_size=8)) as scope:
            for i in range(3):
                airlock.enqueue(noop, i)
            airlock.enqueue(noop, 3, _dispatch_options={"connection": own})
            for i in range(4, 6):
                airlock.enqueue(noop, i)
        assert scope.report.ok and len(scope.report.dispatched) == 6
        # the Redis transport LPUSHes and consumers pop from the other end
        published = [json.loads(message)["headers"]["argsrepr"] for message in reversed(client.lrange(queue, 0, -1))]
        assert published == [f"({i},)" for i in range(6)]
    finally:
        own.release()
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
