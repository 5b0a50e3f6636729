"""The ``dramatiq`` executor when the broker is unreachable or goes away mid-flush (real brokers)."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
import redis
from airlock_dramatiq import DramatiqExecutor
from dramatiq.errors import ConnectionClosed
from redis.exceptions import ConnectionError as RedisConnectionError

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize(("kind", "error"), [("redis", RedisConnectionError), ("amqp", ConnectionClosed)])
def test_unreachable_broker_fails_and_reports_the_rest(closed_broker, kind: str, error: type) -> None:  # type: ignore[no-untyped-def]
    broker = closed_broker(kind)
    actor = dramatiq.actor(lambda *args: None, broker=broker, queue_name="airlock-unreachable", actor_name="noop")
    with pytest.raises(error, match=r"[Rr]efused") as caught:
        with airlock.scope(executor="dramatiq"):
            for i in range(5):
                airlock.enqueue(actor, i, _dispatch_options={"max_retries": 0})
    report = caught.value.airlock_report
    assert report.dispatched == []
    # Failed at the first send (connection) or when the pipelined chunk was written: either
    # way every intent is accounted for as failed or never attempted, none as dispatched.
    failed = [intent.args for intent, _ in report.failed]
    assert failed[0] == (0,)
    assert sorted(failed + [intent.args for intent in report.not_attempted]) == [(0,), (1,), (2,), (3,), (4,)]


def test_losing_redis_mid_flush_reports_exactly_the_written_chunks(proxied_redis_broker) -> None:  # type: ignore[no-untyped-def]
    _, actor, redis_proxy = proxied_redis_broker
    with pytest.raises(RedisConnectionError) as caught:
        with airlock.scope(executor=DramatiqExecutor(chunk_size=4, first_chunk_size=4)):
            for i in range(4):  # chunk 1: written when full
                airlock.enqueue(actor, i, _dispatch_options={"max_retries": 0})
            airlock.enqueue(redis_proxy.down)  # runs inline, after chunk 1 was written
            for i in range(4, 9):  # chunk 2 fails when written (at 7); 8 is never attempted
                airlock.enqueue(actor, i, _dispatch_options={"max_retries": 0})
    report = caught.value.airlock_report
    assert [i.args for i in report.dispatched if i.task is actor] == [(0,), (1,), (2,), (3,)]
    assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,), (6,), (7,)]
    assert [i.args for i in report.not_attempted] == [(8,)]
    assert [i.args for i in caught.value.airlock_undelivered] == [(4,), (5,), (6,)]


def test_losing_redis_before_the_last_chunk_names_its_intents(proxied_redis_broker) -> None:  # type: ignore[no-untyped-def]
    _, actor, redis_proxy = proxied_redis_broker
    with pytest.raises(RedisConnectionError) as caught:
        with airlock.scope(executor=DramatiqExecutor(chunk_size=4, first_chunk_size=4)):
            for i in range(4):
                airlock.enqueue(actor, i, _dispatch_options={"max_retries": 0})
            airlock.enqueue(redis_proxy.down)
            for i in range(4, 6):  # the last, partial chunk: written when the flush ends
                airlock.enqueue(actor, i, _dispatch_options={"max_retries": 0})
    report = caught.value.airlock_report
    assert [i.args for i in caught.value.airlock_undelivered] == [(4,), (5,)]
    assert [i.args for i in report.dispatched if i.task is actor] == [(0,), (1,), (2,), (3,)]
    assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,)]


def test_a_chunk_whose_reply_was_lost_is_not_written_again(airlock_outage, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """redis-py resends a pipeline whose reply was lost when its client retries
    (``redis.Redis(host=..., port=...)`` does, by default): the chunk would land
    twice while the report counts it once. The flush's pipeline never resends:
    the messages Redis took are there once, reported failed (delivery unknown)."""
    from urllib.parse import urlsplit

    from dramatiq.brokers.redis import RedisBroker
    from redis.exceptions import ConnectionError as RedisError

    proxy = airlock_outage("redis")
    name = f"airlock-lost-reply-{uuid.uuid4().hex[:10]}"
    service = urlsplit(redis_url)
    db = int(service.path.lstrip("/") or 0)
    broker = RedisBroker(host="127.0.0.1", port=proxy.port, db=db, password=service.password, namespace=name)
    pool = broker.client.connection_pool
    connection = pool.get_connection()
    assert connection.retry.get_retries() > 0  # a client that would resend
    pool.release(connection)
    queue = f"{name}-q"
    actor = dramatiq.actor(lambda *args: None, broker=broker, queue_name=queue, actor_name=f"{name}-noop")
    direct = redis.Redis.from_url(redis_url)
    try:
        broker.client.ping()
        broker._max_unpack_size()  # its EVALSHA, run once per broker, is not the one to lose
        proxy.lose_next_reply(containing=b"EVALSHA")
        with pytest.raises(RedisError) as caught:
            with airlock.scope(executor=DramatiqExecutor(chunk_size=10, first_chunk_size=10)):
                for i in range(10):
                    airlock.enqueue(actor, i)
        assert proxy.replies_lost == 1
        queued = direct.lrange(f"{broker.namespace}:{queue}", 0, -1)
        assert len(queued) == len(set(queued)) == 10  # each message once
        report = caught.value.airlock_report
        assert report.dispatched == [] and len(report.failed) == 10
    finally:
        keys = list(direct.scan_iter(f"{broker.namespace}:*"))
        if keys:
            direct.delete(*keys)
        direct.close()
        broker.close()


def test_a_broker_that_stops_answering_fails_the_flush_within_the_socket_timeout(
    airlock_outage, redis_url: str
) -> None:  # type: ignore[no-untyped-def]
    """Open connections that get no answer (a stopped process, a partition) hang
    a send for as long as redis-py waits: bound it with the client's
    ``socket_timeout``, and the flush fails in that time."""
    import time

    from dramatiq.brokers.redis import RedisBroker
    from redis.exceptions import RedisError

    proxy = airlock_outage("redis")
    name = f"airlock-stall-{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(url=proxy.url, namespace=name, socket_timeout=1)
    actor = dramatiq.actor(lambda *args: None, broker=broker, queue_name=f"{name}-q", actor_name=f"{name}-noop")
    direct = redis.Redis.from_url(redis_url)
    try:
        with pytest.raises(RedisError) as caught:
            with airlock.scope(executor=DramatiqExecutor(chunk_size=4, first_chunk_size=4)):
                for i in range(4):  # chunk 1, written
                    airlock.enqueue(actor, i)
                airlock.enqueue(proxy.stall)
                started = time.monotonic()
                for i in range(4, 8):  # chunk 2: its write gets no answer
                    airlock.enqueue(actor, i)
        assert time.monotonic() - started < 10
        report = caught.value.airlock_report
        assert [i.args for i in report.dispatched if i.task is actor] == [(0,), (1,), (2,), (3,)]
        assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,), (6,), (7,)]
    finally:
        proxy.up()
        keys = list(direct.scan_iter(f"{name}:*"))
        if keys:
            direct.delete(*keys)
        direct.close()
        broker.close()


@pytest.mark.parametrize(("kind", "error"), [("redis", RedisConnectionError), ("amqp", ConnectionClosed)])
def test_a_scope_that_tries_every_intent_stops_asking_an_unreachable_broker(
    closed_broker, kind: str, error: type
) -> None:  # type: ignore[no-untyped-def]
    """fail_fast=False (DjangoScope's default): the rest are refused at once
    with BrokerUnreachable instead of each trying the dead broker again (on
    RabbitMQ, pika nests the refusal in its error's arguments)."""
    from airlock.executors.chunked import BrokerUnreachable

    broker = closed_broker(kind)
    actor = dramatiq.actor(lambda *args: None, broker=broker, queue_name="airlock-unreachable", actor_name="noop2")
    with pytest.raises(airlock.FlushFailed) as caught:
        with airlock.scope(executor="dramatiq", fail_fast=False):
            for i in range(20):
                airlock.enqueue(actor, i)
    report = caught.value.airlock_report
    first, *rest = report.failed
    assert first[0].args == (0,) and isinstance(first[1], error)
    assert [intent.args for intent, _ in rest] == [(i,) for i in range(1, 20)]
    assert all(isinstance(error, BrokerUnreachable) and error.first_error is first[1] for _, error in rest)


def test_an_option_dramatiq_would_ignore_fails_its_intent_in_a_pipelined_flush(proxied_redis_broker) -> None:  # type: ignore[no-untyped-def]
    """The refusal happens before the message is queued on the flush's pipeline: the rest is written."""
    broker, actor, _proxy = proxied_redis_broker
    with pytest.raises(airlock.FlushFailed) as caught:
        with airlock.scope(executor="dramatiq", fail_fast=False):
            airlock.enqueue(actor, 1)
            airlock.enqueue(actor, 2, _dispatch_options={"countdown": 3600})
            airlock.enqueue(actor, 3)
    report = caught.value.airlock_report
    assert [i.args for i in report.dispatched] == [(1,), (3,)]
    assert [(i.args, type(e)) for i, e in report.failed] == [((2,), TypeError)]
    assert broker.client.hlen(f"{broker.namespace}:{actor.queue_name}.msgs") == 2
