"""``manage.py make_thing ALIAS NAME``: a command whose side effect waits for the commit."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

import airlock
from airlock_django_testproject.models import Thing
from airlock_django_testproject.tasks import record_visible


class Command(BaseCommand):
    help = "Create a Thing and enqueue a task that checks it is committed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alias")
        parser.add_argument("name")
        parser.add_argument("--fail", action="store_true", help="raise after enqueueing")

    @airlock.scoped()
    def handle(self, *args: Any, alias: str, name: str, fail: bool, **options: Any) -> None:
        with transaction.atomic(using=alias):
            Thing.objects.using(alias).create(name=name)
            airlock.enqueue(record_visible, alias, name)
            if fail:
                raise CommandError(f"failing after enqueueing {name}")
