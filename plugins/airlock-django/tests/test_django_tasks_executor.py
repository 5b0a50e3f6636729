"""The django_tasks executor, with django.tasks (Django 6) or the django-tasks backport.

Most tests hand it Intents directly; one goes through ``airlock.enqueue()``,
which accepts Task objects although they are not callable.
"""

from __future__ import annotations

import django
import pytest
from airlock_django import django_tasks_executor
from airlock_django_testproject.models import Thing
from airlock_django_testproject.task_objects import note_on_dummy, note_task, visible_task
from airlock_django_testproject.tasks import note

import airlock
from airlock.integrations.executors.django_tasks import django_tasks_executor as compatible

if django.VERSION >= (6, 0):  # the same choice as conftest.TASKS_PACKAGE
    from django.tasks import TaskResult, task_backends
else:
    from django_tasks import TaskResult, task_backends


@pytest.fixture
def dummy_backend():
    backend = task_backends["dummy"]
    backend.clear()
    yield backend
    backend.clear()


def test_selected_by_name_and_compatible_path():
    assert airlock.resolve_executor("django_tasks") is django_tasks_executor
    assert compatible is django_tasks_executor


@pytest.mark.usefixtures("real_commits")
def test_task_is_enqueued_and_runs(alias, probe):
    """The default backend (ImmediateBackend) runs the task as it is enqueued."""
    Thing.objects.using(alias).create(name="task-row")
    django_tasks_executor(airlock.Intent(visible_task, (alias, "task-row")))

    assert probe == [("task-row", True)]


@pytest.mark.usefixtures("real_commits")
def test_a_task_object_enqueued_in_a_request_scope_runs_after_commit(alias, probe):
    from django.db import transaction

    with airlock.scope(using=alias, executor="django_tasks"), transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name="via-enqueue")
        airlock.enqueue(visible_task, alias, "via-enqueue")
        assert probe == []
    assert probe == [("via-enqueue", True)]


def test_without_options_enqueue_on_the_task_s_own_backend(dummy_backend):
    django_tasks_executor(airlock.Intent(note_on_dummy, ("x",), {}))

    [result] = dummy_backend.results
    assert isinstance(result, TaskResult)  # of the framework this Django provides
    assert result.task.func is note_on_dummy.func and result.args == ["x"]


def test_dispatch_options_go_through_using(dummy_backend):
    options = {"backend": "dummy", "priority": 7, "queue_name": "q1"}
    django_tasks_executor(airlock.Intent(note_task, ("later",), {}, dispatch_options=options))

    [result] = dummy_backend.results
    assert (result.task.backend, result.task.priority, result.task.queue_name) == ("dummy", 7, "q1")
    assert result.args == ["later"]


def test_plain_callable_is_called(probe):
    with airlock.scope(executor="django_tasks"):
        airlock.enqueue(note, "plain")
    assert probe == [("plain", True)]
