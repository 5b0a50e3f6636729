"""``with_retry(executor)``: retries as a plain executor, without the hook plugin."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from ._policy import DEFAULT_RETRY_ON, RetryPolicy
from ._types import ExceptionSpec

if TYPE_CHECKING:
    from airlock import Executor, FlushReport, Intent

__all__ = ["RetryingExecutor", "with_retry"]


class RetryingExecutor:
    """An executor that calls ``executor`` again when it fails; see :func:`with_retry`.

    It offers ``flush_context(report)``, so the core hands it each flush's
    report (failed attempts are recorded there) and it enters the wrapped
    executor's own flush context, if any, so batching keeps working.
    """

    def __init__(self, executor: Executor, policy: RetryPolicy) -> None:
        self.executor = executor
        self.policy = policy
        self._flush = threading.local()

    def __call__(self, intent: Intent) -> Any:
        report: FlushReport | None = getattr(self._flush, "report", None)
        record = None if report is None else (lambda exc: report.record_attempt(intent, exc))
        return self.policy.call(self.executor, intent, record=record)

    @contextmanager
    def flush_context(self, report: FlushReport) -> Iterator[None]:
        """Record attempts in ``report`` while the wrapped executor's context is open."""
        previous = getattr(self._flush, "report", None)
        self._flush.report = report
        try:
            with ExitStack() as stack:
                inner = getattr(self.executor, "flush_context", None)
                if inner is not None:
                    stack.enter_context(inner(report))
                yield
        finally:
            self._flush.report = previous

    def __repr__(self) -> str:
        return f"with_retry({self.executor!r}, {self.policy!r})"


def with_retry(
    executor: Executor,
    retries: int = 3,
    *,
    backoff: float = 0.1,
    max_delay: float = 5.0,
    retry_on: ExceptionSpec | Iterable[ExceptionSpec] = DEFAULT_RETRY_ON,
) -> RetryingExecutor:
    """Wrap ``executor`` so a failed dispatch is tried again.

    :param executor: any executor (a callable taking an Intent).
    :param retries: attempts in total, the first included, as in airlock-py's
        documentation example ``with_retry(celery_executor, retries=3)``.
    :param backoff: seconds before the first retry; doubled each time, jittered.
    :param max_delay: cap on the seconds spent waiting, all retries together.
    :param retry_on: what is worth another attempt; default connection and
        timeout errors (a task that raised ``ValueError`` is not run twice).

    Use it as any executor: ``airlock.scope(executor=with_retry(fn))``. The
    final error propagates unchanged in type with ``airlock_attempts``.
    Raises ``ValueError`` now for a bad argument.
    """
    if not callable(executor):
        raise TypeError(f"with_retry() needs an executor (a callable taking an Intent), got {executor!r}")
    return RetryingExecutor(executor, RetryPolicy(retries, backoff, max_delay, retry_on))
