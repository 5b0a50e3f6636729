"""``DjangoScope``: a scope whose dispatch waits for the database to commit.

How it follows transactions (one database per scope, ``using=``):

* **At enqueue**, an intent enqueued inside ``transaction.atomic()`` gets a
  *witness*: a tiny ``on_commit`` callback that only records "committed".
  Django runs it when the outermost transaction commits and silently drops
  it when the transaction, or any savepoint the intent was enqueued in,
  rolls back. An intent enqueued outside any transaction needs no witness.
* **At flush** (the end of the scope), the intents that passed the policies
  are handed to :meth:`DjangoScope.schedule_dispatch`, which by default is
  ``transaction.on_commit``: at once when no transaction is open, else when
  the current one commits. Witnesses registered earlier run first (Django
  keeps registration order), so when the dispatch runs each intent's fate is
  known: a fired witness or none means dispatch it; a witness that never fired
  means its savepoint rolled back, and the intent is reported ``discarded``.
* **If Django drops the dispatch callback itself** (the transaction or the
  savepoint that was open at flush time rolls back, or the connection is
  closed), every intent of the flush is reported ``discarded`` and
  ``airlock_after_flush`` runs at that moment.

So every intent's fate ends up in the flush report, and the report is
complete (``scope.report.complete``) once the transaction has ended.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import django
from django.db import DEFAULT_DB_ALIAS, transaction

import airlock
from airlock import Intent, Policy, Scope

__all__ = ["DjangoScope"]

_get_ident = threading.get_ident
_base_add = Scope._add
# The core's slot behind ``Scope._plain_add``, which DjangoScope wraps in a property.
_plain_add_slot = Scope.__dict__["_plain_add"]
_get_plain_add = _plain_add_slot.__get__
_set_plain_add = _plain_add_slot.__set__

#: ``transaction.on_commit(robust=...)`` exists from Django 5.0 on.
ROBUST_SUPPORTED = django.VERSION >= (5, 0)


class _Witness:
    """An ``on_commit`` callback that records that its transaction committed."""

    __slots__ = ("committed",)

    def __init__(self) -> None:
        self.committed = False

    def __call__(self) -> None:
        self.committed = True


class DjangoScope(Scope):
    """A scope that dispatches only after the database transaction commits.

    :param policy: as for :class:`airlock.Scope`.
    :param executor: as for :class:`airlock.Scope` (a callable or a name);
        default from ``airlock.configure()``, which the Django app sets from
        ``settings.AIRLOCK["EXECUTOR"]``.
    :param using: the database alias whose transactions this scope follows
        (default ``"default"``).
    :param robust: passed to ``transaction.on_commit``: a failing dispatch is
        logged by Django and does not stop the other commit callbacks.
        Default True on Django >= 5.0, where it exists; False before.
    :param options: airlock options (``fail_fast`` and those plugins
        declare). ``fail_fast`` defaults to False here, unless configured
        globally: each intent is dispatched independently, as separate
        robust ``on_commit`` callbacks would be, and the failures are raised
        together as :class:`airlock.FlushFailed` after the rest ran.

    Savepoints: an intent enqueued inside an ``atomic()`` block that rolls
    back is never dispatched, while the others of the same scope are. See
    the module documentation for how, and for what the flush report says.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        executor: Any = None,
        *,
        using: str | None = None,
        robust: bool | None = None,
        **options: Any,
    ) -> None:
        if "fail_fast" not in options and "fail_fast" not in airlock.get_configuration()["options"]:
            options["fail_fast"] = False
        super().__init__(policy, executor, **options)
        if robust is None:
            robust = ROBUST_SUPPORTED
        elif robust and not ROBUST_SUPPORTED:
            raise airlock.UsageError(
                f"DjangoScope(robust=True) needs Django >= 5.0 (transaction.on_commit(robust=...)); "
                f"this is Django {django.get_version()}. Leave robust unset."
            )
        #: The database alias whose transactions this scope follows.
        self.using: str = using or DEFAULT_DB_ALIAS
        #: Whether dispatch is registered with ``on_commit(robust=True)``.
        self.robust: bool = robust
        # id(intent) -> (intent, witness); the intent is kept so its id stays unique.
        self._witnesses: dict[int, tuple[Intent, _Witness]] = {}
        self._connection_of: tuple[int, Any] = (0, None)
        # The core left its enqueue fast path off because this class overrides
        # _add; the property below turns it on again outside atomic blocks.
        _set_plain_add(self, self._plain_policy and not self._hooks.enqueue)

    @property
    def connection(self) -> Any:
        """This thread's connection to the ``using`` database (Django keeps one per thread)."""
        thread, connection = self._connection_of
        if thread != _get_ident():
            connection = transaction.get_connection(self.using)
            self._connection_of = (_get_ident(), connection)
        return connection

    # -- enqueue: remember the transaction state -----------------------------
    @property
    def _plain_add(self) -> bool:
        """Whether ``enqueue()`` may append to the buffer without calling :meth:`_add`.

        The core's fast path, kept where it is exact: only while no atomic
        block is open on this scope's database, where an intent needs no
        witness, and only when the core's own conditions hold (plain policy,
        no ``airlock_enqueue`` hook, scope not finished).
        """
        if not _get_plain_add(self):
            return False
        thread, connection = self._connection_of  # self.connection, inlined: this runs per intent
        if thread != _get_ident():
            connection = self.connection
        return not connection.in_atomic_block

    @_plain_add.setter
    def _plain_add(self, value: bool) -> None:
        _set_plain_add(self, value)

    def _add(self, intent: Intent) -> None:
        _base_add(self, intent)
        thread, connection = self._connection_of  # self.connection, inlined: this runs per intent
        if thread != _get_ident():
            connection = self.connection
        if connection.in_atomic_block:
            self._witness(connection, intent)

    def _witness(self, connection: Any, intent: Intent) -> None:
        witness = _Witness()
        connection.on_commit(witness)
        self._witnesses[id(intent)] = (intent, witness)

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        """Capture everything (the default), keeping each intent's transaction state.

        Intents from a nested ``DjangoScope`` keep their witnesses. Intents
        from another kind of scope are tied to the transaction that is open
        now, as the nested scope ends (which encloses where they were
        enqueued when the code nests ``with`` blocks normally). Subclasses
        that override this should call it for the intents they capture.
        """
        theirs = exiting_scope._witnesses if isinstance(exiting_scope, DjangoScope) else None
        if theirs is not None:
            for intent in intents:
                entry = theirs.get(id(intent))
                if entry is not None:
                    self._witnesses[id(intent)] = entry
        else:
            connection = self.connection
            if connection.in_atomic_block:
                for intent in intents:
                    self._witness(connection, intent)
        return []

    # -- flush: dispatch when the transaction commits --------------------------
    def schedule_dispatch(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (which dispatches this flush) when the time comes.

        Default: ``transaction.on_commit(callback, using=self.using,
        robust=self.robust)``, which calls it at once outside a transaction.
        Override to change the timing.
        """
        if self.robust:
            self.connection.on_commit(callback, robust=True)
        else:
            self.connection.on_commit(callback)

    def _dispatch_all(self, intents: list[Intent]) -> None:
        pending = _PendingFlush(self, intents)
        if self.connection.in_atomic_block:
            pending.watch()  # Django may drop the callback: a rollback would never call it
        self.schedule_dispatch(pending.run)

    def _dispatch_committed(self, intents: list[Intent]) -> None:
        """Dispatch the intents whose transaction committed; report the others discarded."""
        witnesses = self._witnesses
        if witnesses:
            survivors, rolled_back = [], []
            for intent in intents:
                entry = witnesses.get(id(intent))
                (survivors if entry is None or entry[1].committed else rolled_back).append(intent)
            witnesses.clear()
            self._discarded_by_rollback(rolled_back)
            intents = survivors
        self._dispatch(intents)

    def _dropped_by_django(self, intents: list[Intent]) -> None:
        """Django dropped the dispatch callback: report the whole flush discarded."""
        self._witnesses.clear()
        self._discarded_by_rollback(intents)
        self._dispatch([])

    def _discarded_by_rollback(self, intents: list[Intent]) -> None:
        report = self._report
        assert report is not None, "a flush with intents always has a report"
        report.discarded.extend(intents)


class _PendingFlush:
    """One flush waiting for its commit; once watched, notices if Django drops it instead.

    Its bound ``run`` is the ``on_commit`` callback. Django holds the only
    reference, so when Django discards the callback without calling it (a
    rollback, a closed connection) this object is freed and the finalizer
    reports the flush as discarded.
    """

    __slots__ = ("_finalizer", "_intents", "_scope", "__weakref__")

    def __init__(self, scope: DjangoScope, intents: list[Intent]) -> None:
        self._scope = scope
        self._intents: list[Intent] | None = intents
        self._finalizer: weakref.finalize | None = None

    def watch(self) -> None:
        """Report the flush discarded if this object is freed before :meth:`run`."""
        self._finalizer = weakref.finalize(self, self._scope._dropped_by_django, list(self._intents or ()))
        self._finalizer.atexit = False

    def run(self) -> None:
        """Dispatch now (the transaction committed, or there was none); at most once."""
        intents, self._intents = self._intents, None
        if intents is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        self._scope._dispatch_committed(intents)
