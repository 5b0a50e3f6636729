"""retry, priority and coalesce enabled together, over a real Redis-backed executor.

The order is defined by the plugins' hook markers and documented on their
pages: coalesce (``airlock_before_flush``, tryfirst) merges, then priority
(``airlock_before_flush``, trylast) sorts and routes what is left, then each
intent is dispatched through retry (``airlock_execute`` wrapper), which
re-calls the executor the intent was routed to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from airlock_coalesce import merge_counts
from airlock_retry.testing import OutageProxy

import airlock
from airlock.testing import require_service

pytestmark = pytest.mark.integration


def notify(shop: str) -> None:
    """A queued task (only its arguments travel through Redis here)."""


def charge(order: str) -> None:
    """An urgent task, routed inline."""


@pytest.fixture
def redis_key() -> Iterator[tuple[Any, str, tuple[str, int]]]:
    import redis

    parts = urlsplit(require_service("redis"))
    target = (parts.hostname or "127.0.0.1", parts.port or 6379)
    client = redis.Redis(*target, socket_timeout=5)
    key = f"airlock-composition-test:{uuid.uuid4().hex}"
    yield client, key, target
    client.delete(key)
    client.close()


@pytest.fixture
def executors(redis_key: tuple[Any, str, tuple[str, int]]) -> Iterator[tuple[list[Any], OutageProxy]]:
    """ "inline" runs and logs the task; "redis_queue" RPUSHes through a proxy that is down at first."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    _, key, target = redis_key
    log: list[Any] = []
    with OutageProxy(target) as proxy:
        no_retry = Retry(NoBackoff(), 0)  # airlock-retry is the only one retrying
        client = redis.Redis("127.0.0.1", proxy.port, socket_connect_timeout=2, socket_timeout=2, retry=no_retry)

        def inline(intent: airlock.Intent) -> None:
            log.append(("inline", intent.args, intent.dispatch_options))
            intent.task(*intent.args)

        def redis_queue(intent: airlock.Intent) -> None:
            log.append(("redis_queue", intent.args, intent.dispatch_options))
            if len(log) == 3:
                proxy.up()  # the outage ends after the first queued attempt was refused
            client.rpush(key, json.dumps({"args": intent.args, "options": intent.dispatch_options}))

        airlock.register_executor("inline", inline)
        airlock.register_executor("redis_queue", redis_queue)
        try:
            yield log, proxy
        finally:
            airlock.unregister_executor("inline")
            airlock.unregister_executor("redis_queue")
            client.close()


def test_coalesce_then_route_and_order_then_retry(
    airlock_config: None, redis_key: tuple[Any, str, Any], executors: tuple[list[Any], OutageProxy]
) -> None:
    import redis

    client, key, _ = redis_key
    log, proxy = executors
    options = {
        "coalesce": True,
        "priority_routes": {8: "inline"},
        "priority_order": True,
        "retry_attempts": 4,
        "retry_wait": 0.01,
        "retry_on": ["redis.ConnectionError"],
    }
    with airlock.scope(executor="redis_queue", **options) as scope:
        for n in range(100):
            airlock.enqueue(notify, "shop-1" if n % 2 else "shop-2", _dispatch_options={"priority": 1 + 4 * (n % 2)})
            if n % 40 == 0:
                airlock.enqueue(charge, "order-9", _dispatch_options={"priority": 9})

    # coalesce: 103 intents -> 3; the report says how many merged into which
    report = scope.report
    assert sorted((into.args, n) for into, n in merge_counts(report)) == [
        (("order-9",), 2),
        (("shop-1",), 49),
        (("shop-2",), 49),
    ]
    # priority: the urgent one first and inline; then priority 5 before 1, through Redis
    assert [(where, args) for where, args, _ in log] == [
        ("inline", ("order-9",)),
        ("redis_queue", ("shop-1",)),  # refused: the proxy is down
        ("redis_queue", ("shop-1",)),  # retried once the outage is over
        ("redis_queue", ("shop-2",)),
    ]
    # retry: one refused attempt recorded against the intent that met the outage
    dispatched = report.dispatched
    assert [i.args for i in dispatched] == [("order-9",), ("shop-1",), ("shop-2",)]
    assert [type(e) for e in report.attempts(dispatched[1])] == [redis.ConnectionError]
    assert not report.failed and proxy.connections >= 1
    # consumed options never reached a backend: only `priority` travels on
    queued = [json.loads(raw) for raw in client.lrange(key, 0, -1)]
    assert queued == [
        {"args": ["shop-1"], "options": {"priority": 5}},
        {"args": ["shop-2"], "options": {"priority": 1}},
    ]
    assert log[0][2] == {"priority": 9}
    # routing replaced the urgent intent by a copy: the report follows it, nothing counts as removed
    kept_by_coalesce = {into.args: into for into, _ in merge_counts(report)}
    urgent = kept_by_coalesce[("order-9",)]
    assert urgent.dispatch_options == {"priority": 9}  # the original, as enqueued
    fate = report.fate_of(urgent)
    assert fate is not None and fate.status == "dispatched"
    assert fate.intent is dispatched[0] and fate.intent is not urgent
    assert dispatched[0].dispatch_options == {"priority": 9, "executor": "inline"}
    assert report.removed == []
    assert report.summary() == "flushed: 3 dispatched, 100 merged"


def test_the_hook_order_is_the_documented_one(airlock_config: None) -> None:
    pm = airlock.plugins.get_plugin_manager()
    before_flush = [impl.plugin_name for impl in reversed(pm.hook.airlock_before_flush.get_hookimpls())]
    assert before_flush.index("coalesce") < before_flush.index("priority")
    assert before_flush[0] == "coalesce" and before_flush[-1] == "priority"
    execute = [(i.plugin_name, i.wrapper) for i in reversed(pm.hook.airlock_execute.get_hookimpls())]
    # retry is a plain implementation called just before the core's: inside every wrapper, and its
    # attempts call the executor the core resolved for the intent (the routed one)
    assert ("retry", False) in execute
    assert execute[-1] == ("airlock-core", False)
    assert execute.index(("retry", False)) == len(execute) - 2
