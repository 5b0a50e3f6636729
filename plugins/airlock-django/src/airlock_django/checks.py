"""System checks of the ``airlock.integrations.django`` app (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core import checks

__all__ = ["DROPPING_COMMANDS", "check_commands"]

APP = "airlock.integrations.django"
#: The commands this app replaces by versions that drop what is enqueued while they run.
DROPPING_COMMANDS = ("migrate", "flush", "loaddata")


def check_commands(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``airlock.W001`` for each of ``migrate``, ``flush`` and ``loaddata``
    that is another app's command not built on airlock's (a subclass of
    airlock's is fine).

    Django runs the command of the first app in ``INSTALLED_APPS`` that has
    one; if that is not this app's, side effects enqueued while it runs are
    not dropped (an enqueue there fails with ``NoScopeError``).
    """
    from django.core.management import get_commands, load_command_class

    from .management.dropping import DropsSideEffects

    found = []
    for name in DROPPING_COMMANDS:
        owner = get_commands().get(name)
        if owner == APP or isinstance(load_command_class(owner, name), DropsSideEffects):
            continue  # airlock's, or a project's built on it
        found.append(
            checks.Warning(
                f"manage.py {name} is the command of {owner!r}, not airlock's: side effects enqueued while it "
                "runs are not dropped, and an enqueue there raises NoScopeError.",
                hint=f"List {APP!r} before {owner!r} in INSTALLED_APPS, or build that app's {name} on "
                f"airlock_django.management.dropping.DropsSideEffects.",
                id="airlock.W001",
            )
        )
    return found
