"""Database set-up that runs with every side effect enqueued meanwhile dropped.

``migrate`` (data migrations, the migration recorder's saves), ``flush`` (its
``post_migrate`` signal, which ``TransactionTestCase`` sends after each test),
``loaddata`` (the ``save()`` methods and ``post_save`` receivers a fixture's
rows go through) and the reload of a test database's serialized contents
(``TransactionTestCase.serialized_rollback``, rows saved through ``post_save``
too) change the database as set-up, not as the application's work: what
they make code enqueue must neither escape nor fail with ``NoScopeError``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import airlock

__all__ = ["DropsSideEffects", "side_effects_dropped", "drop_during_serialized_rollback"]


@contextmanager
def side_effects_dropped() -> Iterator[airlock.Scope]:
    """Run the block in ``airlock.Scope(airlock.DropAll())``, with no enclosing
    scope; yields that scope, whose report lists what was dropped.

    With no scope active: an enclosing scope (one around
    ``call_command(...)``) would otherwise capture what the block enqueued
    before ``DropAll`` could drop it. A plain ``Scope``, not the configured
    one: nothing is dispatched, so there is no transaction to follow, and
    configured scope arguments must not matter. In the caller's own context,
    where Django keeps its connections (a context variable while an event
    loop runs).
    """
    token = airlock._current_scope.set(None)
    try:
        with airlock.Scope(airlock.DropAll()) as scope:
            yield scope
    finally:
        airlock._current_scope.reset(token)


def drop_during_serialized_rollback() -> None:
    """Make Django's ``BaseDatabaseCreation.deserialize_db_from_string``,
    which ``TransactionTestCase`` with ``serialized_rollback = True`` calls to
    reload the rows migrations made, run inside :func:`side_effects_dropped`.

    It goes through no management command, so nothing else covers it. Called
    once by the app's ``ready()``; calling it again changes nothing.
    """
    from django.db.backends.base.creation import BaseDatabaseCreation

    reload = BaseDatabaseCreation.deserialize_db_from_string
    if getattr(reload, "_airlock_drops_side_effects", False):
        return

    @functools.wraps(reload)
    def deserialize_db_from_string(self: Any, data: str) -> None:
        with side_effects_dropped():
            reload(self, data)

    deserialize_db_from_string._airlock_drops_side_effects = True  # type: ignore[attr-defined]
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string  # type: ignore[method-assign]


class DropsSideEffects:
    """Mixin for a Django management command: ``handle()`` runs in
    :func:`side_effects_dropped`, and with verbosity >= 1 says how many
    intents it dropped, if any.

    Put it first: ``class Command(DropsSideEffects, DjangosCommand)``.
    """

    #: The command's name, for that message.
    dropped_during = "this command"

    def handle(self, *args: Any, **options: Any) -> Any:
        with side_effects_dropped() as scope:
            result = super().handle(*args, **options)  # type: ignore[misc]
        dropped = len(scope.report.dropped) if scope.report is not None else 0
        if dropped and options.get("verbosity", 1) >= 1:
            noun = "side effect" if dropped == 1 else "side effects"
            during = self.dropped_during
            self.stdout.write(f"airlock: {dropped} {noun} enqueued during {during} dropped (never dispatched).")  # type: ignore[attr-defined]
        return result
