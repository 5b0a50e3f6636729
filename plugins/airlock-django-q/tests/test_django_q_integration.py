"""airlock -> django_q executor -> django-q2 ORM broker on PostgreSQL -> a real qcluster."""

from __future__ import annotations

from collections import Counter

import pytest

pytestmark = pytest.mark.integration


def test_every_intent_runs_exactly_once_in_the_cluster_with_its_args_and_kwargs(djq):
    report = djq.produce("basic")
    assert report["error"] is None
    assert report["dispatched"] == ["a", "b", "c", "d"]

    djq.settle(4)
    runs = djq.runs()
    assert Counter(label for label, *_ in runs) == Counter({"a": 1, "b": 1, "c": 1, "d": 1})
    received = {label: (args, kwargs) for label, args, kwargs, _ in runs}
    assert received == {
        "a": ([], {}),
        "b": ([1, 2], {}),
        "c": ([], {"x": 1, "nested": {"k": [1, 2]}}),
        "d": ([3], {"y": "z"}),
    }
    assert all(pid != report["pid"] for *_, pid in runs), "tasks must run in the cluster, not the producer"


def test_async_task_options_are_honoured(djq):
    report = djq.produce("options")
    assert report["error"] is None
    assert report["dispatched"] == ["named", "unsaved", "synced", "nested", "timeout-kwarg"]

    djq.wait_until(lambda: any(label.startswith("hook:") for label, *_ in djq.runs()))
    djq.settle(5)
    run = report["run"]
    runs = djq.runs()
    pids = {label: pid for label, _, _, pid in runs}
    assert Counter(label for label, *_ in runs) == Counter(
        {"named": 1, "unsaved": 1, "synced": 1, "nested": 1, "timeout-kwarg": 1, f"hook:named-{run}": 1}
    )
    assert next(kwargs for label, _, kwargs, _ in runs if label == "timeout-kwarg") == {"timeout": 3}
    assert pids["synced"] == report["pid"], "sync=True runs the task inline, in the producer"
    assert pids["named"] != report["pid"]
    hook_args = next(args for label, args, _, _ in runs if label.startswith("hook:"))
    assert hook_args == [True]

    saved = dict(djq.query("""select name, coalesce("group", '') from django_q_task"""))
    assert saved[f"named-{run}"] == f"group-{run}"
    assert f"nested-{run}" in saved  # task_name given inside q_options
    assert f"unsaved-{run}" not in saved  # save=False: no result row


def test_unreachable_broker_mid_flush_reports_what_was_published(djq, closed_port_dsn):
    # "third" goes through a real ORM broker whose database alias points at a closed port.
    report = djq.produce("mixed", AIRLOCK_DJQ_DEAD_DSN=closed_port_dsn)
    assert report["error"][0] == "django.db.utils.OperationalError"
    assert report["dispatched"] == ["first", "second"]
    assert report["failed"] == [["third", "OperationalError"]]
    assert report["not_attempted"] == ["fourth"]

    djq.settle(2)
    assert Counter(label for label, *_ in djq.runs()) == Counter({"first": 1, "second": 1})


def test_unreachable_database_fails_within_the_connect_timeout(djq, closed_port_dsn):
    report = djq.produce("unreachable", AIRLOCK_DJQ_DSN=closed_port_dsn)
    assert report["error"][0] == "django.db.utils.OperationalError"
    assert "127.0.0.1" in report["error"][1]
    assert report["seconds"] < 20, "connect_timeout=3 bounds the failure"
    assert report["dispatched"] == []
    assert report["failed"] == [["first", "OperationalError"]]
    assert report["not_attempted"] == ["second"]


def test_a_broker_one_intent_could_not_reach_is_not_asked_again_by_the_rest_of_the_flush(djq, closed_port_dsn):
    """fail_fast=False (DjangoScope's default) tries every intent: without the
    breaker each one for the dead Redis paid redis-py's reconnect attempts."""
    from psycopg.conninfo import conninfo_to_dict

    dead_port = conninfo_to_dict(closed_port_dsn)["port"]
    report = djq.produce("redis_down", AIRLOCK_DJQ_DEAD_REDIS_PORT=str(dead_port))
    assert report["error"][0] == "airlock.errors.FlushFailed"
    assert report["dispatched"] == ["first", "last"]  # the configured ORM broker is still used
    assert report["failed"] == [["r1", "ConnectionError"], ["r2", "BrokerUnreachable"], ["r3", "BrokerUnreachable"]]

    djq.settle(2)
    assert Counter(label for label, *_ in djq.runs()) == Counter({"first": 1, "last": 1})
