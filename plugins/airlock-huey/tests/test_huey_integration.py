"""airlock -> huey executor -> real storage (SqliteHuey, RedisHuey) -> real Huey consumer."""

from __future__ import annotations

import datetime
import time
from collections import Counter

import pytest
import redis
from huey import RedisHuey

import airlock

pytestmark = pytest.mark.integration


def test_every_intent_runs_exactly_once_with_its_args_and_kwargs(rig):
    with airlock.scope(executor="huey") as scope:
        airlock.enqueue(rig.record, "a")
        airlock.enqueue(rig.record, "b", 1, 2)
        airlock.enqueue(rig.record, "c", x=1, nested={"k": [1, 2]})
        # Named like Huey options: still the task's own keyword arguments.
        airlock.enqueue(rig.record, "d", priority="high", id="mine", retries=3)
    assert len(scope.report.dispatched) == 4

    with rig.consumer():
        rig.wait_for_runs(4)

    assert Counter(rig.labels()) == Counter({"a": 1, "b": 1, "c": 1, "d": 1})
    by_label = {run.label: run for run in rig.runs}
    assert by_label["a"].args == () and by_label["a"].kwargs == {}
    assert by_label["b"].args == (1, 2)
    assert by_label["c"].kwargs == {"x": 1, "nested": {"k": [1, 2]}}
    assert by_label["d"].kwargs == {"priority": "high", "id": "mine", "retries": 3}
    assert by_label["d"].task_id != "mine"


def test_delay_and_eta_are_honoured(rig):
    flushed_at = time.time()
    # Aware: Huey truncates a naive (local time) eta to whole seconds.
    eta = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1.5)
    with airlock.scope(executor="huey"):
        airlock.enqueue(rig.record, "now")
        airlock.enqueue(rig.record, "delay", _dispatch_options={"delay": 1})
        airlock.enqueue(rig.record, "eta", _dispatch_options={"eta": eta})
        airlock.enqueue(rig.record, "timedelta", _dispatch_options={"delay": datetime.timedelta(seconds=1)})
    assert rig.huey.scheduled_count() + rig.huey.pending_count() == 4

    with rig.consumer():
        rig.wait_for_runs(4)

    assert Counter(rig.labels()) == Counter({"now": 1, "delay": 1, "eta": 1, "timedelta": 1})
    ran = {run.label: run.at for run in rig.runs}
    # Lower bounds only: a scheduled task never runs before its time.
    assert ran["delay"] >= flushed_at + 1
    assert ran["timedelta"] >= flushed_at + 1
    assert ran["eta"] >= eta.timestamp()


def test_options_without_eta_or_delay_enqueue_now_and_are_applied(sqlite_rig):
    """Huey's schedule() refuses options without eta/delay; the executor enqueues them now."""
    with airlock.scope(executor="huey"):
        airlock.enqueue(sqlite_rig.record, "low", _dispatch_options={"priority": 1})
        airlock.enqueue(sqlite_rig.record, "plain")
        airlock.enqueue(sqlite_rig.record, "high", _dispatch_options={"priority": 9, "id": "task-high"})
        airlock.enqueue(sqlite_rig.record, "mid", _dispatch_options={"priority": 5, "delay": None})
    assert sqlite_rig.huey.scheduled_count() == 0

    with sqlite_rig.consumer(workers=1):  # one worker: runs strictly in priority order
        sqlite_rig.wait_for_runs(4)

    assert sqlite_rig.labels() == ["high", "mid", "low", "plain"]
    by_label = {run.label: run for run in sqlite_rig.runs}
    assert by_label["high"].task_id == "task-high"
    assert (by_label["high"].priority, by_label["mid"].priority, by_label["plain"].priority) == (9, 5, None)


def test_unreachable_redis_fails_clearly_and_the_report_says_what_was_published(rig, closed_port):
    dead = RedisHuey(name="airlock_dead", host="127.0.0.1", port=closed_port, socket_connect_timeout=2, results=False)

    @dead.task()
    def lost(label):  # never runs: its storage is unreachable
        raise AssertionError(label)

    started = time.monotonic()
    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        with airlock.scope(executor="huey"):
            airlock.enqueue(rig.record, "first")
            airlock.enqueue(rig.record, "second")
            airlock.enqueue(lost, "third")
            airlock.enqueue(rig.record, "fourth")
    assert time.monotonic() - started < 30, "the failure must come within the connect timeout, not hang"

    report = raised.value.airlock_report
    assert [i.args[0] for i in report.dispatched] == ["first", "second"]
    assert [(i.args[0], exc) for i, exc in report.failed] == [("third", raised.value)]
    assert [i.args[0] for i in report.not_attempted] == ["fourth"]

    with rig.consumer():
        rig.wait_for_runs(2)
    assert Counter(rig.labels()) == Counter({"first": 1, "second": 1})


def test_unreachable_redis_without_fail_fast_publishes_the_rest(rig, closed_port):
    dead = RedisHuey(name="airlock_dead", host="127.0.0.1", port=closed_port, socket_connect_timeout=2, results=False)

    @dead.task()
    def lost(label):
        raise AssertionError(label)

    with pytest.raises(airlock.FlushFailed) as raised:
        with airlock.scope(executor="huey", fail_fast=False):
            airlock.enqueue(rig.record, "first")
            airlock.enqueue(lost, "second")
            airlock.enqueue(rig.record, "third")

    report = raised.value.airlock_report
    assert [i.args[0] for i in report.dispatched] == ["first", "third"]
    assert [i.args[0] for i, _ in report.failed] == ["second"]
    assert isinstance(report.failed[0][1], redis.exceptions.ConnectionError)

    with rig.consumer():
        rig.wait_for_runs(2)
    assert Counter(rig.labels()) == Counter({"first": 1, "third": 1})
