"""The flush report and failure semantics: nothing is lost silently."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import airlock
from airlock import FlushReport, Intent


def step(label: str) -> None:
    """A task that fails when its label starts with "bad"."""
    if label.startswith("bad"):
        raise ValueError(f"{label} failed")


def labels(intents: list[Intent]) -> list[str]:
    return [i.args[0] for i in intents]


class AfterFlush:
    """A hook plugin keeping every report it sees."""

    def __init__(self) -> None:
        self.reports: list[tuple[airlock.Scope, FlushReport]] = []

    @airlock.hookimpl
    def airlock_after_flush(self, scope: airlock.Scope, report: FlushReport) -> None:
        self.reports.append((scope, report))


@pytest.fixture
def after_flush(airlock_plugin) -> AfterFlush:  # type: ignore[no-untyped-def]
    plugin = AfterFlush()
    airlock_plugin(plugin)
    return plugin


class TestFailFast:
    def test_same_exception_propagates_carrying_the_report(self) -> None:
        with pytest.raises(ValueError, match="bad-2 failed") as info, airlock.scope() as s:
            for label in ("ok-1", "bad-2", "ok-3", "ok-4"):
                airlock.enqueue(step, label)
        error = info.value
        report = error.airlock_report  # type: ignore[attr-defined]
        assert report is s.report
        assert report.outcome == "flushed"
        assert labels(report.dispatched) == ["ok-1"]
        assert [(i.args[0], exc) for i, exc in report.failed] == [("bad-2", error)]
        assert labels(report.not_attempted) == ["ok-3", "ok-4"]
        assert not report.ok
        assert report.complete

    def test_later_intents_are_not_run(self, calls) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ValueError), airlock.scope():
            airlock.enqueue(step, "bad")
            airlock.enqueue(calls, "never")
        assert calls.calls == []

    def test_note_in_the_traceback(self) -> None:
        with pytest.raises(ValueError) as info, airlock.scope():
            airlock.enqueue(step, "ok")
            airlock.enqueue(step, "bad")
            airlock.enqueue(step, "later")
        notes = getattr(info.value, "__notes__", [])
        assert any("airlock flush report" in note and "1 dispatched" in note for note in notes), notes
        assert any("1 failed" in note and "1 not_attempted" in note for note in notes), notes

    def test_custom_executor_exception_type_is_kept(self) -> None:
        class BrokerDown(ConnectionError):
            pass

        def executor(intent: Intent) -> None:
            raise BrokerDown("no broker")

        with pytest.raises(BrokerDown) as info, airlock.scope(executor=executor):
            airlock.enqueue(step, "a")
        assert type(info.value) is BrokerDown
        assert labels(info.value.airlock_report.not_attempted) == []  # type: ignore[attr-defined]

    def test_after_flush_sees_the_same_report(self, after_flush) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ValueError) as info, airlock.scope() as s:
            airlock.enqueue(step, "bad")
        assert after_flush.reports == [(s, info.value.airlock_report)]  # type: ignore[attr-defined]


class TestDispatchTheRest:
    def test_fail_fast_false_raises_flush_failed_with_every_failure(self, calls) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(airlock.FlushFailed) as info, airlock.scope(fail_fast=False) as s:
            airlock.enqueue(step, "bad-1")
            airlock.enqueue(calls, "ok-2")
            airlock.enqueue(step, "bad-3")
            airlock.enqueue(calls, "ok-4")
        assert calls.args == [("ok-2",), ("ok-4",)]
        group = info.value
        assert [str(e) for e in group.exceptions] == ["bad-1 failed", "bad-3 failed"]
        report = group.airlock_report
        assert report is s.report
        assert labels(report.dispatched) == ["ok-2", "ok-4"]
        assert [(i.args[0], exc) for i, exc in report.failed] == list(
            zip(["bad-1", "bad-3"], group.exceptions, strict=True)
        )
        assert report.not_attempted == []

    def test_except_star_selects_by_type(self) -> None:
        """``except*`` on 3.11+; on 3.10, the exceptiongroup backport's ``catch()``, its stand-in."""

        def mixed(intent: Intent) -> None:
            raise (KeyError if intent.args[0] == "k" else ValueError)(intent.args[0])

        def flush() -> None:
            with airlock.scope(executor=mixed, fail_fast=False):
                airlock.enqueue(step, "k")
                airlock.enqueue(step, "v")

        caught: list[BaseException] = []
        if sys.version_info >= (3, 11):
            # Compiled at run time: the module must stay importable on Python 3.10.
            code = textwrap.dedent(
                """
                try:
                    flush()
                except* KeyError as group:
                    caught.extend(group.exceptions)
                except* ValueError as group:
                    caught.extend(group.exceptions)
                """
            )
            exec(code, {"flush": flush, "caught": caught})
        else:
            from exceptiongroup import catch

            def keep(group: BaseException) -> None:
                caught.extend(group.exceptions)  # type: ignore[attr-defined]

            with catch({KeyError: keep, ValueError: keep}):
                flush()
        assert [type(e) for e in caught] == [KeyError, ValueError]

    def test_split_keeps_the_report(self) -> None:
        with pytest.raises(airlock.FlushFailed) as info, airlock.scope(fail_fast=False):
            airlock.enqueue(step, "bad")
        matched, rest = info.value.split(ValueError)
        assert rest is None
        assert isinstance(matched, airlock.FlushFailed)
        assert matched.airlock_report is info.value.airlock_report

    def test_configured_globally(self) -> None:
        airlock.configure(fail_fast=False)
        with pytest.raises(airlock.FlushFailed), airlock.scope():
            airlock.enqueue(step, "bad")

    def test_no_failure_no_error(self, calls) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(fail_fast=False) as s:
            airlock.enqueue(calls, 1)
        assert s.report.ok

    def test_base_exceptions_still_stop_the_flush(self, calls) -> None:  # type: ignore[no-untyped-def]
        def interrupt() -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt) as info, airlock.scope(fail_fast=False):
            airlock.enqueue(interrupt)
            airlock.enqueue(calls, "after")
        assert calls.calls == []
        assert len(info.value.airlock_report.not_attempted) == 1  # type: ignore[attr-defined]


def test_failed_copies_of_one_intent_keep_their_flush_order(airlock_plugin) -> None:  # type: ignore[no-untyped-def]
    """Copies share the original's task, args and kwargs: each keeps its own place."""

    class Fanout:
        @airlock.hookimpl
        def airlock_before_flush(self, intents: list[Intent]) -> list[Intent]:
            a, b = intents
            return [a.replace(dispatch_options={"q": 1}), b, a.replace(dispatch_options={"q": 2})]

    def refuse(intent: Intent) -> None:
        raise ConnectionError(intent.dispatch_options)

    airlock_plugin(Fanout(), "fanout")
    with pytest.raises(airlock.FlushFailed) as info:
        with airlock.scope(executor=refuse, fail_fast=False):
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
    failed = info.value.airlock_report.failed
    assert [(i.args[0], i.dispatch_options) for i, _ in failed] == [("a", {"q": 1}), ("b", None), ("a", {"q": 2})]
    assert [e for _, e in failed] == list(info.value.exceptions)


class TestFates:
    def test_dropped_names_the_policy(self) -> None:
        local = airlock.BlockTasks({"step"})
        with airlock.scope(airlock.DropAll()) as s:
            with airlock.policy(local):
                airlock.enqueue(step, "by-local")
            airlock.enqueue(step, "by-scope")
        assert [(i.args[0], p) for i, p in s.report.dropped] == [("by-local", local), ("by-scope", s.policy)]
        fate = s.report.fate_of(s.report.dropped[0][0])
        assert fate is not None and (fate.status, fate.detail) == ("dropped", local)

    def test_discarded(self, after_flush) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(RuntimeError), airlock.scope() as s:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
            raise RuntimeError
        report = s.report
        assert report.outcome == "discarded"
        assert labels(report.discarded) == ["a", "b"]
        assert report.dispatched == []
        assert after_flush.reports == [(s, report)]
        assert report.summary() == "discarded: 2 discarded"

    def test_captured(self, after_flush) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(executor=lambda intent: None) as outer:
            with airlock.scope() as inner:
                airlock.enqueue(step, "a")
            assert [(i.args[0], by) for i, by in inner.report.captured] == [("a", outer)]
            assert inner.report.dispatched == []
        assert labels(outer.report.dispatched) == ["a"]
        assert [s for s, _ in after_flush.reports] == [inner, outer]

    def test_every_fate_in_one_report(self) -> None:
        with pytest.raises(ValueError), airlock.scope(airlock.BlockTasks({"blocked"})) as s:
            airlock.enqueue(step, "ok")
            airlock.enqueue(step, "dropped", _name="blocked")
            airlock.enqueue(step, "bad")
            airlock.enqueue(step, "never")
        statuses = [(f.status, f.intent.args[0]) for f in s.report.fates()]
        assert statuses == [("dispatched", "ok"), ("failed", "bad"), ("not_attempted", "never"), ("dropped", "dropped")]
        assert s.report.summary() == "flushed: 1 dispatched, 1 failed, 1 not_attempted, 1 dropped"
        assert "1 failed" in repr(s.report)

    def test_flush_return_value_matches_the_report(self) -> None:
        s = airlock.Scope(airlock.BlockTasks({"blocked"}), executor=lambda intent: None)
        s.enter()
        airlock.enqueue(step, "a")
        airlock.enqueue(step, "b", _name="blocked")
        s.exit()
        dispatched = s.flush()
        assert dispatched == s.report.dispatched
        assert all(d is r for d, r in zip(dispatched, s.report.dispatched, strict=True))

    def test_empty_scope_has_an_empty_complete_report(self, after_flush) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope() as s:
            pass
        assert s.report is not None
        assert s.report.complete and s.report.ok
        assert list(s.report.fates()) == []
        assert after_flush.reports == []  # not called for a flush with no intents

    def test_no_report_before_the_scope_ends(self) -> None:
        with airlock.scope() as s:
            airlock.enqueue(step, "a")
            assert s.report is None

    def test_record_attempt_and_merged(self) -> None:
        with airlock.scope(executor=lambda intent: None) as s:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
        a, b = s.report.dispatched
        assert s.report.attempts(a) == []
        first, second = OSError("1"), OSError("2")
        s.report.record_attempt(a, first)
        s.report.record_attempt(a, second)
        assert s.report.attempts(a) == [first, second]
        assert s.report.attempts(b) == []
        s.report.record_merged(b, a)
        assert s.report.fate_of(b) is not None
        assert [(f.status, f.detail) for f in s.report.fates() if f.status == "merged"] == [("merged", a)]


class TestMergedByPosition:
    """``record_merged_at``: merges recorded by position, paired up when first read."""

    @staticmethod
    def report_and_buffer(*names: str) -> tuple[FlushReport, list[Any]]:
        with airlock.scope(executor=lambda intent: None) as s:
            pass
        return FlushReport(s, "flushed"), [(step, (name,), {}, None, None) for name in names]

    def test_pairs_in_position_order_keeping_recording_order_with_record_merged(self) -> None:
        report, items = self.report_and_buffer("a", "b", "a", "b", "c")
        x, y = Intent(step, ("x",)), Intent(step, ("y",))
        report.record_merged(x, y)
        report.record_merged_at(items, [0, 1, 4], [0, 1, 0, 1, 4])
        assert [type(i) for i in items] == [tuple] * 5  # nothing built until read
        assert report.summary() == "flushed: 3 merged"
        assert [(i.args[0], into.args[0]) for i, into in report.merged] == [("x", "y"), ("a", "a"), ("b", "b")]
        assert report.merged[1] == (items[2], items[0]) and report.merged[1][1] is items[0]
        report.record_merged(y, x)
        assert report.merged[-1] == (y, x)

    def test_fate_of_a_merged_intent_names_the_one_it_was_merged_into(self) -> None:
        report, items = self.report_and_buffer("a", "a")
        report.record_merged_at(items, [0], [0, 0])
        report.record_merged_at(items, [0, 1], [0, 1])  # nothing merged: nothing recorded
        fate = report.fate_of(report.merged[0][0])
        assert fate is not None and fate.status == "merged" and fate.detail is items[0]
        assert len(report.merged) == 1

    def test_positions_must_cover_every_intent(self) -> None:
        report, items = self.report_and_buffer("a", "a")
        with pytest.raises(ValueError, match="1 positions for 2 intents"):
            report.record_merged_at(items, [0], [0])


class Batching:
    """A fake batching executor: accepts intents inside ``flush_context``, "publishes" them on exit.

    ``fail_on_exit`` makes the publish fail; ``undelivered`` says which
    accepted intents (by label) were not delivered (None: do not say).
    """

    def __init__(self, fail_on_exit: bool = False, undelivered: list[str] | None = None) -> None:
        self.fail_on_exit = fail_on_exit
        self.undelivered = undelivered
        self.events: list[Any] = []
        self.pending: list[Intent] = []
        self.published: list[str] = []

    def __call__(self, intent: Intent) -> None:
        self.events.append(("call", intent.args[0]))
        self.pending.append(intent)

    @contextmanager
    def flush_context(self, report: FlushReport) -> Iterator[None]:
        self.events.append(("enter", report))
        yield
        self.events.append(("exit", report))
        if self.fail_on_exit:
            error = ConnectionError("publish failed")
            if self.undelivered is not None:
                error.airlock_undelivered = [  # type: ignore[attr-defined]
                    i for i in self.pending if i.args[0] in self.undelivered
                ]
            raise error
        self.published.extend(i.args[0] for i in self.pending)
        self.pending.clear()


class TestBatchingExecutor:
    def test_context_wraps_the_whole_flush(self) -> None:
        executor = Batching()
        with airlock.scope(executor=executor) as s:
            for label in "abc":
                airlock.enqueue(step, label)
            assert executor.events == []
        assert executor.events == [
            ("enter", s.report),
            ("call", "a"),
            ("call", "b"),
            ("call", "c"),
            ("exit", s.report),
        ]
        assert executor.published == ["a", "b", "c"]
        assert labels(s.report.dispatched) == ["a", "b", "c"]

    def test_not_entered_for_an_empty_flush(self) -> None:
        executor = Batching()
        with airlock.scope(airlock.DropAll(), executor=executor):
            airlock.enqueue(step, "dropped")
        with airlock.scope(executor=executor):
            pass
        assert executor.events == []

    def test_undelivered_intents_move_to_failed(self) -> None:
        executor = Batching(fail_on_exit=True, undelivered=["b", "c"])
        with pytest.raises(ConnectionError) as info, airlock.scope(executor=executor) as s:
            for label in "abc":
                airlock.enqueue(step, label)
        report = info.value.airlock_report  # type: ignore[attr-defined]
        assert report is s.report
        assert labels(report.dispatched) == ["a"]
        assert [(i.args[0], exc) for i, exc in report.failed] == [("b", info.value), ("c", info.value)]

    def test_exit_failure_without_details_fails_every_intent(self) -> None:
        executor = Batching(fail_on_exit=True)
        with pytest.raises(ConnectionError) as info, airlock.scope(executor=executor) as s:
            for label in "ab":
                airlock.enqueue(step, label)
        report = s.report
        assert report.dispatched == []
        assert [(i.args[0], exc) for i, exc in report.failed] == [("a", info.value), ("b", info.value)]

    def test_a_context_failing_on_entry_attempted_nothing(self) -> None:
        class Unreachable(Batching):
            @contextmanager
            def flush_context(self, report: FlushReport) -> Iterator[None]:
                raise ConnectionError("cannot reach the broker")
                yield  # a generator, as flush contexts are

        with pytest.raises(ConnectionError) as info, airlock.scope(executor=Unreachable()) as s:
            for label in "ab":
                airlock.enqueue(step, label)
        report = info.value.airlock_report  # type: ignore[attr-defined]
        assert report is s.report and report.complete and not report.ok
        assert labels(report.not_attempted) == ["a", "b"]
        assert report.summary() == "flushed: 2 not_attempted"

    def test_a_routed_executor_whose_context_fails_is_never_called_outside_it(self, executor_named) -> None:  # type: ignore[no-untyped-def]
        class Unreachable(Batching):
            @contextmanager
            def flush_context(self, report: FlushReport) -> Iterator[None]:
                raise ConnectionError("cannot reach the broker")
                yield  # a generator, as flush contexts are

        unreachable = Unreachable()
        executor_named("unreachable", unreachable)
        with pytest.raises(airlock.FlushFailed), airlock.scope(fail_fast=False) as s:
            for label in "ab":
                airlock.enqueue(step, label, _dispatch_options={"executor": "unreachable"})
        assert unreachable.events == []  # neither intent reached it without its context
        assert sorted(labels([i for i, _ in s.report.failed])) == ["a", "b"]

    def test_failing_call_can_name_earlier_undelivered_intents(self) -> None:
        class Pipeline(Batching):
            def __call__(self, intent: Intent) -> None:
                super().__call__(intent)
                if intent.args[0] == "c":
                    error = ConnectionError("pipeline broke")
                    error.airlock_undelivered = [self.pending[1]]  # type: ignore[attr-defined]
                    raise error

        with pytest.raises(ConnectionError) as info, airlock.scope(executor=Pipeline()) as s:
            for label in "abcd":
                airlock.enqueue(step, label)
        report = s.report
        assert labels(report.dispatched) == ["a"]
        assert sorted((i.args[0], e is info.value) for i, e in report.failed) == [("b", True), ("c", True)]
        assert labels(report.not_attempted) == ["d"]

    def test_executor_option_routes_outside_the_batch(self, executor_named) -> None:  # type: ignore[no-untyped-def]
        other: list[str] = []
        executor_named("other", lambda intent: other.append(intent.args[0]))
        batching = Batching()
        with airlock.scope(executor=batching):
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b", _dispatch_options={"executor": "other"})
        assert batching.published == ["a"]
        assert other == ["b"]


def test_flush_failed_names_the_failed_intents_as_calls() -> None:
    """A log line of the error alone (Django logs a robust on_commit failure
    that way) says what to replay: the first five, and how many more."""

    def charge(order_id: int, *, amount: int) -> None:
        raise ConnectionError("payment gateway down")

    with pytest.raises(airlock.FlushFailed) as caught, airlock.scope(fail_fast=False):
        airlock.enqueue(step, "fine")
        for order in range(7):
            airlock.enqueue(charge, order, amount=10)
    message = str(caught.value)
    assert message.startswith("7 of 8 intents failed to dispatch: charge(0, amount=10), charge(1, amount=10)")
    assert "charge(4, amount=10), and 2 more" in message and "charge(5" not in message


def test_flush_failed_survives_an_argument_whose_repr_raises() -> None:
    class Order:
        def __repr__(self) -> str:
            raise LookupError("Order.customer: related object does not exist")

    def charge(order: Order) -> None:
        raise ConnectionError("payment gateway down")

    with pytest.raises(airlock.FlushFailed, match=r"1 of 1 intents failed to dispatch: charge"):
        with airlock.scope(fail_fast=False):
            airlock.enqueue(charge, Order())
