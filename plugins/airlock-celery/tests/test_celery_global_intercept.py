"""``install_global_intercept()`` with a real worker: direct ``.delay()`` calls go through airlock.

The intercept is installed before this module's worker starts (Celery
decides how to call each task when its worker starts) and removed at the
end of the module.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from airlock_celery.integration import install_global_intercept, uninstall_global_intercept
from celery import Celery, Task

import airlock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    # the tasks below call record.delay() on purpose; the worker runs them in this thread
    pytest.mark.filterwarnings(r"ignore:Direct call to .*\.record\.delay\(\) is deprecated:DeprecationWarning"),
]


class Boom(Exception):
    """Raised by the failing task."""


def register(backend: Any) -> None:
    record = backend.record

    @backend.task()
    def parent(key: str, tag: str, fail: bool) -> None:
        record.delay(key, tag, 1)
        record.apply_async((key, tag, 2), {"k": "v"}, queue=backend.other_queue)
        if fail:
            raise Boom(tag)

    @backend.task(bind=True)
    def flaky(task: Any, key: str) -> None:
        """Fails its first attempt with ``self.retry()``; both attempts enqueue a side effect."""
        attempt = task.request.retries
        backend.write(task, key, ("attempt", attempt), {})  # written directly: counts the runs
        record.delay(key, "side effect", attempt)
        if attempt == 0:
            raise task.retry(countdown=0)

    @backend.task(bind=True, autoretry_for=(Boom,), retry_kwargs={"countdown": 0, "max_retries": 1})
    def auto_flaky(task: Any, key: str) -> None:
        """Fails its first attempt with ``Boom``, which Celery's ``autoretry_for`` turns into a retry."""
        attempt = task.request.retries
        backend.write(task, key, ("attempt", attempt), {})
        record.delay(key, "side effect", attempt)
        if attempt == 0:
            raise Boom("first attempt")

    @backend.task(bind=True)
    def replaced(task: Any, key: str) -> None:
        """Replaces itself with ``record``, as Celery's ``self.replace()`` does: publish, then raise ``Ignore``."""
        backend.write(task, key, ("replaced",), {})
        raise task.replace(record.si(key, "replacement"))

    backend.parent = parent
    backend.replaced = replaced
    backend.flaky = flaky
    backend.auto_flaky = auto_flaky


@pytest.fixture(scope="module")
def backend(redis_worker_with) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    airlock.reset_configuration()
    airlock.configure(executor="celery")
    install_global_intercept()
    try:
        yield redis_worker_with(register)
    finally:
        uninstall_global_intercept()
        airlock.reset_configuration()


def summary(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(args..., kwargs, queue) of each execution, sorted (two queues: the worker picks the order)."""
    return sorted(((*e["args"], e["kwargs"], e["queue"]) for e in entries), key=repr)


def test_calls_inside_a_task_are_flushed_when_it_returns_and_discarded_when_it_raises(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with pytest.warns(DeprecationWarning, match=r"parent\.delay\(\) is deprecated"):
        backend.parent.delay(log.key, "failed", True)  # no scope here: published directly
    with pytest.warns(DeprecationWarning, match=r"parent\.apply_async\(\) is deprecated"):
        backend.parent.apply_async((log.key, "ok", False))
    # FIFO per queue: had the failed task's calls been published, they would have run before these.
    expected = [("ok", 1, {}, backend.queue), ("ok", 2, {"k": "v"}, backend.other_queue)]
    assert summary(log.wait_for(2)) == sorted(expected, key=repr)


@pytest.mark.parametrize("task_name", ["flaky", "auto_flaky"])
def test_a_retried_task_runs_again_and_only_the_successful_attempt_publishes(backend, task_name: str) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with pytest.warns(DeprecationWarning):
        getattr(backend, task_name).delay(log.key)
    # One queue, one solo worker, FIFO: the first attempt's side effect, had it
    # been published, would have been queued before the second attempt's.
    entries = log.wait_for(3)
    assert [e["args"] for e in entries] == [["attempt", 0], ["attempt", 1], ["side effect", 1]]


def test_a_replaced_task_publishes_its_replacement(backend) -> None:  # type: ignore[no-untyped-def]
    """The replacement is published while the task runs in its scope, which
    Celery's ``Ignore`` then discards: it must reach the broker, not the scope."""
    log = backend.log()
    with pytest.warns(DeprecationWarning):
        backend.replaced.delay(log.key)
    assert [e["args"] for e in log.wait_for(2)] == [["replaced"], ["replacement"]]


def test_calls_in_a_scope_are_enqueued_with_their_options(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with airlock.scope(policy=airlock.DropAll()) as scope, pytest.warns(DeprecationWarning):
        assert backend.record.apply_async((log.key, "x"), countdown=3) is None
    [(intent, _)] = scope.report.dropped
    assert intent.args == (log.key, "x") and intent.dispatch_options == {"countdown": 3}


def test_keyword_arguments_named_like_enqueue_s_own_reach_the_task(backend) -> None:  # type: ignore[no-untyped-def]
    """delay(_name=...): the task's arguments, not enqueue()'s (a ``task=`` one
    too: the core's enqueue_call tests cover it; this bound task's own first
    parameter is called task)."""
    log = backend.log()
    kwargs = {"_name": "n", "_origin": "o", "_dispatch_options": "d"}
    with airlock.scope(), pytest.warns(DeprecationWarning):
        backend.record.delay(log.key, "delay", **kwargs)
        backend.record.apply_async((log.key, "apply_async"), kwargs)
    assert summary(log.wait_for(2)) == sorted(
        [("apply_async", kwargs, backend.queue), ("delay", kwargs, backend.queue)], key=repr
    )


def test_a_group_published_in_a_scope_runs_each_member_once(backend) -> None:  # type: ignore[no-untyped-def]
    """group().apply_async() lends its members a producer from the pool for the
    call only; the buffered members must be published on the flush's own."""
    from celery import group

    log = backend.log()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with airlock.scope() as scope:
            group(backend.record.s(log.key, "member", n) for n in range(3)).apply_async()
            assert log.entries() == []
    assert len(scope.report.dispatched) == 3 and scope.report.ok
    assert summary(log.wait_for(3)) == [("member", n, {}, backend.queue) for n in range(3)]
    assert all("producer" not in (i.dispatch_options or {}) for i in scope.report.dispatched)


@pytest.mark.parametrize("method", ["delay", "apply_async"])
def test_a_direct_call_outside_a_scope_warns_once_and_publishes(backend, method: str) -> None:  # type: ignore[no-untyped-def]
    """Celery's delay() calls apply_async(): that inner call is not a second direct call."""
    log = backend.log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if method == "delay":
            backend.record.delay(log.key, "direct", 1)
        else:
            backend.record.apply_async((log.key, "direct", 1))
    assert [str(w.message).split(" is deprecated")[0] for w in caught] == [
        f"Direct call to {backend.record.name}.{method}()"
    ]
    assert summary(log.wait_for(1)) == [("direct", 1, {}, backend.queue)]


def eager_recorder() -> tuple[Celery, Any, list[str]]:
    """(app, record, ran): a task_always_eager app whose task ``record(tag)`` appends to ``ran``."""
    app = Celery(f"eager-{uuid.uuid4().hex[:8]}", broker="memory://", set_as_current=False)
    app.conf.task_always_eager = True
    ran: list[str] = []

    @app.task(name=f"eager-record-{uuid.uuid4().hex}")
    def record(tag: str) -> None:
        ran.append(tag)

    return app, record, ran


@pytest.mark.parametrize("published_by", ["delay outside a scope", "the executor at flush"])
def test_an_eager_task_still_scopes_its_own_calls(backend, published_by: str) -> None:  # type: ignore[no-untyped-def]
    """Under task_always_eager, publishing the parent runs it in place: its own
    child.delay() is buffered in the parent's scope, flushed when the parent
    returns and discarded when it raises, as on a worker."""
    app, child, ran = eager_recorder()

    @app.task(name=f"eager-parent-{uuid.uuid4().hex}")
    def parent(tag: str, fail: bool) -> None:
        child.delay(tag)
        if fail:
            raise Boom(tag)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if published_by == "delay outside a scope":
            parent.delay("failed", True)  # eager: the error is kept in the EagerResult
            parent.delay("ok", False)
        else:
            with airlock.scope():
                airlock.enqueue(parent, "failed", True)
                airlock.enqueue(parent, "ok", False)
    assert ran == ["ok"]


def test_an_eager_chain_or_group_waits_for_the_scope_as_a_published_one_would(backend) -> None:  # type: ignore[no-untyped-def]
    """Under task_always_eager Celery runs a chain or group in place, never
    through Task.apply_async: buffered as a whole, it runs when the scope
    flushes and never when it is discarded, as its published tasks would."""
    from celery import chain, group

    _, step, ran = eager_recorder()

    def canvases(label: str) -> None:
        chain(step.si(f"{label} chain 1"), step.si(f"{label} chain 2")).apply_async()
        group(step.si(f"{label} group 1"), step.si(f"{label} group 2")).apply_async()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(Boom), airlock.scope():
            canvases("discarded")
            raise Boom("the request failed")
        with airlock.scope():
            canvases("flushed")
            assert ran == []
        canvases("no scope")
    assert ran == [
        f"{label} {kind} {n}" for label in ("flushed", "no scope") for kind in ("chain", "group") for n in (1, 2)
    ]


def test_a_second_install_is_refused(backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="already been called"):
        install_global_intercept()


def test_uninstall_restores_celery_task_methods(backend) -> None:  # type: ignore[no-untyped-def]
    from celery.canvas import _chain, _chord, group

    patched = (Task.delay, Task.apply_async, Task.retry, Task.on_replace, Task.__call__)
    patched_canvases = (_chain.apply_async, group.apply_async, _chord.apply_async)
    uninstall_global_intercept()
    try:
        restored = (Task.delay, Task.apply_async, Task.retry, Task.on_replace, Task.__call__)
        assert all(now is not before for now, before in zip(restored, patched, strict=True))
        assert all(method.__module__ == "celery.app.task" for method in restored)
        canvases = (_chain.apply_async, group.apply_async, _chord.apply_async)
        assert all(now is not before for now, before in zip(canvases, patched_canvases, strict=True))
        assert all(method.__module__ == "celery.canvas" for method in canvases)
        uninstall_global_intercept()  # a second call does nothing
        install_global_intercept(wrap_task_execution=False)
        assert Task.__call__ is restored[-1] and Task.delay is not restored[0]
        uninstall_global_intercept()
    finally:
        install_global_intercept()  # as the module's worker expects
