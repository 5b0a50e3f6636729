"""System checks of the ``airlock.integrations.django`` app (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core import checks

__all__ = ["check_migrate_command"]

APP = "airlock.integrations.django"


def check_migrate_command(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``airlock.W001`` when ``manage.py migrate`` is another app's command
    that does not build on airlock's (a subclass of it is fine).

    Django runs the ``migrate`` of the first app in ``INSTALLED_APPS`` that
    has one; if that is not this app's, side effects enqueued during
    migrations are not dropped (a data migration that enqueues fails with
    ``NoScopeError``).
    """
    from django.core.management import get_commands, load_command_class

    from .management.commands.migrate import Command as AirlockMigrate

    owner = get_commands().get("migrate")
    if owner == APP or isinstance(load_command_class(owner, "migrate"), AirlockMigrate):
        return []  # airlock's, or a project's built on it
    return [
        checks.Warning(
            f"manage.py migrate is the command of {owner!r}, not airlock's: side effects enqueued during "
            "migrations are not dropped, and an enqueue there raises NoScopeError.",
            hint=f"List {APP!r} before {owner!r} in INSTALLED_APPS, or run that app's migrate work inside "
            "airlock.Scope(airlock.DropAll()).",
            id="airlock.W001",
        )
    ]
