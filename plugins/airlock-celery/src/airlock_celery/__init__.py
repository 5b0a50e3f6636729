"""airlock-celery: the ``celery`` executor and the Celery integration for airlock.

``airlock.scope(executor="celery")`` publishes each intent with the task's
``apply_async(args=, kwargs=, **dispatch_options)`` (else ``delay``, else a
plain call). A whole flush goes over one producer of the task's app, in
bounded, pipelined chunks (see :class:`CeleryExecutor`).

The integration for code that still calls ``.delay()`` directly lives in
:mod:`airlock_celery.integration` (``LegacyTaskShim``,
``install_global_intercept``), imported only when used.
"""

from .executor import DEFAULT_CHUNK_SIZE, DEFAULT_FIRST_CHUNK_SIZE, CeleryExecutor, celery_executor

__all__ = ["CeleryExecutor", "celery_executor", "DEFAULT_CHUNK_SIZE", "DEFAULT_FIRST_CHUNK_SIZE"]
