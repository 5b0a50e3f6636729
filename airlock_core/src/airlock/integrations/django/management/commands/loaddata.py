"""``manage.py loaddata`` for the ``airlock.integrations.django`` app: see airlock-django."""

from airlock.integrations._compat import load

__all__ = ["Command"]

Command = load("airlock_django.management.commands.loaddata", "airlock-django", "Command")
