"""airlock-retry: retry a failed dispatch with backoff, jitter and a cap on waiting.

Two ways in:

- the hook plugin (installed with the distribution, entry point ``retry``),
  enabled by the option ``retry_attempts`` per intent, per scope or globally::

      airlock.configure(retry_attempts=4, retry_on=["ConnectionError", "redis.ConnectionError"])

- :func:`with_retry`, which wraps one executor: ``with_retry(celery_executor, retries=3)``.
"""

from __future__ import annotations

from ._compose import RetryingExecutor, with_retry
from ._policy import DEFAULT_RETRY_ON, RetryPolicy
from ._types import exception_types

__all__ = ["DEFAULT_RETRY_ON", "RetryPolicy", "RetryingExecutor", "exception_types", "with_retry"]
