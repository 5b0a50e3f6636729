"""``manage.py migrate``, ``flush`` and ``loaddata`` with the app installed: what they make code enqueue never escapes.

The session's test databases were created through the same command (Django's
test set-up calls it), with ``migrating_app``'s data migration enqueueing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from airlock_django.checks import DROPPING_COMMANDS, check_commands
from airlock_django_testproject.tasks import RESULTS, note
from django.core.management import call_command, get_commands


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


def test_flush_drops_what_its_post_migrate_receivers_enqueue() -> None:
    """TransactionTestCase flushes after each test; post_migrate receivers
    that enqueue failed its teardown with NoScopeError."""
    from django.db.models.signals import post_migrate

    import airlock

    def seed(**kwargs: object) -> None:
        airlock.enqueue(note, "seeded")

    RESULTS.clear()
    post_migrate.connect(seed, dispatch_uid="airlock-test-seed")
    try:
        out = io.StringIO()
        call_command("flush", interactive=False, database="other", verbosity=1, stdout=out)
    finally:
        post_migrate.disconnect(dispatch_uid="airlock-test-seed")
    assert "side effects enqueued during flush dropped (never dispatched)." in out.getvalue()
    assert RESULTS == []


def test_loaddata_drops_what_post_save_receivers_enqueue(tmp_path: Path) -> None:
    from airlock_django_testproject.models import Thing
    from django.db.models.signals import post_save

    import airlock

    def welcome(instance: Thing, **kwargs: object) -> None:
        airlock.enqueue(note, instance.name)

    fixture = tmp_path / "things.json"
    fixture.write_text(json.dumps([{"model": "airlock_django_testproject.thing", "fields": {"name": "fixture-row"}}]))
    RESULTS.clear()
    post_save.connect(welcome, sender=Thing, dispatch_uid="airlock-test-welcome")
    try:
        out = io.StringIO()
        call_command("loaddata", str(fixture), database="other", verbosity=1, stdout=out)
    finally:
        post_save.disconnect(sender=Thing, dispatch_uid="airlock-test-welcome")
        Thing.objects.using("other").filter(name="fixture-row").delete()
    assert "airlock: 1 side effect enqueued during loaddata dropped (never dispatched)." in out.getvalue()
    assert RESULTS == []


def test_the_serialized_rollback_reload_drops_what_post_save_receivers_enqueue() -> None:
    """TransactionTestCase(serialized_rollback=True) reloads the rows migrations
    made through deserialize_db_from_string, no management command: a post_save
    receiver that enqueued failed the test class's set-up with NoScopeError."""
    from airlock_django_testproject.models import Thing
    from django.core import serializers
    from django.db import connections
    from django.db.models.signals import post_save

    import airlock

    def welcome(instance: Thing, **kwargs: object) -> None:
        airlock.enqueue(note, instance.name)

    row = Thing.objects.using("other").create(name="serialized-row")
    data = serializers.serialize("json", [row])
    row.delete()
    RESULTS.clear()
    post_save.connect(welcome, sender=Thing, dispatch_uid="airlock-test-welcome")
    try:
        with airlock.scope() as outer:  # not captured by an enclosing scope either
            connections["other"].creation.deserialize_db_from_string(data)
    finally:
        post_save.disconnect(sender=Thing, dispatch_uid="airlock-test-welcome")
        Thing.objects.using("other").filter(name="serialized-row").delete()
    assert outer.intents == [] and RESULTS == []


@pytest.mark.parametrize("command", DROPPING_COMMANDS)
def test_the_app_replaces_each_dropping_command(command: str) -> None:
    assert get_commands()[command] == "airlock.integrations.django"


@pytest.mark.parametrize("command", DROPPING_COMMANDS)
def test_another_app_s_command_is_a_warning_unless_it_builds_on_airlock_s(monkeypatch, command: str) -> None:  # type: ignore[no-untyped-def]
    from airlock_django.management.dropping import DropsSideEffects
    from django.core import management
    from django.core.management.base import BaseCommand

    class ProjectCommand(DropsSideEffects, BaseCommand):
        """A project's own command, built on airlock's."""

    assert check_commands() == []
    theirs = {**management.get_commands(), command: "django_tenants"}
    monkeypatch.setattr(management, "get_commands", lambda: theirs)
    real_load = management.load_command_class
    monkeypatch.setattr(
        management, "load_command_class", lambda app, name: BaseCommand() if name == command else real_load(app, name)
    )
    [warning] = check_commands()
    assert warning.id == "airlock.W001" and f"manage.py {command} is the command of 'django_tenants'" in warning.msg
    monkeypatch.setattr(
        management,
        "load_command_class",
        lambda app, name: ProjectCommand() if name == command else real_load(app, name),
    )
    assert check_commands() == []
