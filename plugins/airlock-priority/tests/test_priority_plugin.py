"""airlock-priority: routing by band, stable ordering, options, inertness."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from airlock_priority import Routes, prioritize

import airlock
from airlock.executors.threads import ThreadsExecutor


def task(*args: Any) -> None:
    """A task; the tests look at where it was dispatched."""


class Recorder:
    """An executor that records (its label, the intent's first argument, the options it saw)."""

    def __init__(self, label: str, log: list[tuple[str, Any, Any]]) -> None:
        self.label, self.log = label, log

    def __call__(self, intent: airlock.Intent) -> None:
        self.log.append((self.label, intent.args[0], intent.dispatch_options))


@pytest.fixture
def log() -> Iterator[list[tuple[str, Any, Any]]]:
    """What the executors received; registers executors named "inline" and "queue"."""
    entries: list[tuple[str, Any, Any]] = []
    airlock.register_executor("inline", Recorder("inline", entries))
    airlock.register_executor("queue", Recorder("queue", entries))
    yield entries
    airlock.unregister_executor("inline")
    airlock.unregister_executor("queue")


def p(n: float) -> dict[str, Any]:
    return {"priority": n}


def test_high_priority_runs_inline_and_the_rest_stays_with_the_scope_executor(log: list[Any]) -> None:
    with airlock.scope(executor="queue", priority_routes={8: "inline"}) as scope:
        airlock.enqueue(task, "low", _dispatch_options=p(1))
        airlock.enqueue(task, "urgent", _dispatch_options=p(9))
        airlock.enqueue(task, "none")
    assert log == [("queue", "low", {"priority": 1}), ("inline", "urgent", {"priority": 9}), ("queue", "none", None)]
    assert len(scope.report.dispatched) == 3


def test_bands_pick_the_highest_lower_bound_at_or_below_the_priority(log: list[Any]) -> None:
    with airlock.scope(executor="sync", priority_routes={8: "inline", 0: "queue"}, priority_default=-1):
        for n in (8, 7.5, 0, -3, 100):
            airlock.enqueue(task, n, _dispatch_options=p(n))
        airlock.enqueue(task, "none")  # priority_default -1: below every band, the scope's executor
    assert [(label, n) for label, n, _ in log] == [("inline", 8), ("queue", 7.5), ("queue", 0), ("inline", 100)]


def test_ordering_is_stable_highest_first(log: list[Any]) -> None:
    with airlock.scope(executor="queue", priority_order=True):
        for name, n in [("a", 1), ("b", 5), ("c", 1), ("d", 9), ("e", 5)]:
            airlock.enqueue(task, name, _dispatch_options=p(n))
        airlock.enqueue(task, "f")  # priority_default 0
    assert [name for _, name, _ in log] == ["d", "b", "e", "a", "c", "f"]


def test_an_explicit_executor_option_wins_over_the_routes(log: list[Any]) -> None:
    with airlock.scope(executor="sync", priority_routes={0: "inline"}):
        airlock.enqueue(task, "pinned", _dispatch_options={"priority": 5, "executor": "queue"})
    assert log == [("queue", "pinned", {"priority": 5})]


def test_a_priority_that_is_not_a_number_uses_the_default_with_a_warning(
    log: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Capture at WARNING whatever level earlier tests (e.g. a Celery worker) left on the root logger.
    caplog.set_level(logging.WARNING, logger="airlock.priority")
    with airlock.scope(executor="queue", priority_routes={8: "inline"}, priority_default=9):
        airlock.enqueue(task, "odd", _dispatch_options=p("high"))
    assert log == [("inline", "odd", {"priority": "high"})]
    assert "not a number" in caplog.text


def test_the_original_docs_priority_executor_still_reads_the_priority(log: list[Any]) -> None:
    ran: list[str] = []

    def priority_executor(intent: airlock.Intent) -> None:
        """airlock-py's documentation example: urgent inline, the rest queued."""
        priority = intent.dispatch_options.get("priority", 5)
        if priority >= 8:
            intent.task(*intent.args, **intent.kwargs)
        else:
            airlock.resolve_executor("queue")(intent)

    airlock.configure(priority_order=True)  # the plugin enabled: `priority` must still reach the executor
    with airlock.scope(executor=priority_executor):
        airlock.enqueue(ran.append, "later", _dispatch_options={"priority": 1})
        airlock.enqueue(ran.append, "now", _dispatch_options={"priority": 10})
    assert ran == ["now"]
    assert log == [("queue", "later", {"priority": 1})]


def test_routes_to_a_real_threads_executor() -> None:
    ran_on: dict[str, str] = {}

    def record(label: str) -> None:
        ran_on[label] = threading.current_thread().name

    pool = ThreadsExecutor(max_workers=2)
    airlock.register_executor("background", pool)
    try:
        with airlock.scope(priority_routes={0: "background"}) as scope:  # scope executor: sync
            airlock.enqueue(record, "background", _dispatch_options=p(3))
            airlock.enqueue(record, "inline", _dispatch_options=p(-1))
        pool.shutdown(wait=True)
    finally:
        airlock.unregister_executor("background")
        pool.shutdown()
    assert ran_on["inline"] == threading.current_thread().name  # the scope's sync executor, here
    assert ran_on["background"] != threading.current_thread().name  # the pool's worker thread
    assert len(scope.report.dispatched) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"priority_routes": {8: "celeri"}}, r"'priority_routes'.*band 8: Unknown airlock executor 'celeri'"),
        ({"priority_routes": {"high": "sync"}}, r"'priority_routes'.*band 'high': a band starts at a number"),
        ({"priority_routes": {}}, r"'priority_routes'.*non-empty mapping"),
        ({"priority_routes": ["sync"]}, r"'priority_routes'.*non-empty mapping"),
        ({"priority_order": 1}, r"'priority_order'.*True or False"),
        ({"priority_default": "5"}, r"'priority_default'.*expected a number"),
        ({"priority_default": float("nan")}, r"'priority_default'.*expected a number"),
        ({"priority_routes": {float("nan"): "sync"}}, r"'priority_routes'.*band nan: a band starts at a number"),
    ],
)
def test_bad_values_fail_when_configured_not_at_flush(options: dict[str, Any], message: str) -> None:
    with pytest.raises(airlock.UsageError, match=message):
        airlock.configure(**options)
    with pytest.raises(airlock.UsageError, match=message):
        airlock.scope(**options)


def test_options_are_scope_or_global_only_and_typos_get_a_suggestion() -> None:
    with pytest.raises(airlock.UnknownOptionError, match="Did you mean 'priority_order'"):
        airlock.scope(priority_ordre=True)
    with pytest.raises(airlock.UnknownOptionError, match="priority_routes"):
        airlock.scope(priority_routs={0: "sync"})


def test_plugins_command_lists_the_plugin_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from airlock.cli import main

    main(["plugins"])
    out = capsys.readouterr().out
    assert "airlock-priority" in out
    for line in ("option priority_routes = None", "option priority_order = False", "option priority_default = 0"):
        assert line in out


def _run_without_enabling(log: list[Any]) -> tuple[list[Any], str]:
    log.clear()
    with airlock.scope(executor="queue") as scope:
        airlock.enqueue(task, "low", _dispatch_options=p(1))
        airlock.enqueue(task, "high", _dispatch_options=p(9))
        airlock.enqueue(task, "odd", _dispatch_options=p("urgent"))
    return list(log), scope.report.summary()


def test_installed_but_not_enabled_changes_nothing(log: list[Any], request: pytest.FixtureRequest) -> None:
    installed = _run_without_enabling(log)
    request.getfixturevalue("without_plugin")
    assert "priority" not in {info.name for info in airlock.plugins.plugin_infos()}
    assert _run_without_enabling(log) == installed
    assert [name for _, name, _ in installed[0]] == ["low", "high", "odd"]


def test_prioritize_reports_each_routed_copy() -> None:
    intents = [airlock.Intent(task, (n,), dispatch_options=p(n)) for n in (1, 9)]
    routed: list[tuple[Any, Any]] = []
    result = prioritize(intents, routes=Routes({5: "sync"}), order=True, on_route=lambda a, b: routed.append((a, b)))
    assert result[1] is intents[0]
    assert routed == [(intents[1], result[0])]
    assert result[0].dispatch_options == {"priority": 9, "executor": "sync"}
