"""The flag that lets a publish pass Celery interceptors untouched.

:mod:`airlock_celery.integration` replaces ``delay``/``apply_async`` so that
direct calls are buffered by airlock. Three callers must reach Celery instead:

- airlock's executor publishing a flushed intent (buffering it again would
  lose it, or fail with ``NoScopeError`` after the scope ended);
- Celery's ``Task.retry()`` re-publishing the running task: the attempt
  then raises ``Retry``, so its scope discards what it buffered, and a
  buffered retry would vanish with it;
- Celery's ``Task.on_replace()`` (called by ``Task.replace()``) publishing
  the replacement: it then raises ``Ignore``, with the same effect.

Each opens a pass around its call (:func:`pass_through`); the
interceptors ask :func:`passes`. A pass belongs to the run of a Celery task
that was going on (or none) when it was opened: under ``task_always_eager``
Celery runs the published task right inside ``apply_async``, as a new run
(a new request, even of the same task), and that run's own calls must be
intercepted again. Kept in its own module so the executor does not import
Celery until it publishes.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

__all__ = ["pass_through", "passes", "publishing"]

#: The pass airlock's executor, Celery's retry or its replace opened: ``(the run going on then,)``, else None.
publishing: ContextVar[tuple[Any] | None] = ContextVar("airlock_celery_publishing", default=None)

_current_task: Any = None  # celery._state.get_current_task, imported on first use


def _running() -> Any:
    """The request of the Celery task running here (each run has its own), or None."""
    global _current_task
    if _current_task is None:
        from celery._state import get_current_task

        _current_task = get_current_task
    task = _current_task()
    return None if task is None else task.request_stack.top


def pass_through() -> Token[tuple[Any] | None]:
    """Let the calls made from here on reach Celery (reset the returned token to end it)."""
    return publishing.set((_running(),))


def passes() -> bool:
    """True when a call must reach Celery: a pass is open and no task run that
    Celery started since (an eager task body) is going on."""
    opened = publishing.get()
    return opened is not None and opened[0] is _running()
