"""Tasks the cluster runs: each records its execution as a row of ``airlock_run``."""

import json
import os

from django.db import connection


def record(label, *args, **kwargs):
    """Insert one row: the label, the arguments as received, and the running process."""
    with connection.cursor() as cursor:
        cursor.execute(
            "insert into airlock_run (label, args, kwargs, pid) values (%s, %s, %s, %s)",
            [label, json.dumps(args), json.dumps(kwargs, sort_keys=True), os.getpid()],
        )


def record_hook(task):
    """A django-q result hook: records that it ran, for which task, and the task's outcome."""
    record(f"hook:{task.name}", task.success)
