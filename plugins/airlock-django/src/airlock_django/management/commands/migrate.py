"""``manage.py migrate``, with every side effect enqueued meanwhile dropped.

Data migrations, and ``save()`` methods or ``post_save`` receivers that
enqueue (Django's own migration recorder saves rows too), run inside a scope
whose policy is ``DropAll``, with no enclosing scope (even when
``call_command("migrate")`` runs inside one): nothing enqueued during a
migration escapes, and nothing fails with ``NoScopeError``. Django's test runner creates test
databases through this command too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrateCommand

import airlock

__all__ = ["Command"]


class Command(DjangoMigrateCommand):
    """Django's ``migrate``, run in ``airlock.Scope(airlock.DropAll())``.

    With verbosity >= 1 it says how many intents it dropped, if any.
    """

    help = f"{DjangoMigrateCommand.help} Side effects enqueued meanwhile through airlock are dropped."

    def handle(self, *args: Any, **options: Any) -> Any:
        # With no scope active: a scope around call_command("migrate") would
        # otherwise capture what the migration enqueued before DropAll could
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
            result = super().handle(*args, **options)
        dropped = len(scope.report.dropped) if scope.report is not None else 0
        if dropped and options["verbosity"] >= 1:
            noun = "side effect" if dropped == 1 else "side effects"
            self.stdout.write(f"airlock: {dropped} {noun} enqueued during migrate dropped (never dispatched).")
        return result
