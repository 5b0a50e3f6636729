"""``manage.py flush``, with every side effect enqueued meanwhile dropped.

``flush`` sends ``post_migrate`` once the tables are empty, and
``TransactionTestCase`` flushes the database after each test: receivers that
save rows whose ``save()`` enqueues then run inside a ``DropAll`` scope, with
no enclosing scope, instead of failing with ``NoScopeError``.
"""

from __future__ import annotations

from django.core.management.commands.flush import Command as DjangoFlushCommand

from ..dropping import DropsSideEffects

__all__ = ["Command"]


class Command(DropsSideEffects, DjangoFlushCommand):
    """Django's ``flush``, run in ``airlock.Scope(airlock.DropAll())``."""

    help = f"{DjangoFlushCommand.help} Side effects enqueued meanwhile through airlock are dropped."
    dropped_during = "flush"
