"""``manage.py migrate``, with every side effect enqueued meanwhile dropped.

Data migrations, and ``save()`` methods or ``post_save`` receivers that
enqueue (Django's own migration recorder saves rows too), run inside a scope
whose policy is ``DropAll``, with no enclosing scope (even when
``call_command("migrate")`` runs inside one): nothing enqueued during a
migration escapes, and nothing fails with ``NoScopeError``. Django's test
runner creates test databases through this command too.
"""

from __future__ import annotations

from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from ..dropping import DropsSideEffects

__all__ = ["Command"]


class Command(DropsSideEffects, DjangoMigrateCommand):
    """Django's ``migrate``, run in ``airlock.Scope(airlock.DropAll())``."""

    help = f"{DjangoMigrateCommand.help} Side effects enqueued meanwhile through airlock are dropped."
    dropped_during = "migrate"
