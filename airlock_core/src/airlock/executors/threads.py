"""The ``threads`` executor: run tasks on a bounded pool of worker threads."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import copy_context
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from .. import _context
from ..intent import Intent
from .sync import refuse_coroutine

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


def _positive_int(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(
            f"ThreadsExecutor({name}=...) must be a positive integer (or None for the default), got {value!r}"
        )
    return value


def _clear_airlock_state() -> None:
    """Run inside a task's copied context: it starts outside any scope or policy."""
    _context.current_scope.set(None)
    _context.in_policy.set(False)
    _context.policy_stack.set(())


class _Pool:
    """One started pool with its slots; replaced as a whole, so a reader never mixes two."""

    __slots__ = ("executor", "slots", "workers")

    def __init__(self, max_workers: int, max_pending: int) -> None:
        self.workers: set[int] = set()  # thread idents of this pool's workers
        self.slots = threading.BoundedSemaphore(max_pending)
        self.executor = ThreadPoolExecutor(
            max_workers, thread_name_prefix="airlock-threads", initializer=self._note_worker
        )

    def _note_worker(self) -> None:
        self.workers.add(threading.get_ident())


class ThreadsExecutor:
    """Runs each intent's task on a pool of at most ``max_workers`` threads.

    At most ``max_pending`` tasks wait or run at once; submitting more blocks
    the flushing thread until a slot frees (back-pressure instead of an
    unbounded queue). A task running on the pool that flushes more work onto
    it never blocks (it would wait on itself): its submissions go past the
    bound. Work submitted before interpreter exit is completed before the
    interpreter exits; what is submitted while it exits (a task's follow-up
    work, an ``atexit`` flush) runs inline in the submitting thread.

    Each task runs in a copy of the flushing thread's context (as
    ``asyncio.to_thread`` does), outside any airlock scope or local policy:
    it sees the context variables the flush saw, and what it sets stays its
    own. A task that raises is logged on logger ``airlock.executors.threads``
    with its intent and traceback and recorded as failed in the flush
    report, whose ``airlock_after_flush`` hook runs once all of the flush's
    tasks finished (on a worker thread).

    Defaults come from ``AIRLOCK_THREADS_MAX_WORKERS`` (else 4) and
    ``AIRLOCK_THREADS_MAX_PENDING`` (else 100 times the workers); both must
    be positive integers. The pool starts on first use.
    """

    def __init__(self, max_workers: int | None = None, max_pending: int | None = None) -> None:
        self._max_workers = _positive_int("max_workers", max_workers)
        self._max_pending = _positive_int("max_pending", max_pending)
        self._pool: _Pool | None = None
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

    def _started(self) -> _Pool:
        pool = self._pool
        if pool is not None:
            return pool
        with self._start_lock:
            if self._pool is None:
                self._pool = _Pool(self.max_workers, self.max_pending)
            return self._pool

    def __call__(self, intent: Intent) -> Future[Any]:
        """Submit the intent's task; returns its ``Future``."""
        report: FlushReport | None = getattr(self._flushing, "report", None)
        context = copy_context()
        context.run(_clear_airlock_state)
        for attempt in (1, 2):  # once more if shutdown() stopped the pool meanwhile
            pool = self._started()
            # back-pressure; blocks while max_pending tasks wait or run, unless this is one of them
            took_slot = pool.slots.acquire(blocking=threading.get_ident() not in pool.workers)
            release = report.hold() if report is not None else None
            try:
                future = pool.executor.submit(context.run, _call_task, intent[0], intent[1], intent[2])
            except BaseException as error:
                if took_slot:
                    pool.slots.release()
                if release is not None:
                    release(intent, None)
                if not isinstance(error, RuntimeError):
                    raise
                if _interpreter_exiting():
                    done = self._done_callback(intent, None, report.hold() if report is not None else None)
                    return _run_inline(context, intent, done)
                if self._pool is pool or attempt == 2:  # not a shutdown() racing this submit
                    raise
                continue
            future.add_done_callback(self._done_callback(intent, pool.slots if took_slot else None, release))
            return future
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _done_callback(
        intent: Intent,
        slots: threading.BoundedSemaphore | None,
        release: Callable[[Intent, BaseException | None], None] | None,
    ) -> Callable[[Future[Any]], None]:
        def done(future: Future[Any]) -> None:
            if slots is not None:
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
            pool.executor.shutdown(wait=wait)

    def __repr__(self) -> str:
        return f"ThreadsExecutor(max_workers={self.max_workers}, max_pending={self.max_pending})"


def _interpreter_exiting() -> bool:
    """True once ``concurrent.futures`` refuses new work because the interpreter exits."""
    from concurrent.futures import thread

    return bool(getattr(thread, "_shutdown", False))


def _call_task(task: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What a worker thread runs: the task; a coroutine it returns is refused (nothing would run it)."""
    result = task(*args, **kwargs)
    if type(result) is CoroutineType:
        refuse_coroutine(result, task, "threads")
    return result


def _run_inline(context: Any, intent: Intent, done: Callable[[Future[Any]], None]) -> Future[Any]:
    """Run the task now in this thread (the pool is gone at interpreter exit),
    then ``done`` as if the pool had run it; returns the finished Future."""
    future: Future[Any] = Future()
    try:
        future.set_result(context.run(_call_task, intent[0], intent[1], intent[2]))
    except Exception as error:
        future.set_exception(error)
    done(future)
    return future


#: The shared instance selected by ``executor="threads"``.
threads_executor = ThreadsExecutor()
