"""Management commands that run with every side effect enqueued meanwhile dropped.

``migrate`` (data migrations, the migration recorder's saves), ``flush`` (its
``post_migrate`` signal, which ``TransactionTestCase`` sends after each test)
and ``loaddata`` (the ``save()`` methods and ``post_save`` receivers a
fixture's rows go through) change the database as set-up, not as the
application's work: what they make code enqueue must neither escape nor fail
with ``NoScopeError``.
"""

from __future__ import annotations

from typing import Any

import airlock

__all__ = ["DropsSideEffects"]


class DropsSideEffects:
    """Mixin for a Django management command: ``handle()`` runs in
    ``airlock.Scope(airlock.DropAll())``, with no enclosing scope, and with
    verbosity >= 1 says how many intents it dropped, if any.

    Put it first: ``class Command(DropsSideEffects, DjangosCommand)``.
    """

    #: The command's name, for that message.
    dropped_during = "this command"

    def handle(self, *args: Any, **options: Any) -> Any:
        # With no scope active: a scope around call_command(...) would
        # otherwise capture what the command enqueued before DropAll could
        # drop it. In the caller's own context, where Django keeps its
        # connections (a context variable while an event loop runs).
        token = airlock._current_scope.set(None)
        try:
            return self._handle_dropping(*args, **options)
        finally:
            airlock._current_scope.reset(token)

    def _handle_dropping(self, *args: Any, **options: Any) -> Any:
        # A plain Scope, not the configured one: nothing is dispatched, so no
        # transaction to follow, and configured scope arguments must not matter.
        with airlock.Scope(airlock.DropAll()) as scope:
            result = super().handle(*args, **options)  # type: ignore[misc]
        dropped = len(scope.report.dropped) if scope.report is not None else 0
        if dropped and options.get("verbosity", 1) >= 1:
            noun = "side effect" if dropped == 1 else "side effects"
            during = self.dropped_during
            self.stdout.write(f"airlock: {dropped} {noun} enqueued during {during} dropped (never dispatched).")  # type: ignore[attr-defined]
        return result
