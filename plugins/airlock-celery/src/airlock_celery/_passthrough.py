"""The flag that lets a publish pass Celery interceptors untouched.

:mod:`airlock_celery.integration` replaces ``delay``/``apply_async`` so that
direct calls are buffered by airlock. Two callers must reach Celery instead:

- airlock's executor publishing a flushed intent (buffering it again would
  lose it, or fail with ``NoScopeError`` after the scope ended);
- Celery's ``Task.retry()`` re-publishing the running task: the attempt
  then raises ``Retry``, so its scope discards what it buffered, and a
  buffered retry would vanish with it.

Both open a pass around their call (:func:`pass_through`); the
interceptors ask :func:`passes`. A pass belongs to the Celery task that was
running (or none) when it was opened: under ``task_always_eager`` Celery runs
the published task right inside ``apply_async``, as the current task, and that
task's own calls must be intercepted again. Kept in its own module so the
executor does not import Celery until it publishes.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

__all__ = ["pass_through", "passes", "publishing"]

#: The pass airlock's executor or Celery's retry opened: ``(task running then,)``, else None.
publishing: ContextVar[tuple[Any] | None] = ContextVar("airlock_celery_publishing", default=None)


def _running_task() -> Any:
    from celery._state import get_current_task

    return get_current_task()


def pass_through() -> Token[tuple[Any] | None]:
    """Let the calls made from here on reach Celery (reset the returned token to end it)."""
    return publishing.set((_running_task(),))


def passes() -> bool:
    """True when a call must reach Celery: a pass is open and no task Celery
    started since (an eager task body) is running."""
    opened = publishing.get()
    return opened is not None and opened[0] is _running_task()
