"""What keeps a DjangoScope cheap stays exact: shared witnesses, inline dispatch, connections."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading

import pytest
from airlock_django import DjangoScope
from airlock_django._connections import thread_connection
from airlock_django_testproject.tasks import DispatchBroke, broken, note
from django.db import connections, transaction

import airlock

pytestmark = pytest.mark.usefixtures("real_commits")


def witnesses_registered(alias: str) -> int:
    """How many airlock witnesses wait on this thread's connection for ``alias``."""
    from airlock_django._fates import Witness

    return sum(isinstance(func, Witness) for _, func, _ in transaction.get_connection(alias).run_on_commit)


def test_a_loop_inside_one_atomic_block_registers_one_witness(alias, probe):
    with airlock.scope() as scope, transaction.atomic(using=alias):
        for i in range(5):
            airlock.enqueue(note, f"n{i}")
        assert witnesses_registered(alias) == 1
        with transaction.atomic(using=alias):
            airlock.enqueue(note, "inner")
            assert witnesses_registered(alias) == 2  # a new savepoint: a witness of its own
        airlock.enqueue(note, "after")
        assert witnesses_registered(alias) == 3  # the inner block's witness came after the first

    assert [name for name, _ in probe] == ["n0", "n1", "n2", "n3", "n4", "inner", "after"]
    assert scope.report.complete


def test_a_shared_witness_drops_every_intent_of_its_savepoint(alias, probe):
    with airlock.scope() as scope, transaction.atomic(using=alias):
        airlock.enqueue(note, "kept")
        with pytest.raises(ValueError), transaction.atomic(using=alias):
            airlock.enqueue(note, "lost-1")
            airlock.enqueue(note, "lost-2")
            raise ValueError("roll the savepoint back")
        airlock.enqueue(note, "kept-too")

    assert [name for name, _ in probe] == ["kept", "kept-too"]
    assert [i.args[-1] for i in scope.report.discarded] == ["lost-1", "lost-2"]


def test_intents_after_a_committed_block_take_the_inline_path(alias, probe):
    with airlock.scope() as scope:
        with transaction.atomic(using=alias):
            airlock.enqueue(note, "inside")
        airlock.enqueue(note, "outside")

    assert [name for name, _ in probe] == ["inside", "outside"]
    assert [i.args[-1] for i in scope.report.dispatched] == ["inside", "outside"]
    assert scope.report.complete


def test_rolled_back_block_then_flush_outside_reports_it_discarded(alias, probe):
    with airlock.scope() as scope:
        with pytest.raises(ValueError), transaction.atomic(using=alias):
            airlock.enqueue(note, "lost")
            raise ValueError("roll back")
        airlock.enqueue(note, "kept")

    assert [name for name, _ in probe] == ["kept"]
    assert [i.args[-1] for i in scope.report.discarded] == ["lost"]


def test_inline_dispatch_failure_is_logged_like_robust_on_commit(probe, caplog):
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
        with airlock.scope() as scope:  # no transaction: dispatched inline at exit
            airlock.enqueue(broken, "x")
            airlock.enqueue(note, "y")

    assert probe == [("y", True)]
    assert [type(exc) for _, exc in scope.report.failed] == [DispatchBroke]
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], airlock.FlushFailed)]
    assert len(logged) == 1


def test_inline_dispatch_failure_raises_without_robust(probe):
    with pytest.raises(airlock.FlushFailed), airlock.scope(robust=False):
        airlock.enqueue(broken, "x")
        airlock.enqueue(note, "y")
    assert probe == [("y", True)]


def test_fail_fast_is_false_by_default_and_configure_wins(probe, airlock_config):
    assert DjangoScope().option("fail_fast") is False
    assert DjangoScope(fail_fast=True).option("fail_fast") is True
    airlock_config(fail_fast=True)
    assert DjangoScope().option("fail_fast") is True


def test_flush_outside_a_transaction_does_not_connect(probe):
    connection = transaction.get_connection("postgres")
    connection.close()
    assert connection.connection is None
    with airlock.scope(using="postgres") as scope:
        airlock.enqueue(note, "no-db-needed")

    assert probe == [("no-db-needed", True)] and scope.report.complete
    assert connection.connection is None  # asking for autocommit did not open a connection


def test_thread_connection_is_each_threads_own():
    mine = thread_connection("default")
    assert mine is connections["default"] and thread_connection("default") is mine
    seen = []
    worker = threading.Thread(target=lambda: seen.append((thread_connection("default"), connections["default"])))
    worker.start()
    worker.join()
    theirs, django_says = seen[0]
    assert theirs is django_says and theirs is not mine


def test_a_thread_sharing_the_scope_follows_its_own_transactions(alias, probe):
    """The scope's context copied into another thread (as asgiref's
    ``sync_to_async`` does): that thread's connection decides, even though this
    thread's connection was looked up first and is outside any transaction."""
    failures: list[BaseException] = []

    def in_the_other_thread() -> None:
        try:
            with pytest.raises(ValueError), transaction.atomic(using=alias):
                airlock.enqueue(note, "rolled-back-there")
                raise ValueError("roll back")
            with transaction.atomic(using=alias):
                airlock.enqueue(note, "committed-there")
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    with airlock.scope() as scope:
        airlock.enqueue(note, "here")
        other = threading.Thread(target=contextvars.copy_context().run, args=(in_the_other_thread,))
        other.start()
        other.join()

    assert failures == []
    assert [name for name, _ in probe] == ["here", "committed-there"]
    assert [i.args[-1] for i in scope.report.discarded] == ["rolled-back-there"]


def test_inside_an_event_loop_the_connection_remembered_before_it_does_not_answer(probe, monkeypatch):
    """Inside a running loop Django's connection follows the task, not the thread."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # lets this test open a transaction in the loop
    with DjangoScope():
        airlock.enqueue(note, "before the loop")  # this thread's connection is now remembered

    async def in_the_loop() -> DjangoScope:
        with DjangoScope() as scope:
            with pytest.raises(ValueError), transaction.atomic():
                airlock.enqueue(note, "rolled-back")
                raise ValueError("roll back")
        return scope

    scope = asyncio.run(in_the_loop())

    assert [name for name, _ in probe] == ["before the loop"]
    assert [i.args[-1] for i in scope.report.discarded] == ["rolled-back"]


def test_a_scope_whose_alias_changes_after_init_follows_the_new_one(probe):
    class Rerouted(DjangoScope):
        def __init__(self) -> None:
            super().__init__()
            self.using = "other"  # as a database router might decide

    thread_connection("default")  # the default alias is looked up in this thread, as usual
    with Rerouted() as scope:
        with pytest.raises(ValueError), transaction.atomic(using="other"):
            airlock.enqueue(note, "rolled-back")
            raise ValueError("roll back")

    assert probe == [] and [i.args[-1] for i in scope.report.discarded] == ["rolled-back"]


def test_a_subclass_cannot_replace_the_transaction_guard():
    with pytest.raises(TypeError, match="_before_guarded_append"):

        class Careless(DjangoScope):
            _enqueue_guard = staticmethod(lambda scope: False)
