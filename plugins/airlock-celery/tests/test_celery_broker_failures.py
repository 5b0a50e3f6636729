"""The ``celery`` executor when the broker is unreachable or goes away mid-flush (real brokers)."""

from __future__ import annotations

import pytest
import redis
from airlock_celery import CeleryExecutor
from kombu.exceptions import KombuError, OperationalError

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize("service", ["redis", "amqp"])
def test_unreachable_broker_fails_the_first_publish_and_reports_the_rest(
    service: str,
    closed_broker_url,
    workerless_app,  # type: ignore[no-untyped-def]
) -> None:
    _, noop, _ = workerless_app(closed_broker_url(service))
    with pytest.raises(OperationalError, match="refused") as caught:
        with airlock.scope(executor="celery"):
            for i in range(5):
                airlock.enqueue(noop, i, _dispatch_options={"priority": 1})
    report = caught.value.airlock_report
    assert report.dispatched == []
    assert [intent.args for intent, _ in report.failed] == [(0,)]
    assert [intent.args for intent in report.not_attempted] == [(1,), (2,), (3,), (4,)]


def test_losing_the_broker_mid_flush_reports_exactly_the_published_chunks(
    airlock_outage,
    redis_url,
    workerless_app,  # type: ignore[no-untyped-def]
) -> None:
    redis_proxy = airlock_outage("redis")
    _, noop, queue = workerless_app(redis_proxy.url)
    client = redis.Redis.from_url(redis_url)
    try:
        with pytest.raises(KombuError) as caught:
            with airlock.scope(executor=CeleryExecutor(chunk_size=4)):
                for i in range(4):  # chunk 1: written when full
                    airlock.enqueue(noop, i, _dispatch_options={"priority": 1})
                airlock.enqueue(redis_proxy.down)  # runs inline, after chunk 1 was written
                for i in range(4, 9):  # chunk 2 fails when written (at 7); 8 is never attempted
                    airlock.enqueue(noop, i, _dispatch_options={"priority": 1})
        report = caught.value.airlock_report
        assert client.llen(queue) == 4
        assert [i.args for i in report.dispatched if i.task is noop] == [(0,), (1,), (2,), (3,)]
        assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,), (6,), (7,)]
        assert [i.args for i in report.not_attempted] == [(8,)]
        assert [i.args for i in caught.value.airlock_undelivered] == [(4,), (5,), (6,)]
    finally:
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()


def test_losing_the_broker_before_the_last_chunk_names_its_intents(  # type: ignore[no-untyped-def]
    airlock_outage, redis_url, workerless_app
) -> None:
    redis_proxy = airlock_outage("redis")
    _, noop, queue = workerless_app(redis_proxy.url)
    client = redis.Redis.from_url(redis_url)
    try:
        with pytest.raises(KombuError) as caught:
            with airlock.scope(executor=CeleryExecutor(chunk_size=4)):
                for i in range(4):
                    airlock.enqueue(noop, i, _dispatch_options={"priority": 1})
                airlock.enqueue(redis_proxy.down)
                for i in range(4, 6):  # the last, partial chunk: written when the flush ends
                    airlock.enqueue(noop, i, _dispatch_options={"priority": 1})
        assert client.llen(queue) == 4
        assert [i.args for i in caught.value.airlock_undelivered] == [(4,), (5,)]
        report = caught.value.airlock_report
        assert [i.args for i in report.dispatched if i.task is noop] == [(0,), (1,), (2,), (3,)]
        assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,)]
    finally:
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()


def test_a_broker_that_stops_answering_fails_the_flush_within_the_socket_timeout(  # type: ignore[no-untyped-def]
    airlock_outage, redis_url, workerless_app
) -> None:
    """Open connections that get no answer (a stopped process, a partition) hang
    Celery's publish for as long as the transport waits: bound it with the
    ``socket_timeout`` transport option, and the flush fails in that time."""
    import time

    redis_proxy = airlock_outage("redis")
    app, noop, queue = workerless_app(redis_proxy.url)
    app.conf.broker_transport_options = {"socket_timeout": 1}
    client = redis.Redis.from_url(redis_url)
    try:
        noop.apply_async((-1,))  # the connection and the queue exist before the broker stops answering
        client.delete(queue)
        with pytest.raises(KombuError) as caught:
            with airlock.scope(executor=CeleryExecutor(chunk_size=4)):
                for i in range(4):  # chunk 1, written
                    airlock.enqueue(noop, i)
                airlock.enqueue(redis_proxy.stall)
                started = time.monotonic()
                for i in range(4, 8):  # chunk 2: its write gets no answer
                    airlock.enqueue(noop, i)
        assert time.monotonic() - started < 10
        report = caught.value.airlock_report
        assert [i.args for i in report.dispatched if i.task is noop] == [(0,), (1,), (2,), (3,)]
        assert sorted(intent.args for intent, _ in report.failed) == [(4,), (5,), (6,), (7,)]
    finally:
        redis_proxy.up()
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()


@pytest.mark.parametrize("service", ["redis", "amqp"])
def test_a_scope_that_tries_every_intent_stops_asking_an_unreachable_broker(
    service: str,
    closed_broker_url,
    workerless_app,  # type: ignore[no-untyped-def]
) -> None:
    """fail_fast=False (DjangoScope's default): the first intent pays Celery's
    own reconnect attempts; the rest are refused at once, each reported failed
    with BrokerUnreachable naming the first, instead of paying them again."""
    from airlock.executors.chunked import BrokerUnreachable

    _, noop, _ = workerless_app(closed_broker_url(service))
    with pytest.raises(airlock.FlushFailed) as caught:
        with airlock.scope(executor="celery", fail_fast=False):
            for i in range(20):
                airlock.enqueue(noop, i)
            airlock.enqueue(print, "inline", end="")  # not for the broker: still runs
    report = caught.value.airlock_report
    first, *rest = report.failed
    assert first[0].args == (0,) and isinstance(first[1], OperationalError)
    assert [intent.args for intent, _ in rest] == [(i,) for i in range(1, 20)]
    assert all(isinstance(error, BrokerUnreachable) and error.first_error is first[1] for _, error in rest)
    assert "noop(0), earlier in this flush" in str(rest[0][1])
    assert [intent.args for intent in report.dispatched] == [("inline",)]


def test_a_dead_broker_does_not_refuse_another_app_s_intents_in_the_same_flush(
    closed_broker_url,
    redis_url,
    workerless_app,  # type: ignore[no-untyped-def]
) -> None:  # type: ignore[no-untyped-def]
    from airlock.executors.chunked import BrokerUnreachable

    _, dead, _ = workerless_app(closed_broker_url("redis"))
    _, live, live_queue = workerless_app(redis_url)
    with pytest.raises(airlock.FlushFailed) as caught:
        with airlock.scope(executor="celery", fail_fast=False):
            for i in range(3):
                airlock.enqueue(dead, i)
                airlock.enqueue(live, i)
    report = caught.value.airlock_report
    assert sorted(intent.args for intent in report.dispatched) == [(0,), (1,), (2,)]
    assert all(intent.task is live for intent in report.dispatched)
    assert [type(error) for _, error in report.failed] == [OperationalError, BrokerUnreachable, BrokerUnreachable]
    assert redis.Redis.from_url(redis_url).llen(live_queue) == 3
