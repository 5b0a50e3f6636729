"""``manage.py migrate`` with the app installed: side effects enqueued by migrations never escape.

The session's test databases were created through the same command (Django's
test set-up calls it), with ``migrating_app``'s data migration enqueueing.
"""

from __future__ import annotations

import io

from airlock_django_testproject.tasks import RESULTS
from django.core.management import call_command, get_commands


def test_the_app_s_migrate_replaces_django_s() -> None:
    assert get_commands()["migrate"] == "airlock.integrations.django"


def test_what_a_data_migration_enqueues_is_dropped_and_counted(alias: str) -> None:
    """Without the scope, the data migration's enqueue raised NoScopeError and
    migrate failed; with it, the migration runs and nothing is dispatched."""
    RESULTS.clear()
    call_command("migrate", "migrating_app", "0001", database=alias, verbosity=0)  # unapply the backfill
    out = io.StringIO()
    call_command("migrate", "migrating_app", database=alias, verbosity=1, stdout=out)
    assert "Applying migrating_app.0002_backfill... OK" in out.getvalue()
    assert "airlock: 2 side effects enqueued during migrate dropped (never dispatched)." in out.getvalue()
    assert RESULTS == []


def test_migrate_inside_an_enclosing_scope_still_drops(alias: str) -> None:
    """A scope around call_command("migrate") must not capture what the
    migration enqueued: the migration's side effects never escape."""
    import airlock

    RESULTS.clear()
    call_command("migrate", "migrating_app", "0001", database=alias, verbosity=0)
    with airlock.scope() as outer:
        call_command("migrate", "migrating_app", database=alias, verbosity=0)
    assert outer.intents == [] and RESULTS == []


def test_a_migrate_of_another_app_is_a_warning_unless_it_builds_on_airlock_s(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airlock_django.checks import check_migrate_command
    from airlock_django.management.commands.migrate import Command as AirlockMigrate
    from django.core import management
    from django.core.management.commands.migrate import Command as DjangoMigrate

    class ProjectMigrate(AirlockMigrate):
        """A project's own migrate, built on airlock's."""

    assert check_migrate_command() == []
    monkeypatch.setattr(management, "get_commands", lambda: {"migrate": "django_tenants"})
    monkeypatch.setattr(management, "load_command_class", lambda app, name: DjangoMigrate())
    [warning] = check_migrate_command()
    assert warning.id == "airlock.W001" and "'django_tenants'" in warning.msg
    monkeypatch.setattr(management, "load_command_class", lambda app, name: ProjectMigrate())
    assert check_migrate_command() == []
