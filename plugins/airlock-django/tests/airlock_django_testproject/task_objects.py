"""Django ``Task`` objects around the test project's tasks.

From Django 6's built-in framework when it has one, else from the
django-tasks backport (as ``conftest.TASKS_PACKAGE`` chooses). Django 6
requires a task to be defined at module level under its own name, so each
is a decorated function here rather than ``task()(func)`` in a test.
"""

from __future__ import annotations

import django

from .tasks import note, record_visible

if django.VERSION >= (6, 0):
    from django.tasks import task
else:
    from django_tasks import task


@task()
def visible_task(alias: str, name: str) -> None:
    """:func:`record_visible` on the default backend (runs at once)."""
    record_visible(alias, name)


@task()
def note_task(name: str) -> None:
    """:func:`note` on the default backend."""
    note(name)


@task(backend="dummy")
def note_on_dummy(name: str) -> None:
    """:func:`note` on the ``dummy`` backend, which only keeps the results."""
    note(name)
