"""The ``django_q`` executor: ``async_task(task, *args, **kwargs, **dispatch_options)``.

django-q2's ``async_task`` takes its own options and the task's keyword
arguments through the same ``**kwargs``: a name it knows is an option, any
other name goes to the task. Two mistakes are therefore silent there and the
executor turns both into a ``TypeError`` at flush time, before anything is
queued:

- a dispatch option django-q2 does not know (``countdown``, ``queue``) would
  be handed to the task as a keyword argument, failing later in a worker;
- a task keyword argument named like an option (``timeout``, ``group``,
  ``hook``) would be taken as that option and never reach the task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airlock import Intent

__all__ = ["ASYNC_TASK_OPTIONS", "django_q_executor"]

#: The options ``django_q.tasks.async_task`` accepts, as ``dispatch_options``.
ASYNC_TASK_OPTIONS = frozenset(
    {
        "task_name",
        "hook",
        "group",
        "save",
        "sync",
        "cached",
        "ack_failure",
        "iter_count",
        "iter_cached",
        "chain",
        "broker",
        "cluster",
        "timeout",
        "q_options",
    }
)

# Options from other backends people bring along, and what to do instead.
_HINTS = {
    "countdown": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "eta": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "delay": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "queue": "use 'cluster', a cluster name from Q_CLUSTER['ALT_CLUSTERS']",
    "name": "use 'task_name'",
}

_async_task: Callable[..., Any] | None = None


def django_q_executor(intent: Intent) -> Any:
    """Queue ``intent`` with django-q2; return what ``async_task`` returns.

    That is the task id, or the result when ``sync=True`` runs it inline.
    ``dispatch_options`` are passed as ``async_task`` options (see
    :data:`ASYNC_TASK_OPTIONS`); ``q_options``, a dict of those same options,
    is accepted too. Raises ``TypeError`` for an unknown option and for a
    task keyword argument that django-q2 would take as an option. django-q2
    is imported on the first call, so Django must be configured by then.
    Broker errors (``django.db.OperationalError`` for the ORM broker,
    ``redis.ConnectionError``, ...) propagate unchanged.
    """
    kwargs, options = intent.kwargs, intent.dispatch_options
    if options:
        _check_options(intent, options)
    if kwargs and not ASYNC_TASK_OPTIONS.isdisjoint(kwargs):
        _reject_shadowed_kwargs(intent, kwargs)
    async_task = _async_task or _load_async_task()
    if options:
        return async_task(intent.task, *intent.args, **kwargs, **options)
    return async_task(intent.task, *intent.args, **kwargs)


def _load_async_task() -> Callable[..., Any]:
    global _async_task
    from django_q.tasks import async_task

    _async_task = async_task
    return async_task


def _check_options(intent: Intent, options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - ASYNC_TASK_OPTIONS)
    shown = [repr(name) for name in unknown]
    nested = options.get("q_options")
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise TypeError(
                f"airlock django_q executor: dispatch option 'q_options' of task {intent.name!r} must be a dict "
                f"of async_task options, got {type(nested).__name__}."
            )
        inner = sorted(set(nested) - ASYNC_TASK_OPTIONS)
        unknown += inner
        shown += [f"q_options[{name!r}]" for name in inner]
    if not unknown:
        return
    hints = "".join(f" For {name!r}: {_HINTS[name]}." for name in dict.fromkeys(unknown) if name in _HINTS)
    raise TypeError(
        f"airlock django_q executor: django-q2's async_task() does not accept the dispatch option(s) "
        f"{', '.join(shown)} for task {intent.name!r}; it would pass them to the task as keyword arguments. "
        f"Accepted: {', '.join(sorted(ASYNC_TASK_OPTIONS))}.{hints}"
    )


def _reject_shadowed_kwargs(intent: Intent, kwargs: Mapping[str, Any]) -> None:
    shadowed = sorted(ASYNC_TASK_OPTIONS.intersection(kwargs))
    raise TypeError(
        f"airlock django_q executor: task {intent.name!r} has keyword argument(s) "
        f"{', '.join(map(repr, shadowed))}, which django-q2's async_task() takes as its own option(s): the task "
        f"would never receive them. Rename the task's parameter(s), or pass the value positionally."
    )
