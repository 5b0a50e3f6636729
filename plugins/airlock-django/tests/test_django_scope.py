"""DjangoScope used directly: deferral to commit, rollbacks, savepoints, databases, failures."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
from functools import partial

import pytest
from airlock_django import DjangoScope
from airlock_django_testproject.models import Thing
from airlock_django_testproject.tasks import DispatchBroke, broken, note, record_visible
from django.db import transaction
from django.test import TestCase

import airlock

pytestmark = pytest.mark.usefixtures("real_commits")


class AfterFlush:
    """An inline hook plugin collecting the reports airlock_after_flush receives."""

    def __init__(self) -> None:
        self.reports: list[airlock.FlushReport] = []

    @airlock.hookimpl
    def airlock_after_flush(self, scope, report):
        self.reports.append(report)


def names(intents) -> list[str]:
    return [intent.args[-1] for intent in intents]


def test_scope_ending_inside_a_transaction_waits_for_its_commit(alias, probe):
    with transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name="a")
        with airlock.scope() as scope:
            airlock.enqueue(record_visible, alias, "a")
        assert probe == []  # flushed, but the transaction is still open
        assert not scope.report.complete

    assert probe == [("a", True)]
    assert scope.report.complete and names(scope.report.dispatched) == ["a"]


def test_rollback_after_the_flush_reports_every_intent_discarded(alias, probe, airlock_plugin):
    hook = AfterFlush()
    airlock_plugin(hook)
    with pytest.raises(ValueError), transaction.atomic(using=alias):
        with airlock.scope() as scope:
            airlock.enqueue(note, "a")
            airlock.enqueue(note, "b")
        raise ValueError("roll back")
    gc.collect()  # not needed on CPython; makes the test independent of the collector

    assert probe == []
    assert hook.reports == [scope.report]
    assert scope.report.complete and scope.report.outcome == "flushed"
    assert names(scope.report.discarded) == ["a", "b"] and scope.report.dispatched == []


def test_scope_ending_inside_a_savepoint_that_rolls_back(alias, probe):
    with transaction.atomic(using=alias):
        with airlock.scope() as kept:
            airlock.enqueue(note, "kept")
        try:
            with transaction.atomic(using=alias):
                with airlock.scope() as lost:
                    airlock.enqueue(note, "lost")
                raise ValueError("roll back the savepoint")
        except ValueError:
            pass
        assert lost.report.complete  # known at the savepoint's rollback, before the commit
        assert names(lost.report.discarded) == ["lost"]
        assert not kept.report.complete

    assert probe == [("kept", True)]
    assert names(kept.report.dispatched) == ["kept"]


class CopyingEveryIntent:
    """Replaces each intent by a copy, as a routing plugin does (record_replaced)."""

    @airlock.hookimpl
    def airlock_before_flush(self, scope, intents):
        report = scope.report
        copies = [intent.replace(origin="a plugin's copy") for intent in intents]
        for intent, copy in zip(intents, copies, strict=True):
            report.record_replaced(intent, copy)
        return copies


class MergingEqualArguments:
    """Keeps the first intent of each set of equal arguments, as a coalescing plugin does."""

    @airlock.hookimpl
    def airlock_before_flush(self, scope, intents):
        report = scope.report
        kept = {}
        for intent in intents:
            if intent.args in kept:
                report.record_merged(intent, kept[intent.args])
            else:
                kept[intent.args] = intent
        return list(kept.values())


def roll_back_a_savepoint(alias, *args):
    try:
        with transaction.atomic(using=alias):
            airlock.enqueue(note, *args)
            raise RuntimeError("roll the savepoint back")
    except RuntimeError:
        pass


@pytest.mark.parametrize("scope_ends", ["inside the transaction", "after it"])
def test_a_plugins_copy_of_a_rolled_back_intent_is_not_dispatched(alias, probe, airlock_plugin, scope_ends):
    airlock_plugin(CopyingEveryIntent())
    with contextlib.ExitStack() as stack:
        if scope_ends == "after it":
            scope = stack.enter_context(airlock.scope(using=alias))
        stack.enter_context(transaction.atomic(using=alias))
        if scope_ends == "inside the transaction":
            scope = stack.enter_context(airlock.scope(using=alias))
        airlock.enqueue(note, "kept")
        roll_back_a_savepoint(alias, "rolled back")
    assert probe == [("kept", True)]
    assert [(i.args, i.origin) for i in scope.report.discarded] == [(("rolled back",), "a plugin's copy")]


@pytest.mark.parametrize("rolled_back_first", [True, False])
def test_an_intent_others_were_merged_into_is_dispatched_if_one_of_them_committed(
    alias, probe, airlock_plugin, rolled_back_first
):
    airlock_plugin(MergingEqualArguments())
    with airlock.scope(using=alias) as scope:
        with transaction.atomic(using=alias):
            if rolled_back_first:
                roll_back_a_savepoint(alias, "same")
            airlock.enqueue(note, "same")
            if not rolled_back_first:
                roll_back_a_savepoint(alias, "same")
            roll_back_a_savepoint(alias, "only rolled back")
    assert probe == [("same", True)]
    assert names(scope.report.dispatched) == ["same"]
    assert names(scope.report.discarded) == ["only rolled back"]


def test_nested_scopes_keep_their_savepoint_state(alias, probe):
    with airlock.scope() as outer, transaction.atomic(using=alias):
        try:
            with transaction.atomic(using=alias):
                with airlock.scope():
                    airlock.enqueue(note, "inner-lost")
                raise ValueError("roll back the savepoint after the inner scope flushed")
        except ValueError:
            pass
        with airlock.Scope():  # a plain nested scope: tied to the savepoint state now
            airlock.enqueue(note, "plain-kept")

    assert probe == [("plain-kept", True)]
    assert names(outer.report.discarded) == ["inner-lost"]


def test_autocommit_dispatches_at_scope_exit(alias, probe):
    with airlock.scope() as scope:
        airlock.enqueue(note, "now")
        assert probe == []
    assert probe == [("now", True)]
    assert scope.report.complete


def test_overridden_schedule_dispatch_decides_the_timing_outside_a_transaction(alias, probe):
    """With no transaction open the base timing would dispatch inline at once; a
    subclass's schedule_dispatch still gets the dispatch callback instead."""
    held: list = []

    class Later(DjangoScope):
        def schedule_dispatch(self, callback):
            held.append(callback)

    with airlock.scope(_cls=Later, using=alias) as scope:
        airlock.enqueue(note, "later")
    assert probe == [] and len(held) == 1
    held[0]()
    assert probe == [("later", True)]
    assert names(scope.report.dispatched) == ["later"]


def test_an_overridden_connection_property_is_the_one_followed(probe):
    """A subclass choosing its connection itself: its transaction, not the
    ``using`` alias's, decides when dispatch runs and what a savepoint drops."""

    class OtherConnection(DjangoScope):
        @property
        def connection(self):
            return transaction.get_connection("other")

    with airlock.scope():  # this thread's "default" connection is now remembered
        airlock.enqueue(note, "warm-up")
    probe.clear()
    with transaction.atomic(using="other"):
        with airlock.scope(_cls=OtherConnection) as scope:
            airlock.enqueue(note, "kept")
            try:
                with transaction.atomic(using="other"):
                    airlock.enqueue(note, "rolled back")
                    raise RuntimeError("roll the savepoint back")
            except RuntimeError:
                pass
        assert probe == []  # "default" has no transaction open, but "other" has
    assert probe == [("kept", True)]
    assert names(scope.report.dispatched) == ["kept"] and names(scope.report.discarded) == ["rolled back"]


def test_as_a_decorator_each_call_follows_the_same_database_and_robustness():
    seen = []

    @DjangoScope(using="other", robust=False)
    def job():
        current = airlock.get_current_scope()
        seen.append((type(current), current.using, current.robust))

    job()
    job()
    assert seen == [(DjangoScope, "other", False)] * 2


def test_an_unknown_database_is_refused_where_the_scope_is_made():
    with pytest.raises(airlock.UsageError, match=r"using='replica'.*DATABASES has default, other"):
        DjangoScope(using="replica")


@pytest.mark.parametrize("other_commits", [True, False])
def test_captured_intents_of_a_transaction_still_open_elsewhere_wait_for_it(probe, other_commits):
    """The outer scope follows "default", where nothing waits; the intent it
    captured was enqueued in a transaction on "other", which is still open."""
    try:
        with transaction.atomic(using="other"):
            with airlock.scope(using="default") as outer:
                airlock.enqueue(note, "no transaction")
                with airlock.scope(using="other"):
                    airlock.enqueue(note, "on other")
            assert probe == [] and not outer.report.complete
            if not other_commits:
                raise RuntimeError("roll other back")
    except RuntimeError:
        gc.collect()  # the dropped callback's finalizer, on interpreters without reference counting
    if other_commits:
        assert probe == [("no transaction", True), ("on other", True)]
        assert names(outer.report.dispatched) == ["no transaction", "on other"]
    else:  # what needed no transaction still goes; what "other" rolled back does not
        assert probe == [("no transaction", True)]
        assert names(outer.report.dispatched) == ["no transaction"]
        assert names(outer.report.discarded) == ["on other"]
    assert outer.report.complete


def test_a_schedule_dispatch_that_does_not_wait_still_waits_for_the_intents_transaction(alias, probe):
    class Immediate(DjangoScope):
        def schedule_dispatch(self, callback):
            callback()

    with transaction.atomic(using=alias):
        with airlock.scope(_cls=Immediate, using=alias) as scope:
            airlock.enqueue(note, "committed")
        assert probe == []
    assert probe == [("committed", True)]
    assert names(scope.report.dispatched) == ["committed"] and scope.report.discarded == []


def test_a_schedule_dispatch_that_raises_reports_the_flush_once(alias, probe, airlock_plugin):
    class Failing(DjangoScope):
        def schedule_dispatch(self, callback):
            raise LookupError("scheduler down")

    hook = AfterFlush()
    airlock_plugin(hook)
    with transaction.atomic(using=alias):
        with pytest.raises(LookupError) as caught:
            with airlock.scope(_cls=Failing, using=alias) as scope:
                airlock.enqueue(note, "a")
        assert caught.value.airlock_report is scope.report
        del caught  # its traceback holds the flush's frames: let them go
        gc.collect()
    assert [report.summary() for report in hook.reports] == ["flushed: 1 not_attempted"]
    assert probe == []


def test_using_follows_only_its_own_database(probe):
    with transaction.atomic(using="other"):
        with airlock.scope(using="default"):
            airlock.enqueue(note, "default-scope")
        with airlock.scope(using="other"):
            airlock.enqueue(note, "other-scope")
        assert probe == [("default-scope", True)]  # "default" has no transaction open
    assert probe == [("default-scope", True), ("other-scope", True)]


def test_failures_are_collected_and_the_rest_dispatched(alias, probe, caplog):
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"), transaction.atomic(using=alias):
        with airlock.scope() as scope:
            airlock.enqueue(broken, "x")
            airlock.enqueue(note, "y")
            airlock.enqueue(broken, "z")

    assert probe == [("y", True)]
    assert [type(exc) for _, exc in scope.report.failed] == [DispatchBroke, DispatchBroke]
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], airlock.FlushFailed)]
    assert len(logged) == 1  # Django's robust on_commit logged the FlushFailed


def test_fail_fast_can_be_asked_for(alias, probe):
    with pytest.raises(DispatchBroke), transaction.atomic(using=alias):
        with airlock.scope(fail_fast=True, robust=False) as scope:
            airlock.enqueue(broken, "x")
            airlock.enqueue(note, "y")

    assert probe == []
    assert names(scope.report.not_attempted) == ["y"]


def test_robust_by_default_and_a_bool():
    assert DjangoScope().robust is True
    assert DjangoScope(robust=False).robust is False
    with pytest.raises(TypeError, match=r"DjangoScope\(robust=\.\.\.\) must be True, False or None, got 1"):
        DjangoScope(robust=1)


def test_a_schedule_dispatch_patched_in_later_still_decides(alias, probe, monkeypatch):
    """Tests patch methods on the class after it was made; the flush asks each time."""
    held: list = []
    monkeypatch.setattr(DjangoScope, "schedule_dispatch", lambda self, callback: held.append(callback))
    with airlock.scope(_cls=DjangoScope, using=alias):
        airlock.enqueue(note, "later")
    assert probe == [] and len(held) == 1
    held[0]()
    assert probe == [("later", True)]


def test_policy_drops_are_reported_with_the_rest(alias, probe):
    with transaction.atomic(using=alias), airlock.scope(policy=airlock.BlockTasks({"note"})) as scope:
        airlock.enqueue(note, "blocked")
        airlock.enqueue(record_visible, alias, "missing")

    assert probe == [("missing", False)]
    assert names(i for i, _ in scope.report.dropped) == ["blocked"]


def test_enqueues_outside_and_inside_atomic_blocks_in_one_scope(alias, probe):
    """Outside atomic blocks enqueue takes the core's fast path; inside, each intent follows its transaction."""
    with airlock.scope() as scope:
        airlock.enqueue(note, "outside-before")
        try:
            with transaction.atomic(using=alias):
                airlock.enqueue(note, "rolled-back")
                raise ValueError("roll back")
        except ValueError:
            pass
        with transaction.atomic(using=alias):
            airlock.enqueue(note, "committed")
        airlock.enqueue(note, "outside-after")

    assert probe == [("outside-before", True), ("committed", True), ("outside-after", True)]
    assert names(scope.report.dispatched) == ["outside-before", "committed", "outside-after"]
    assert names(scope.report.discarded) == ["rolled-back"]


class Hung(BaseException):
    """Raised by :func:`deadline`: not an Exception, so no robust ``on_commit`` runner logs it away."""


@contextlib.contextmanager
def deadline(seconds: int):
    """Raise :class:`Hung` in the block once ``seconds`` have passed, rather than loop forever."""

    def expired(signum, frame):
        raise Hung(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)  # POSIX, as the machines this suite runs on
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def captured_then_run_by_hand(using):
    """``captureOnCommitCallbacks()`` without ``execute``; the test calls what it captured afterwards."""
    with TestCase.captureOnCommitCallbacks(using=using) as callbacks:
        yield callbacks
    for callback in list(callbacks):
        callback()


@contextlib.contextmanager
def popped_one_by_one(using):
    """A helper of one's own: takes each callback registered in the block out of
    the connection's list, then calls it, until none is left."""
    connection = transaction.get_connection(using)
    start = len(connection.run_on_commit)
    ran: list = []
    yield ran
    while len(connection.run_on_commit) > start:
        ran.append(connection.run_on_commit.pop(start)[1])
        ran[-1]()


#: Ways a test runs the on_commit callbacks registered in a block while the transaction stays open.
CALLBACK_RUNNERS = {
    "captureOnCommitCallbacks(execute=True)": partial(TestCase.captureOnCommitCallbacks, execute=True),
    "captured, then run by hand": captured_then_run_by_hand,
    "popped one by one": popped_one_by_one,
}


class RollBack(Exception):
    pass


@pytest.mark.parametrize("runner", list(CALLBACK_RUNNERS))
def test_commit_callbacks_run_inside_the_transaction_dispatch_as_a_commit_would(alias, probe, runner):
    """As in Django's TestCase: the transaction never commits, and the callbacks
    registered in the block are run as if it had. The witness of the intent
    enqueued before the block is not among them; the flush dispatches anyway,
    as at a commit, instead of waiting for that witness again and again."""
    with deadline(5), pytest.raises(RollBack), transaction.atomic(using=alias):
        with contextlib.ExitStack() as open_scope:
            scope = open_scope.enter_context(airlock.scope())
            airlock.enqueue(note, "before the block")
            roll_back_a_savepoint(alias, "rolled back")
            with CALLBACK_RUNNERS[runner](using=alias) as callbacks:
                open_scope.close()  # the scope flushes inside the block
                assert probe == []
        assert probe == [("before the block", True)]
        assert scope.report.complete
        assert names(scope.report.dispatched) == ["before the block"]
        assert names(scope.report.discarded) == ["rolled back"]
        # The dispatch callback; a runner that takes it out of the list first
        # hides where it runs from, so it waits once more, and only once.
        assert len(callbacks) == (2 if runner == "popped one by one" else 1)
        raise RollBack("the transaction never commits, as in a TestCase")
