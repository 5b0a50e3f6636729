"""Unit tests of the ``celery`` executor's dispatch rules, with stand-ins for tasks (no broker)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from airlock_celery import CeleryExecutor, celery_executor

import airlock
from airlock import Intent


class AsyncTask:
    """Has ``apply_async`` (and ``delay``, which must not be used)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> str:
        self.calls.append((args, kwargs, options))
        return "async-result"

    def delay(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("delay() used although apply_async() exists")

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("called inline although apply_async() exists")


class DelayOnly:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def delay(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        return "delayed"

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("called inline although delay() exists")


def test_apply_async_gets_args_kwargs_and_every_dispatch_option() -> None:
    task = AsyncTask()
    intent = Intent(task, (1, 2), {"to": "a@b"}, dispatch_options={"countdown": 5, "queue": "mail"})
    assert celery_executor(intent) == "async-result"
    assert task.calls == [((1, 2), {"to": "a@b"}, {"countdown": 5, "queue": "mail"})]


def test_delay_is_the_fallback_and_options_are_not_passed() -> None:
    task = DelayOnly()
    assert celery_executor(Intent(task, (1,), {"x": 2}, dispatch_options={"countdown": 5})) == "delayed"
    assert task.calls == [((1,), {"x": 2})]


def test_a_plain_callable_is_called_inline() -> None:
    seen = []
    assert celery_executor(Intent(lambda *a, **k: seen.append((a, k)) or "ran", (1,), {"y": 3})) == "ran"
    assert seen == [((1,), {"y": 3})]


def test_a_flush_without_celery_app_publishes_each_intent_in_order() -> None:
    task, order = AsyncTask(), []
    with airlock.scope(executor=celery_executor):
        airlock.enqueue(task, 1)
        airlock.enqueue(order.append, "inline")
        airlock.enqueue(task, 2, _dispatch_options={"priority": 3})
    assert task.calls == [((1,), {}, {}), ((2,), {}, {"priority": 3})]
    assert order == ["inline"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
@pytest.mark.parametrize("option", ["chunk_size", "first_chunk_size"])
def test_chunk_sizes_must_be_positive_integers(option: str, bad: Any) -> None:
    with pytest.raises(ValueError, match=rf"CeleryExecutor\({option}=\.\.\.\) must be an integer >= 1"):
        CeleryExecutor(**{option: bad})


def test_the_first_chunk_defaults_to_one_publish_and_is_capped_at_chunk_size() -> None:
    assert (celery_executor.first_chunk_size, celery_executor.chunk_size) == (1, 100)
    assert CeleryExecutor(chunk_size=4, first_chunk_size=50).first_chunk_size == 4
    assert repr(CeleryExecutor(chunk_size=8, first_chunk_size=2)) == "CeleryExecutor(chunk_size=8, first_chunk_size=2)"


def test_selected_by_name_and_importable_at_the_compatible_paths() -> None:
    from airlock_celery import integration

    from airlock.integrations import celery as compat_integration
    from airlock.integrations.executors.celery import celery_executor as compat_executor

    assert airlock.resolve_executor("celery") is celery_executor
    assert compat_executor is celery_executor
    assert compat_integration.LegacyTaskShim is integration.LegacyTaskShim
    assert compat_integration.install_global_intercept is integration.install_global_intercept
    assert compat_integration.uninstall_global_intercept is integration.uninstall_global_intercept


def test_eager_mode_runs_a_flush_inline_without_reaching_the_broker() -> None:
    """``task_always_eager`` (a common test setting): a flush runs each task
    inline, in order, and never connects to the broker, which here is a port
    where nothing listens (a publish there would fail the flush)."""
    from celery import Celery

    app = Celery("eager", broker="redis://127.0.0.1:9/0", set_as_current=False)
    app.conf.task_always_eager = True
    ran: list[int] = []

    @app.task
    def work(n: int) -> None:
        ran.append(n)

    with airlock.scope(executor="celery") as scope:
        for n in range(3):
            airlock.enqueue(work, n, _dispatch_options={"queue": "mail"} if n == 1 else None)
    assert ran == [0, 1, 2]
    assert len(scope.report.dispatched) == 3 and not scope.report.failed


@pytest.fixture
def eager_shim_app() -> tuple[Any, Any, list[int]]:
    """(app, email, emailed): an eager Celery app and its LegacyTaskShim task ``email``."""
    from airlock_celery.integration import LegacyTaskShim
    from celery import Celery

    app = Celery(f"eager-shim-{uuid.uuid4().hex}", broker="memory://", set_as_current=False)
    app.conf.task_always_eager = True
    emailed: list[int] = []

    @app.task(name=f"{app.main}.email", base=LegacyTaskShim)
    def email(n: int) -> None:
        emailed.append(n)

    return app, email, emailed


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the shim's, asserted in its own tests
def test_an_eager_task_published_by_the_executor_scopes_its_shim_calls(eager_shim_app: Any) -> None:
    """The executor's pass to Celery does not reach into the task Celery then
    runs in place: a LegacyTaskShim call inside it is buffered in the task's own
    scope, and discarded when the task raises."""
    app, email, emailed = eager_shim_app

    @app.task(name=f"{app.main}.charge")
    @airlock.scoped()
    def charge(n: int, declined: bool) -> None:
        email.delay(n)
        if declined:
            raise ValueError("card declined")

    with airlock.scope(executor="celery"):
        airlock.enqueue(charge, 1, True)
        airlock.enqueue(charge, 2, False)
    assert emailed == [2]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_an_eager_task_publishing_itself_scopes_each_run_s_shim_calls(eager_shim_app: Any) -> None:
    """The pass belongs to a run, not to the task: a task that publishes itself
    eagerly gets a new run, whose own shim calls are buffered in its scope."""
    app, email, emailed = eager_shim_app

    @app.task(name=f"{app.main}.step")
    @airlock.scoped(executor="celery")
    def step(n: int) -> None:
        email.delay(n)
        if n == 0:
            airlock.enqueue(step, 1)
        if n == 1:
            raise ValueError("the second run fails: its scope discards email(1)")

    with airlock.scope(executor="celery"):
        airlock.enqueue(step, 0)
    assert emailed == [0]
