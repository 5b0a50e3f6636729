"""``django_tasks_executor``: dispatch through Django's tasks framework.

Django 6 ships it as ``django.tasks``; on older Django the ``django-tasks``
backport (``pip install "airlock-django[tasks]"``) provides the same API.
Nothing is imported from either: a task is recognised by its ``enqueue``
method, so both work, and a plain callable is simply called.
"""

from __future__ import annotations

from airlock import Intent

__all__ = ["django_tasks_executor"]


def django_tasks_executor(intent: Intent) -> None:
    """Enqueue a Django task, or call a plain callable.

    With ``dispatch_options`` the task is reconfigured first,
    ``task.using(**options).enqueue(*args, **kwargs)``; the options are those
    of ``Task.using``: ``priority``, ``queue_name``, ``run_after``,
    ``backend``. Without options: ``task.enqueue(*args, **kwargs)``. An
    object without ``enqueue`` is called: ``task(*args, **kwargs)``.
    """
    task = intent.task
    enqueue = getattr(task, "enqueue", None)
    if enqueue is None:
        task(*intent.args, **intent.kwargs)
        return
    options = intent.dispatch_options
    if options:
        enqueue = task.using(**options).enqueue
    enqueue(*intent.args, **intent.kwargs)
