"""Integration: a Redis-backed executor retried through a real outage (connection refused).

The executor talks to Redis through an ``OutageProxy``: while the proxy is
down nothing listens on its port, so redis-py really fails to connect.
redis-py's own retries are switched off so airlock-retry is the only one
retrying.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airlock_retry import with_retry
from airlock_retry.testing import OutageProxy

import airlock

pytestmark = pytest.mark.integration


def redis_pusher(port: int, key: str, on_attempt: Callable[[int], None]) -> airlock.Executor:
    """An executor that RPUSHes each intent's first argument to ``key`` on 127.0.0.1:``port``.

    ``on_attempt(n)`` runs before the n-th call: the test's switch for when the outage ends.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis("127.0.0.1", port, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    calls = 0

    def push(intent: airlock.Intent) -> None:
        nonlocal calls
        calls += 1
        on_attempt(calls)
        client.rpush(key, intent.args[0])

    return push


def up_at(proxy: OutageProxy, attempt: int) -> Callable[[int], None]:
    """The outage ends just before the given attempt."""
    return lambda n: proxy.up() if n == attempt else None


RETRY_REDIS = {"retry_on": ["redis.ConnectionError", "ConnectionError"], "retry_wait": 0.01}


def test_a_flush_survives_an_outage_and_the_report_shows_each_refused_attempt(
    redis_target: tuple[str, int], redis_list: tuple[Any, str]
) -> None:
    import redis

    client, key = redis_list
    with OutageProxy(redis_target) as proxy:
        executor = redis_pusher(proxy.port, key, up_at(proxy, 3))
        with airlock.scope(executor=executor, retry_attempts=5, **RETRY_REDIS) as scope:
            airlock.enqueue(print, "order-1")
            airlock.enqueue(print, "order-2")
        assert proxy.connections >= 1
    assert client.lrange(key, 0, -1) == [b"order-1", b"order-2"]
    first, second = scope.report.dispatched
    refused = scope.report.attempts(first)
    assert len(refused) == 2 and all(isinstance(e, redis.ConnectionError) for e in refused)
    assert scope.report.attempts(second) == []


def test_an_outage_longer_than_the_attempts_fails_with_every_attempt(
    redis_target: tuple[str, int], redis_list: tuple[Any, str]
) -> None:
    import redis

    client, key = redis_list
    with OutageProxy(redis_target) as proxy:
        executor = redis_pusher(proxy.port, key, lambda n: None)
        with (
            pytest.raises(redis.ConnectionError) as caught,
            airlock.scope(executor=executor, retry_attempts=3, **RETRY_REDIS),
        ):
            airlock.enqueue(print, "order-1")
            airlock.enqueue(print, "order-2")
    error = caught.value
    assert len(error.airlock_attempts) == 3 and error.airlock_attempts[-1] is error
    report = error.airlock_report
    [(intent, failure)] = report.failed
    assert failure is error and report.attempts(intent) == error.airlock_attempts
    assert [i.args for i in report.not_attempted] == [("order-2",)]
    assert client.llen(key) == 0


def test_a_redis_error_raised_from_a_refused_connection_is_retried_by_default(
    redis_target: tuple[str, int], redis_list: tuple[Any, str]
) -> None:
    """redis.ConnectionError is not the builtin ConnectionError, but the
    ConnectionRefusedError it was raised from is, and nothing was sent."""
    import redis

    _, key = redis_list
    with OutageProxy(redis_target) as proxy:
        attempts: list[int] = []
        executor = redis_pusher(proxy.port, key, attempts.append)
        with pytest.raises(redis.ConnectionError), airlock.scope(executor=executor, retry_attempts=3):
            airlock.enqueue(print, "order-1")
    assert attempts == [1, 2, 3]


def test_other_redis_errors_are_not_retried_unless_retry_on_names_them(
    redis_target: tuple[str, int], redis_list: tuple[Any, str]
) -> None:
    """A timeout after the command was sent: redis.TimeoutError, raised from the
    builtin TimeoutError, which counts only when the connection was refused."""
    import redis

    _, key = redis_list
    with OutageProxy(redis_target) as proxy:
        proxy.up()
        attempts: list[int] = []

        def stall_then_push(n: int) -> None:
            attempts.append(n)
            proxy.stall()  # the command goes out; no reply comes back

        executor = redis_pusher(proxy.port, key, stall_then_push)
        with pytest.raises(redis.TimeoutError), airlock.scope(executor=executor, retry_attempts=3):
            airlock.enqueue(print, "order-1")
    assert attempts == [1]


def test_with_retry_rides_out_the_outage_too(redis_target: tuple[str, int], redis_list: tuple[Any, str]) -> None:
    client, key = redis_list
    with OutageProxy(redis_target) as proxy:
        executor = with_retry(
            redis_pusher(proxy.port, key, up_at(proxy, 2)), retries=3, backoff=0.01, retry_on="redis.ConnectionError"
        )
        with airlock.scope(executor=executor) as scope:
            airlock.enqueue(print, "order-1")
    assert client.lrange(key, 0, -1) == [b"order-1"]
    assert len(scope.report.attempts(scope.report.dispatched[0])) == 1
