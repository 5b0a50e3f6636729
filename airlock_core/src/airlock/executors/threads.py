"""The ``threads`` executor: run tasks on a bounded pool of worker threads."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..intent import Intent

if TYPE_CHECKING:
    from ..report import FlushReport

__all__ = ["ThreadsExecutor", "threads_executor"]

logger = logging.getLogger("airlock.executors.threads")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


class ThreadsExecutor:
    """Runs each intent's task on a pool of at most ``max_workers`` threads.

    At most ``max_pending`` tasks wait or run at once; submitting more blocks
    the flushing thread until a slot frees (back-pressure instead of an
    unbounded queue). Work submitted before interpreter exit is completed
    before the interpreter exits. A task that raises is logged on logger
    ``airlock.executors.threads`` with its intent and traceback and recorded
    as failed in the flush report, whose ``airlock_after_flush`` hook runs
    once all of the flush's tasks finished (on a worker thread).

    Defaults come from ``AIRLOCK_THREADS_MAX_WORKERS`` (else 4) and
    ``AIRLOCK_THREADS_MAX_PENDING`` (else 100 times the workers). The pool starts on
    first use.
    """

    def __init__(self, max_workers: int | None = None, max_pending: int | None = None) -> None:
        self._max_workers = max_workers
        self._max_pending = max_pending
        self._pool: ThreadPoolExecutor | None = None
        self._slots: threading.BoundedSemaphore | None = None
        self._start_lock = threading.Lock()
        self._flushing = threading.local()

    @property
    def max_workers(self) -> int:
        """The pool size."""
        return self._max_workers or _env_int("AIRLOCK_THREADS_MAX_WORKERS", 4)

    @property
    def max_pending(self) -> int:
        """How many tasks may wait or run before submitting blocks."""
        return self._max_pending or _env_int("AIRLOCK_THREADS_MAX_PENDING", 100 * self.max_workers)

    def _start(self) -> tuple[ThreadPoolExecutor, threading.BoundedSemaphore]:
        with self._start_lock:
            if self._pool is None:
                self._slots = threading.BoundedSemaphore(self.max_pending)
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="airlock-threads")
        assert self._slots is not None
        return self._pool, self._slots

    def __call__(self, intent: Intent) -> Future[Any]:
        """Submit the intent's task; returns its ``Future``."""
        pool, slots = self._pool, self._slots
        if pool is None or slots is None:
            pool, slots = self._start()
        report: FlushReport | None = getattr(self._flushing, "report", None)
        slots.acquire()  # back-pressure; blocks while max_pending tasks wait or run
        release = None
        try:
            release = report.hold() if report is not None else None
            future = pool.submit(intent[0], *intent[1], **intent[2])
        except BaseException:
            slots.release()
            if release is not None:
                release(intent, None)
            raise
        future.add_done_callback(self._done_callback(intent, slots, release))
        return future

    @staticmethod
    def _done_callback(
        intent: Intent,
        slots: threading.BoundedSemaphore,
        release: Callable[[Intent, BaseException | None], None] | None,
    ) -> Callable[[Future[Any]], None]:
        def done(future: Future[Any]) -> None:
            slots.release()
            error = None if future.cancelled() else future.exception()
            if error is not None:
                logger.error(
                    "airlock: %r failed in the threads executor",
                    intent,
                    exc_info=(type(error), error, error.__traceback__),
                )
            if release is not None:
                release(intent, error)

        return done

    @contextmanager
    def flush_context(self, report: FlushReport) -> Iterator[None]:
        """Attach this flush's report to the tasks submitted inside."""
        previous = getattr(self._flushing, "report", None)
        self._flushing.report = report
        try:
            yield
        finally:
            self._flushing.report = previous

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool (it restarts on next use). ``wait`` waits for queued work."""
        with self._start_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait)

    def __repr__(self) -> str:
        return f"ThreadsExecutor(max_workers={self.max_workers}, max_pending={self.max_pending})"


#: The shared instance selected by ``executor="threads"``.
threads_executor = ThreadsExecutor()
