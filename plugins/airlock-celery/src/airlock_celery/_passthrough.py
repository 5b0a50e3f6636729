"""The flag that lets a publish pass Celery interceptors untouched.

:mod:`airlock_celery.integration` replaces ``delay``/``apply_async`` so that
direct calls are buffered by airlock. Two callers must reach Celery instead:

- airlock's executor publishing a flushed intent (buffering it again would
  lose it, or fail with ``NoScopeError`` after the scope ended);
- Celery's ``Task.retry()`` re-publishing the running task: the attempt
  then raises ``Retry``, so its scope discards what it buffered, and a
  buffered retry would vanish with it.

Both set this flag around their call; the interceptors read it, and the
``apply_async`` that lets the publish through clears it again for what
Celery runs inside (under ``task_always_eager``, the task itself, whose own
calls must be intercepted). Kept in its own module so the executor never
imports Celery.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["publishing"]

#: True while airlock's executor publishes an intent or Celery publishes a retry.
publishing: ContextVar[bool] = ContextVar("airlock_celery_publishing", default=False)
