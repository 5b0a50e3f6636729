"""``@airlock.scoped()`` on Celery tasks and ``LegacyTaskShim``, on a real worker.

"Discarded" is checked without waiting for something not to happen: one
solo worker runs each queue in FIFO order, so once the tasks published
*after* the failing one have run on both queues, anything the failing one
had published would have run before them. Across the two queues the order
is the worker's choice, so entries are compared sorted.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from airlock_celery.integration import LegacyTaskShim

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class Boom(Exception):
    """Raised by the failing tasks."""


def register(backend: Any) -> None:
    record = backend.record

    @backend.task()
    @airlock.scoped(executor="celery")
    def scoped_parent(key: str, tag: str, fail: bool) -> None:
        airlock.enqueue(record, key, tag, 1)
        airlock.enqueue(record, key, tag, 2, _dispatch_options={"queue": backend.other_queue})
        if fail:
            raise Boom(tag)

    @backend.task(base=LegacyTaskShim, bind=True)
    def legacy(task: Any, key: str, *args: Any, **kwargs: Any) -> None:
        backend.write(task, key, args, kwargs)

    def flaky(name: str, **options: Any) -> Any:
        """A scoped task that fails its first attempt with ``self.retry()``; each attempt enqueues a side effect."""

        def body(task: Any, key: str) -> None:
            attempt = task.request.retries
            backend.write(task, key, ("attempt", attempt), {})  # written directly: counts the runs
            airlock.enqueue(record, key, "side effect", attempt)
            if attempt == 0:
                raise task.retry(countdown=0)

        body.__name__ = name
        return backend.task(bind=True, **options)(airlock.scoped(executor="celery")(body))

    @backend.task(base=LegacyTaskShim, bind=True)
    @airlock.scoped(executor="celery")
    def legacy_replaced(task: Any, key: str) -> None:
        """Replaces itself with the shim task ``legacy``, whose ``apply_async`` enqueues."""
        backend.write(task, key, ("replaced",), {})
        raise task.replace(legacy.si(key, "replacement"))

    backend.scoped_parent = scoped_parent
    backend.legacy_replaced = legacy_replaced
    backend.scoped_flaky = flaky("scoped_flaky")
    backend.legacy_flaky = flaky("legacy_flaky", base=LegacyTaskShim)
    backend.legacy = legacy


@pytest.fixture(scope="module")
def backend(redis_worker_with):  # type: ignore[no-untyped-def]
    return redis_worker_with(register)


def summary(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(args..., kwargs, queue) of each execution, sorted."""
    return sorted(((*e["args"], e["kwargs"], e["queue"]) for e in entries), key=repr)


def test_scoped_task_flushes_when_it_returns_and_discards_when_it_raises(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    backend.scoped_parent.delay(log.key, "failed", True)
    backend.scoped_parent.delay(log.key, "ok", False)
    assert summary(log.wait_for(2)) == sorted(
        [("ok", 1, {}, backend.queue), ("ok", 2, {}, backend.other_queue)], key=repr
    )


@pytest.mark.parametrize("task_name", ["scoped_flaky", "legacy_flaky"])
def test_a_retried_scoped_task_runs_again_and_only_its_successful_attempt_publishes(backend, task_name: str) -> None:  # type: ignore[no-untyped-def]
    """Under ``LegacyTaskShim`` the retry goes through its ``apply_async``: it must reach the broker, not the scope."""
    log = backend.log()
    with airlock.scope(executor="celery"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # legacy_flaky.delay() warns; tested below
        getattr(backend, task_name).delay(log.key)
    # One queue, one solo worker, FIFO: the first attempt's side effect, had it
    # been published, would have been queued before the second attempt's.
    entries = log.wait_for(3)
    assert [e["args"] for e in entries] == [["attempt", 0], ["attempt", 1], ["side effect", 1]]


def test_a_replaced_legacy_task_publishes_its_replacement(backend) -> None:  # type: ignore[no-untyped-def]
    """Celery's ``replace()`` publishes the replacement, then raises ``Ignore``,
    which discards the task's scope: the replacement must reach the broker, not that scope."""
    log = backend.log()
    with airlock.scope(executor="celery"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        backend.legacy_replaced.delay(log.key)
    assert [e["args"] for e in log.wait_for(2)] == [["replaced"], ["replacement"]]


def test_legacy_shim_enqueues_through_airlock_and_publishes_at_flush(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with airlock.scope(executor="celery") as scope:
        with pytest.warns(DeprecationWarning, match="legacy.delay"):
            assert backend.legacy.delay(log.key, "a") is None
        with pytest.warns(DeprecationWarning, match="legacy.apply_async"):
            backend.legacy.apply_async((log.key, "b"), {"k": 1}, queue=backend.other_queue)
        assert len(scope.intents) == 2  # buffered, not published yet
    assert summary(log.wait_for(2)) == sorted(
        [("a", {}, backend.queue), ("b", {"k": 1}, backend.other_queue)], key=repr
    )
    with pytest.raises(airlock.NoScopeError), pytest.warns(DeprecationWarning):
        backend.legacy.delay(log.key, "outside a scope")
