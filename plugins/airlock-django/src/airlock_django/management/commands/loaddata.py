"""``manage.py loaddata``, with every side effect enqueued meanwhile dropped.

A fixture's rows go through ``post_save`` (with ``raw=True``); receivers, and
``TestCase.fixtures``, that enqueue then run inside a ``DropAll`` scope, with
no enclosing scope, instead of failing with ``NoScopeError``: loading
fixtures sends no email.
"""

from __future__ import annotations

from django.core.management.commands.loaddata import Command as DjangoLoaddataCommand

from ..dropping import DropsSideEffects

__all__ = ["Command"]


class Command(DropsSideEffects, DjangoLoaddataCommand):
    """Django's ``loaddata``, run in ``airlock.Scope(airlock.DropAll())``."""

    help = f"{DjangoLoaddataCommand.help} Side effects enqueued meanwhile through airlock are dropped."
    dropped_during = "loaddata"
