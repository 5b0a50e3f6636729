"""An ``async def`` task handed to an executor that does not await it.

Calling it only makes a coroutine, so its body never runs: every executor of
the core refuses that result as a failure rather than report it dispatched,
and ``enqueue()`` refuses a coroutine object (the function called by mistake).
"""

from __future__ import annotations

import warnings

import pytest

import airlock
from airlock.executors.threads import ThreadsExecutor

sent: list[int] = []


async def send_email(user_id: int) -> None:
    sent.append(user_id)


@pytest.fixture(autouse=True)
def no_never_awaited_warning():
    """The refused coroutine is closed: Python must not warn that it was never awaited."""
    sent.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize(
    "scope_kwargs",
    [
        {},  # the plain sync flush
        {"fail_fast": False},  # the flush through dispatch(), sync executor inlined there
        {"executor": "sync", "policy": airlock.LogOnFlush()},
    ],
    ids=["plain", "dispatch", "policy"],
)
def test_the_sync_executor_reports_an_async_task_failed(scope_kwargs) -> None:
    policy = scope_kwargs.pop("policy", None)
    with pytest.raises((TypeError, airlock.FlushFailed)), airlock.scope(policy, **scope_kwargs) as scope:
        airlock.enqueue(send_email, 1)
    assert sent == []
    [(intent, error)] = scope.report.failed
    assert intent.task is send_email and isinstance(error, TypeError)
    assert "send_email returned a coroutine" in str(error) and "the sync executor" in str(error)


def test_the_threads_executor_reports_an_async_task_failed() -> None:
    pool = ThreadsExecutor(max_workers=1)
    try:
        with airlock.scope(executor=pool) as scope:
            airlock.enqueue(send_email, 2)
        pool.shutdown(wait=True)
    finally:
        pool.shutdown()
    assert sent == []
    assert scope.report.complete
    [(intent, error)] = scope.report.failed
    assert intent.task is send_email
    assert isinstance(error, TypeError) and "the threads executor" in str(error)


def test_enqueue_refuses_a_coroutine_object() -> None:
    coroutine = send_email(3)
    try:
        with airlock.scope(), pytest.raises(TypeError, match="needs a callable or a task object, got <coroutine"):
            airlock.enqueue(coroutine)
    finally:
        coroutine.close()


def test_a_task_returning_another_awaitable_is_dispatched_as_before() -> None:
    """Only a coroutine means "the body never ran": a task that started an
    asyncio Task (and returns it) did its work."""
    import asyncio

    async def main() -> None:
        with airlock.scope() as scope:
            airlock.enqueue(lambda: asyncio.ensure_future(send_email(4)))
        assert scope.report.ok
        await asyncio.sleep(0)

    asyncio.run(main())
    assert sent == [4]
