"""A data migration whose rows' creation enqueues a side effect, as a model's save() would."""

from django.db import migrations

import airlock


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from airlock_django_testproject.tasks import note

    Backfilled = apps.get_model("migrating_app", "Backfilled")
    for name in ("first", "second"):
        Backfilled.objects.using(schema_editor.connection.alias).create(name=name)
        airlock.enqueue(note, f"backfilled {name}")  # must never escape a migration


class Migration(migrations.Migration):
    dependencies = [("migrating_app", "0001_initial")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
