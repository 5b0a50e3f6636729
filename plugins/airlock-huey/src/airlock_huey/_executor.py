"""The ``huey`` executor: hand each intent to Huey's queue.

A Huey task (the wrapper ``@huey.task()`` returns) is enqueued with the
intent's args and kwargs and its ``dispatch_options`` as Huey's scheduling
options. Anything else that has a ``schedule`` method gets airlock-py's call,
``schedule(args=, kwargs=, **dispatch_options)``; a plain callable is called.

Huey's ``schedule()`` insists on ``eta`` or ``delay``: given neither it raises
``ValueError``. So an intent that carries neither is enqueued for immediate
execution instead, with the same options ``schedule()`` would have applied
(``priority``, ``retries``, ``id``, ...). That is what ``task(*args,
**kwargs)`` does in Huey, minus its one trap: a task keyword argument named
like an option (``priority=``, ``id=``, ``timeout=``) reaches the task here
instead of being taken as an option.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from airlock import Intent

__all__ = ["huey_executor"]

# Options of ``schedule()`` that are not scheduling options.
_PAYLOAD = frozenset({"args", "kwargs"})
# Either one makes an intent a scheduled (not immediate) one.
_WHEN = ("eta", "delay")
# Options from other backends people bring along, and Huey's word for them.
_HINTS = {"countdown": "delay", "queue": "a separate Huey instance (a task belongs to one)"}

_accepted_cache: dict[type, frozenset[str] | None] = {}


def huey_executor(intent: Intent) -> Any:
    """Enqueue ``intent`` on its Huey task's queue; return Huey's result handle.

    - With ``eta`` or ``delay`` in ``dispatch_options``:
      ``task.schedule(args=, kwargs=, **dispatch_options)``, as airlock-py did.
    - Without them, on a Huey task: enqueued to run as soon as a consumer is
      free, with the remaining options (``priority``, ``retries``,
      ``retry_delay``, ``expires``, ``timeout``, ``id``) applied.
    - On an object with ``schedule`` that is not a Huey task:
      ``schedule(args=, kwargs=, **dispatch_options)``.
    - On a plain callable: ``task(*args, **kwargs)``; options ignored.

    Raises ``TypeError`` naming the option and the accepted ones when a
    dispatch option is not one of Huey's, before anything is enqueued.
    Errors from Huey or its storage (``redis.ConnectionError``,
    ``sqlite3.OperationalError``) propagate unchanged.
    """
    task, args, kwargs, options = intent.task, intent.args, intent.kwargs, intent.dispatch_options
    schedule = getattr(task, "schedule", None)
    if schedule is None:
        return task(*args, **kwargs)
    options = options or {}
    if options:
        _check_options(intent, schedule, options)
    task_class = getattr(task, "task_class", None)
    if task_class is None or any(options.get(key) is not None for key in _WHEN):
        return schedule(args=args, kwargs=kwargs, **options)
    now = {key: value for key, value in options.items() if key not in _WHEN}
    return task.huey.enqueue(task_class(args, kwargs, **now))


def _check_options(intent: Intent, schedule: Any, options: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for a dispatch option Huey's ``schedule()`` does not take."""
    accepted = _accepted(intent.task, schedule)
    if accepted is None:
        return  # schedule() takes **kwargs: it decides for itself
    unknown = sorted(set(options) - accepted)
    if not unknown:
        return
    hints = "".join(f" For {name!r} use {_HINTS[name]}." for name in unknown if name in _HINTS)
    raise TypeError(
        f"airlock huey executor: Huey does not accept the dispatch option(s) {', '.join(map(repr, unknown))} "
        f"for task {_label(intent)!r}. Accepted: {', '.join(sorted(accepted))}.{hints}"
    )


def _label(intent: Intent) -> str:
    """The name Huey knows the task by (``Intent.name`` of a Huey wrapper is its repr)."""
    task_class = getattr(intent.task, "task_class", None)
    return task_class.__name__ if task_class is not None else intent.name


def _accepted(task: Any, schedule: Any) -> frozenset[str] | None:
    """The keyword options ``schedule`` takes, or None when it takes any keyword.

    Cached per class when ``schedule`` is a method of the task's class
    (always, for Huey's task wrappers).
    """
    owner = type(task)
    per_class = "schedule" not in getattr(task, "__dict__", ())
    if per_class and owner in _accepted_cache:
        return _accepted_cache[owner]
    parameters = inspect.signature(schedule).parameters.values()
    found: frozenset[str] | None = None
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        found = frozenset(p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL) - _PAYLOAD
    if per_class:
        _accepted_cache[owner] = found
    return found
