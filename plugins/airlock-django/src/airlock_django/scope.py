"""``DjangoScope``: a scope whose dispatch waits for the database to commit.

How it follows transactions (one database per scope, ``using=``):

* **At enqueue**, an intent enqueued inside ``transaction.atomic()`` gets a
  *witness*: a tiny ``on_commit`` callback that only records "committed".
  Django runs it when the outermost transaction commits and silently drops
  it when the transaction, or any savepoint the intent was enqueued in,
  rolls back. Intents enqueued one after another in the same savepoints
  share one witness; an intent enqueued outside any transaction needs none.
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
* **If the dispatch runs as an ``on_commit`` callback of a transaction that
  is still open** (``TestCase.captureOnCommitCallbacks(execute=True)`` runs
  the callbacks registered inside its block as if it committed), that
  transaction counts as committed: the witnesses it still holds, registered
  before the block and not run by it, count as fired.

So every intent's fate ends up in the flush report, and the report is
complete (``scope.report.complete``) once the transaction has ended.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from asyncio import _get_running_loop
from collections.abc import Callable
from functools import partial
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

import airlock
from airlock import Intent, Policy, Scope
from airlock.intent import promote

from ._connections import NOT_LOOKED_UP, thread_connection, thread_state
from ._fates import Fates, Witness

__all__ = ["DjangoScope"]

_get_ident = threading.get_ident
_base_add = Scope._add

#: Where Django logs the failures of robust ``on_commit`` callbacks.
_django_logger = logging.getLogger("django.db.backends.base")


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
        Default True.
    :param options: airlock options (``fail_fast`` and those plugins
        declare). ``fail_fast`` defaults to False here (:attr:`option_defaults`),
        unless configured globally: each intent is dispatched independently, as separate
        robust ``on_commit`` callbacks would be, and the failures are raised
        together as :class:`airlock.FlushFailed` after the rest ran.

    Savepoints: an intent enqueued inside an ``atomic()`` block that rolls
    back is never dispatched, while the others of the same scope are. See
    the module documentation for how, and for what the flush report says.
    """

    option_defaults = MappingProxyType({"fail_fast": False})
    #: Asked by ``enqueue()`` per intent: while no transaction is open (and no
    #: witness is pending) the intent is appended as is; else
    #: :meth:`_before_guarded_append` first notes the transaction state.
    #: Replaced (in ``_plain_add``) by :func:`_witness_outdated` while the
    #: newest intent has a witness.
    _enqueue_guard = attrgetter("_thread_state.connection.in_atomic_block")
    # Class defaults until a scope sets its own: most scopes follow the default
    # database with the default robust, see no transaction, and many are empty.
    #: Whether dispatch is registered with ``on_commit(robust=True)``.
    robust: bool = True
    _using = DEFAULT_DB_ALIAS
    _thread_state = thread_state(DEFAULT_DB_ALIAS)
    _thread = 0  # the thread whose connection _connection is
    _connection: Any = None
    _fates: Fates | None = None  # made when an intent is enqueued inside a transaction
    _witness: Witness | None = None  # the newest intent's witness (None: enqueued outside a transaction)

    def __init__(
        self,
        policy: Policy | None = None,
        executor: Any = None,
        *,
        using: str | None = None,
        robust: bool | None = None,
        **options: Any,
    ) -> None:
        super().__init__(policy, executor, **options)
        if robust is not None:
            if not isinstance(robust, bool):
                raise TypeError(f"DjangoScope(robust=...) must be True, False or None, got {robust!r}.")
            self.robust = robust
        # The class defaults follow the default alias; inside an event loop
        # thread_state() must be asked anyway (it forgets a remembered connection).
        if using or _get_running_loop() is not None:
            if using and using not in connections.settings:
                raise airlock.UsageError(
                    f"DjangoScope(using={using!r}): no such database; DATABASES has {', '.join(connections.settings)}."
                )
            self._using = using or self._using  # the using setter minus resetting _thread, which is unset
            self._thread_state = thread_state(self._using)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "_enqueue_guard" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} sets _enqueue_guard, which would replace the check that keeps intents of a "
                "rolled-back savepoint from escaping. Override _before_guarded_append() (calling super()) "
                "to see the intents enqueued inside a transaction instead."
            )
        super().__init_subclass__(**kwargs)
        if cls.connection is not _connection_property:
            # The guard and the flush check read the remembered connection, not
            # this property: with it overridden, every enqueue goes through _add.
            cls._appends_plainly = False

    def __call__(self, func: Any) -> Any:
        """``@DjangoScope(using=..., robust=...)`` as a decorator: each call runs
        in a fresh scope of the same class, database, robustness, policy,
        executor and options."""
        return airlock.scoped(
            self._policy,
            _cls=type(self),
            executor=self._executor,
            using=self._using,
            robust=self.robust,
            **(self._options or {}),
        )(func)

    @property
    def using(self) -> str:
        """The database alias whose transactions this scope follows."""
        return self._using

    @using.setter
    def using(self, alias: str) -> None:
        self._using = alias
        self._thread_state = thread_state(alias)
        self._thread = 0  # look the connection up again

    @property
    def connection(self) -> Any:
        """This thread's connection to the ``using`` database (Django keeps one per thread)."""
        if self._thread != _get_ident():
            self._connection = thread_connection(self._using)
            self._thread = _get_ident()
        return self._connection

    # -- enqueue: remember the transaction state -----------------------------
    def _add(self, intent: Intent) -> None:
        self._before_guarded_append()
        _base_add(self, intent)

    def _before_guarded_append(self) -> None:
        """Record the transaction state the next buffered intent is enqueued in."""
        connection = self.connection
        if connection.in_atomic_block or self._witness is not None:
            witness = self._witness = self._fates_made().note(connection, len(self._intents))
            if self._plain_add:  # the enqueue fast path is on: ask the guard that fits now
                self._plain_add = DjangoScope._enqueue_guard if witness is None else _witness_outdated

    def _fates_made(self) -> Fates:
        """The scope's :class:`Fates`, made now if no intent needed one yet."""
        if self._fates is None:
            self._fates = Fates()
        return self._fates

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        """Capture everything (the default), keeping each intent's transaction state.

        Intents from a nested ``DjangoScope`` keep their witnesses. Intents
        from another kind of scope are tied to the transaction that is open
        now, as the nested scope ends (which encloses where they were
        enqueued when the code nests ``with`` blocks normally). Subclasses
        that override this should call it for the intents they capture.
        """
        fates = self._fates_made()
        if isinstance(exiting_scope, DjangoScope):
            theirs = exiting_scope._fates
            fates.capture(intents, theirs.of(exiting_scope._intents) if theirs is not None else None)
        else:
            fates.capture(intents, fates.witness_now(self.connection))
        return []

    # -- flush: dispatch when the transaction commits --------------------------
    def schedule_dispatch(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (which dispatches this flush) when the time comes.

        Default: ``transaction.on_commit(callback, using=self.using,
        robust=self.robust)``, which calls it at once outside a transaction.
        Override to change the timing.
        """
        self._on_commit_of(self.connection, callback)

    def _on_commit_of(self, connection: Any, callback: Callable[[], None]) -> None:
        """``connection.on_commit(callback)``, robust when the scope is."""
        if self.robust:
            connection.on_commit(callback, robust=True)
        else:
            connection.on_commit(callback)

    def _dispatches_immediately(self) -> bool:
        """True when the dispatch would run at once with nothing to filter: no
        transaction open, autocommit on, default timing, and nothing buffered
        was rolled back. The core may then call the tasks inline."""
        cls = type(self)  # asked per flush, so a method patched in later (a test's mock) counts
        if cls.schedule_dispatch is not _schedule_dispatch or cls._dispatch_all is not _dispatch_all:
            return False  # a subclass changed the timing: let it decide
        if _get_running_loop() is not None:
            return False  # dispatched outside the event loop: see _dispatch_all
        connection = self._thread_state.connection  # this thread's, once looked up (see _connections)
        if connection is NOT_LOOKED_UP or cls.connection is not _connection_property:
            connection = self.connection
        if connection.in_atomic_block:
            return False
        # _autocommit(connection), inlined: this runs on every flush
        if not (connection.autocommit if connection.connection is not None else connection.settings_dict["AUTOCOMMIT"]):
            return False
        return self._fates is None or self._fates.all_committed()

    def _inline_failed(self, intents: list[Intent], position: int, error: BaseException) -> None:
        """The core's inline dispatch failed; with ``robust``, the flush's
        failure is logged as Django's robust ``on_commit`` logs it, not raised."""
        self._run_as_on_commit_would(partial(super()._inline_failed, intents, position, error))

    def _dispatch_all(self, intents: list[Intent]) -> None:
        pending = _PendingFlush(self, intents)
        connection = self.connection
        if connection.in_atomic_block:
            pending.watch()  # Django may drop the callback: a rollback would never call it
        elif type(self).schedule_dispatch is _schedule_dispatch and _autocommit(connection):
            # on_commit() would call it at once, after asking the database for
            # autocommit, which an event loop forbids (SynchronousOnlyOperation)
            if _get_running_loop() is None:
                self._run_as_on_commit_would(pending.run)
            else:  # flushed in async code: tasks may use the ORM, which the loop's thread forbids
                self._run_as_on_commit_would(partial(_outside_the_event_loop, pending.run))
            return
        try:
            self.schedule_dispatch(pending.run)
        except BaseException:
            pending.unwatch()  # the flush's error reports it (not attempted), not __del__
            raise

    def _run_as_on_commit_would(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` now, as ``on_commit`` does outside a transaction:
        with ``robust``, a failure is logged as Django logs it, not raised."""
        try:
            callback()
        except Exception as exc:
            if not self.robust:
                raise
            _django_logger.error("Error calling DjangoScope dispatch in on_commit() (%s).", exc, exc_info=True)

    def _dispatch_committed(self, intents: list[Intent]) -> None:
        """Dispatch the intents whose transaction committed; report the others discarded."""
        fates = self._fates
        rolled_back = self._rolled_back_in_flush() if fates is not None and not fates.all_committed() else None
        if rolled_back:
            self._discarded_by_rollback([i for i in intents if id(i) in rolled_back])
            intents = [i for i in intents if id(i) not in rolled_back]
        self._dispatch(intents)

    def _rolled_back_in_flush(self) -> set[int]:
        """The ids of this flush's intents whose transaction rolled back.

        Plugins may have reshaped the flush: a copy a plugin made of an intent
        (``record_replaced``) shares its original's fate, and an intent others
        were merged into stands for all of them, so it is rolled back only if
        every one of them was.
        """
        assert self._fates is not None and isinstance(self._report, airlock.FlushReport)
        merged = self._report.merged  # read first: pairing builds the buffer's Intents in place
        rolled = self._fates.rolled_back(promote(self._intents))
        if not rolled:
            return rolled
        replaced = self._report._replaced
        standing_for_committed: set[int] = set()  # overrides rolled
        while True:  # both sets only grow, so this ends
            grew = True
            while grew:  # a copy shares its original's fate
                grew = False
                for original, copy in replaced.items():
                    if original in standing_for_committed and id(copy) not in standing_for_committed:
                        standing_for_committed.add(id(copy))
                        grew = True
                    elif original in rolled and id(copy) not in rolled:
                        rolled.add(id(copy))
                        grew = True
            kept_for_committed = {
                id(kept) for intent, kept in merged if id(intent) not in rolled or id(intent) in standing_for_committed
            }
            if kept_for_committed <= standing_for_committed:
                break
            standing_for_committed |= kept_for_committed
        return rolled - standing_for_committed

    def _dropped_by_django(self, intents: list[Intent]) -> None:
        """Django dropped the dispatch callback: report the whole flush discarded."""
        self._discarded_by_rollback(intents)
        self._dispatch([])

    def _discarded_by_rollback(self, intents: list[Intent]) -> None:
        report = self._report
        assert report is not None, "a flush with intents always has a report"
        report.discarded.extend(intents)


def _autocommit(connection: Any) -> bool:
    """``connection.get_autocommit()`` without connecting just to ask."""
    if connection.connection is not None:
        return bool(connection.autocommit)
    return bool(connection.settings_dict["AUTOCOMMIT"])


def _outside_the_event_loop(callback: Callable[[], None]) -> None:
    """Call ``callback`` in a thread of its own (in a copy of this context), and wait.

    A scope that ends in async code (``@airlock.scoped()`` on an ``async
    def``) flushes in the event loop's thread, where Django refuses
    synchronous ORM calls: a task the ``sync`` executor runs that saves a
    row, the ``django_tasks`` database backend, django-q2's ORM broker or
    an executor of one's own would fail there. Every executor gets the
    thread: which of them touch the ORM cannot be told from outside. The
    loop waits, as it does for any synchronous flush; the thread's database
    connections are closed after.
    """
    context = contextvars.copy_context()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            context.run(callback)
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, name="airlock-django-dispatch")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def _witness_outdated(scope: DjangoScope) -> bool:
    """The enqueue guard while the newest intent has a witness: False (append
    as is) while an intent enqueued now shares it, in this thread."""
    if scope._thread != _get_ident():
        return True
    # Witness.covers_now, inlined: this runs per intent inside a transaction.
    connection = scope._connection
    pending = connection.run_on_commit
    witness = scope._witness
    return not (pending and pending[-1][1] is witness and connection.savepoint_ids == witness.savepoints)


_connection_property = DjangoScope.__dict__["connection"]
_schedule_dispatch = DjangoScope.schedule_dispatch
_dispatch_all = DjangoScope._dispatch_all


class _PendingFlush:
    """One flush waiting for its commit; once watched, notices if Django drops it instead.

    Its bound ``run`` is the ``on_commit`` callback. Django holds the only
    reference, so when Django discards the callback without calling it (a
    rollback, a closed connection) this object is freed and ``__del__``
    reports the flush as discarded, or, while it waited for a transaction on
    another connection after its own had committed, dispatches what committed.
    Nothing is reported once the interpreter is shutting down.
    """

    __slots__ = ("_on_drop", "_intents", "_scope", "_waited_for")

    def __init__(self, scope: DjangoScope, intents: list[Intent]) -> None:
        self._scope = scope
        self._intents: list[Intent] | None = intents
        self._on_drop: Callable[[list[Intent]], None] | None = None
        self._waited_for: Any = None  # the connection run last waited for: only its callbacks call run then

    def watch(self, on_drop: Callable[[list[Intent]], None] | None = None) -> None:
        """Call ``on_drop(intents)`` (default: report the flush discarded) if
        this object is freed before :meth:`run`."""
        self._on_drop = on_drop or self._scope._dropped_by_django

    def unwatch(self) -> None:
        """Forget :meth:`watch`: being freed reports nothing."""
        self._on_drop = None

    def __del__(self) -> None:
        """Freed while watched: Django dropped the callback, call ``on_drop``."""
        on_drop = self._on_drop
        if on_drop is None or sys.is_finalizing():
            return
        self._on_drop = None
        intents = self._intents
        assert intents is not None, "run() unwatches before it takes them"
        on_drop(intents)

    def run(self) -> None:
        """Dispatch now (the transaction committed, or there was none); at most once.

        If a transaction some of the intents were enqueued in is still open
        (on another connection, or the timing did not wait), wait for it
        first: at most once per connection, see :meth:`_still_open`.
        """
        intents, self._intents = self._intents, None
        if intents is None:
            return
        self.unwatch()
        scope = self._scope
        waiting = self._still_open(scope._fates) if scope._fates is not None else None
        if waiting is not None:
            self._intents = intents
            # Its rollback drops this callback: then dispatch what committed, discard the rest.
            self.watch(on_drop=scope._dispatch_committed)
            self._waited_for = waiting
            scope._on_commit_of(waiting, self.run)
            return
        scope._dispatch_committed(intents)

    def _still_open(self, fates: Fates) -> Any:
        """The connection whose transaction the flush must wait for, or None.

        A connection whose ``on_commit`` callbacks are running this one has,
        as far as those callbacks go, committed, even though its transaction
        is still open: ``TestCase.captureOnCommitCallbacks(execute=True)``
        runs the callbacks registered inside its block that way, but not the
        witnesses registered before it. Waiting for that connection again
        would register a callback such a runner calls at once, again and
        again; its pending witnesses count as committed instead. It is the
        connection ``run`` last waited for, or one whose list still holds
        ``run`` (a real commit empties the list before running it).
        """
        waiting = fates.waiting_for()
        while waiting is not None and (waiting is self._waited_for or self._is_callback_of(waiting)):
            fates.count_as_committed(waiting)
            waiting = fates.waiting_for()
        return waiting

    def _is_callback_of(self, connection: Any) -> bool:
        """True if ``run`` is among the ``on_commit`` callbacks ``connection`` holds."""
        return any(getattr(entry[1], "__self__", None) is self for entry in connection.run_on_commit)
