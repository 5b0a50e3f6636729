"""The flag that lets airlock's own publishes pass Celery interceptors untouched.

:mod:`airlock_celery.integration` replaces ``delay``/``apply_async`` so that
direct calls are buffered by airlock. When airlock's executor itself calls
them to publish a flushed intent, the call must reach Celery instead of
being buffered again (or failing with ``NoScopeError`` after the scope
ended). The executor sets this flag around each publish; the interceptors
read it. Kept in its own module so the executor never imports Celery.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["publishing"]

#: True while airlock's executor publishes an intent.
publishing: ContextVar[bool] = ContextVar("airlock_celery_publishing", default=False)
