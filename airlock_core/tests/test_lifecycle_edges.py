"""Edge cases of the scope lifecycle and the flush report found in review.

Each test pins a behaviour that once lost an intent or misreported one.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import airlock
from airlock import Intent, Scope
from airlock.executors.threads import ThreadsExecutor


def noop(*args: Any) -> None:
    pass


def test_a_subclass_keeps_its_own_exit_when_it_also_customises_flush() -> None:
    calls: list[str] = []

    class Custom(Scope):
        def flush(self) -> list[Intent]:
            calls.append("flush")
            return super().flush()

        def __exit__(self, *exc: Any) -> None:
            calls.append("own __exit__")
            super().__exit__(*exc)

    with Custom():
        airlock.enqueue(noop, 1)
    assert calls == ["own __exit__", "flush"]


def test_an_entered_scope_cannot_be_flushed_while_a_nested_scope_is_current() -> None:
    outer = airlock.Scope().enter()
    inner = airlock.Scope().enter()
    with pytest.raises(airlock.ScopeStateError, match="still active"):
        outer.flush()
    inner.exit()
    outer.exit()


def test_a_finished_ancestor_captures_nothing_more() -> None:
    contextvars.copy_context().run(_finished_ancestor)  # out-of-order exits leave the context changed


def _finished_ancestor() -> None:
    ran: list[int] = []
    outer = airlock.Scope().enter()
    inner = airlock.Scope().enter()
    airlock.enqueue(ran.append, 1)
    outer.exit()  # out of order, by hand: outer ends while inner is still open
    outer.flush()
    inner.exit()
    inner.flush()  # nothing may vanish into the finished outer scope
    assert ran == [1]
    assert outer.intents == []


def test_re_registering_the_configured_executor_name_takes_effect(airlock_config: None) -> None:
    seen: list[str] = []
    airlock.register_executor("mine", lambda intent: seen.append("first"))
    try:
        airlock.configure(executor="mine")
        with airlock.scope():
            airlock.enqueue(noop)
        airlock.register_executor("mine", lambda intent: seen.append("second"))
        with airlock.scope():
            airlock.enqueue(noop)
        assert seen == ["first", "second"]
        airlock.unregister_executor("mine")
        with pytest.raises(airlock.UnknownExecutorError):
            airlock.Scope()
    finally:
        airlock.unregister_executor("mine")


def test_the_report_is_not_readable_before_the_plain_flush_finishes() -> None:
    seen: dict[str, Any] = {}
    scope = airlock.Scope()

    def peek() -> None:
        report = scope.report
        seen["complete"] = None if report is None else report.complete

    def fail() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError), scope:
        airlock.enqueue(peek)
        airlock.enqueue(fail)
        airlock.enqueue(noop)
    # None on the inlined sync path, else the report still being written: never a finished one
    assert seen["complete"] in (None, False)
    assert scope.report is not None
    assert scope.report.summary() == "flushed: 1 dispatched, 1 failed, 1 not_attempted"


def test_the_lazy_report_is_a_copy_of_the_buffer() -> None:
    with airlock.scope() as scope:
        airlock.enqueue(noop, 1)
    report = scope.report
    assert report is not None
    report.dispatched.clear()
    assert [i.args for i in scope.intents] == [(1,)]


def test_a_late_failure_of_a_routed_intent_keeps_the_buffer_and_follows_the_original() -> None:
    pool = ThreadsExecutor(max_workers=1)
    airlock.register_executor("pool-edge", pool)

    def fail() -> None:
        raise ValueError("late")

    try:
        with airlock.scope() as scope:
            airlock.enqueue(fail, _dispatch_options={"executor": "pool-edge"})
            airlock.enqueue(noop, 2)
        pool.shutdown(wait=True)
        report = scope.report
        assert report is not None
        deadline = time.monotonic() + 10
        while not report.complete and time.monotonic() < deadline:
            time.sleep(0.01)
        original = scope.intents[0]
        assert len(scope.intents) == 2
        fate = report.fate_of(original)
        assert fate is not None and fate.status == "failed" and isinstance(fate.detail, ValueError)
    finally:
        airlock.unregister_executor("pool-edge")


class ChunkedFake:
    """A batching executor (unit-test fake) that writes chunks of two; the first write fails."""

    def __init__(self) -> None:
        self.pending: list[Intent] = []
        self.sent: list[tuple[Any, ...]] = []
        self.fail_next = True

    def __call__(self, intent: Intent) -> None:
        self.pending.append(intent)
        if len(self.pending) >= 2:
            self.deliver(current=intent)

    def deliver(self, current: Intent | None = None) -> None:
        chunk, self.pending = self.pending, []
        if chunk and self.fail_next:
            self.fail_next = False
            error = ConnectionError("write failed")
            error.airlock_undelivered = [i for i in chunk if i is not current]  # type: ignore[attr-defined]
            raise error
        self.sent += [i.args for i in chunk]

    @contextmanager
    def flush_context(self, report: airlock.FlushReport) -> Iterator[None]:
        try:
            yield
        finally:
            self.pending.clear()


def test_undelivered_copies_with_stripped_options_are_reported_as_failed() -> None:
    fake = ChunkedFake()
    airlock.register_executor("chunked-edge", fake)
    try:
        with pytest.raises(ConnectionError), airlock.scope(executor=fake) as scope:
            for n in range(3):
                airlock.enqueue(noop, n, _dispatch_options={"executor": "chunked-edge"})
        report = scope.report
        assert report is not None
        assert report.dispatched == []
        assert sorted(i.args for i, _ in report.failed) == [(0,), (1,)]
        assert [i.args for i in report.not_attempted] == [(2,)]
    finally:
        airlock.unregister_executor("chunked-edge")


def test_a_dispatch_all_patched_in_after_the_class_was_made_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain sync path must not bypass a test's mock of ``_dispatch_all``."""
    seen: list[list[Any]] = []
    ran: list[int] = []

    def recording(self: Scope, intents: list[Intent]) -> None:
        seen.append([i.args for i in intents])

    class Sub(Scope):
        pass

    for cls in (Scope, Sub):
        with monkeypatch.context() as patch:
            patch.setattr(cls, "_dispatch_all", recording)
            with cls():
                airlock.enqueue(ran.append, 1)
    assert seen == [[(1,)], [(1,)]]
    assert ran == []  # the mock decided: nothing ran


@pytest.mark.parametrize("fail_fast", [True, False])
def test_a_failing_task_that_read_the_buffer_is_reported_with_its_own_error(fail_fast: bool) -> None:
    """Reading ``scope.intents`` builds Intents in place of the buffered tuples
    while the plain sync flush runs; the failure must still be found by position."""
    ran: list[object] = []
    scope = airlock.scope(fail_fast=fail_fast)

    def look_then_fail() -> None:
        ran.append(len(scope.intents))
        raise ValueError("boom")

    with pytest.raises(ValueError if fail_fast else airlock.FlushFailed) as caught:
        with scope:
            airlock.enqueue(noop, "first")
            airlock.enqueue(look_then_fail)
            airlock.enqueue(ran.append, "last")
    report = caught.value.airlock_report  # type: ignore[attr-defined]
    assert report is scope.report and report.complete
    assert [i.args for i in report.dispatched] == ([("first",)] if fail_fast else [("first",), ("last",)])
    assert [(i.name, type(e)) for i, e in report.failed] == [("look_then_fail", ValueError)]
    assert [i.args for i in report.not_attempted] == ([("last",)] if fail_fast else [])
    assert ran == ([3] if fail_fast else [3, "last"])


class _RaisingPolicy(airlock.AllowAll):
    def allows(self, intent: Intent) -> bool:
        raise LookupError("policy bug")


class _RaisingBeforeFlush:
    @airlock.hookimpl
    def airlock_before_flush(self, intents: list[Intent]) -> None:
        raise LookupError("hook bug")


class _RaisingParent(Scope):
    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        raise LookupError("parent bug")


@contextmanager
def _flush_raising(where: str) -> Iterator[Scope]:
    """A scope holding intents 1 and 2 whose flush raises in ``where``."""
    if where == "policy":
        with airlock.scope(_RaisingPolicy()) as scope:
            yield scope
    elif where == "airlock_before_flush":
        with airlock.plugins.registered(_RaisingBeforeFlush()), airlock.scope() as scope:
            yield scope
    else:
        with airlock.scope(_cls=_RaisingParent), airlock.scope() as scope:
            yield scope


@pytest.mark.parametrize("where", ["policy", "airlock_before_flush", "before_descendant_flushes"])
def test_a_flush_that_raises_before_dispatch_reports_every_intent(where: str) -> None:
    """Nothing is lost silently: the intents are not attempted, the report rides
    on the error and is complete, and airlock_after_flush saw it."""
    seen: list[airlock.FlushReport] = []

    class AfterFlush:
        @airlock.hookimpl
        def airlock_after_flush(self, scope: Scope, report: airlock.FlushReport) -> None:
            seen.append(report)

    with airlock.plugins.registered(AfterFlush()):
        with pytest.raises(LookupError) as caught:
            with _flush_raising(where) as scope:
                airlock.enqueue(noop, 1)
                airlock.enqueue(noop, 2)
    report = caught.value.airlock_report  # type: ignore[attr-defined]
    assert report is scope.report and report.complete and seen[0] is report
    assert [i.args for i in report.not_attempted] == [(1,), (2,)]
    assert report.summary() == "flushed: 2 not_attempted"


def test_the_note_of_a_flush_that_raised_before_dispatch_counts_its_intents() -> None:
    with pytest.raises(LookupError) as caught:
        with airlock.scope(_RaisingPolicy()):
            airlock.enqueue(noop, 1)
    assert "airlock flush report: flushed: 1 not_attempted" in getattr(caught.value, "__notes__", [])


def test_exit_in_another_context_says_so_and_leaves_the_scope_usable() -> None:
    """Entered in one asyncio task, exited in another (an async fixture's setup
    and teardown): a ScopeStateError that says why, and flush() still works."""
    import asyncio

    sent: list[str] = []
    scope = airlock.Scope()

    async def setup() -> None:
        scope.enter()
        airlock.enqueue(sent.append, "kept")

    async def teardown() -> None:
        with pytest.raises(airlock.ScopeStateError, match="exited in another context"):
            scope.exit()
        assert not scope.is_active
        scope.flush()

    async def main() -> None:
        await asyncio.ensure_future(setup())
        await asyncio.ensure_future(teardown())

    asyncio.run(main())
    assert sent == ["kept"] and scope.is_flushed


def test_the_with_block_asks_should_flush_and_flush_even_when_patched() -> None:
    """As airlock-py did: a test that patches them (on the class or on the
    instance) sees the with block go through them."""
    from unittest import mock

    sent: list[str] = []
    with mock.patch.object(airlock.Scope, "should_flush", return_value=False), airlock.scope() as scope:
        airlock.enqueue(sent.append, "held back")
    assert sent == [] and scope.is_discarded

    with mock.patch.object(airlock.Scope, "flush", autospec=True) as flush, airlock.scope() as scope:
        airlock.enqueue(sent.append, "not flushed")
    flush.assert_called_once_with(scope)
    assert sent == []

    with airlock.scope() as scope:
        scope.should_flush = lambda error: False  # type: ignore[method-assign]
        airlock.enqueue(sent.append, "instance says no")
    assert sent == [] and scope.is_discarded


def test_a_local_policy_exited_in_another_context_says_so_and_can_be_entered_again() -> None:
    import asyncio

    local = airlock.policy(airlock.DropAll())

    async def setup() -> None:
        local.__enter__()

    async def teardown() -> None:
        with pytest.raises(airlock.ScopeStateError, match="exited in another context"):
            local.__exit__(None, None, None)

    async def main() -> None:
        await asyncio.ensure_future(setup())
        await asyncio.ensure_future(teardown())

    asyncio.run(main())
    sent: list[int] = []
    with airlock.scope(executor=lambda intent: sent.append(intent.args[0])):
        with local:  # inactive again: usable, and it applies
            airlock.enqueue(print, 1)
        airlock.enqueue(print, 2)
    assert sent == [2]


def test_an_intent_whose_policy_runs_while_the_scope_ends_in_another_thread_is_refused_not_lost() -> None:
    """A thread sharing the scope's context (``asyncio.to_thread``) enqueues as the scope exits."""
    import contextvars
    import threading

    judging, ended = threading.Event(), threading.Event()

    class SlowJudge(airlock.AllowAll):
        def on_enqueue(self, intent: airlock.Intent) -> None:
            judging.set()
            ended.wait(5)  # the scope ends while this intent is being judged

    outcome: list[object] = []

    def late_enqueue() -> None:
        try:
            airlock.enqueue(print, "late")
            outcome.append("accepted")
        except airlock.ScopeStateError as error:
            outcome.append(error)

    with airlock.scope(SlowJudge(), executor=lambda intent: None) as scope:
        worker = threading.Thread(target=contextvars.copy_context().run, args=(late_enqueue,))
        worker.start()
        assert judging.wait(5)
    ended.set()
    worker.join(5)
    [error] = outcome
    assert isinstance(error, airlock.ScopeStateError) and "was flushed while" in str(error)
    assert scope.intents == []
