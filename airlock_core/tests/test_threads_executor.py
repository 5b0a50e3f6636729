"""The built-in ``threads`` executor: a bounded pool; failures logged and reported, never lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import airlock
from airlock import FlushReport
from airlock.executors.threads import ThreadsExecutor, threads_executor

#: Bound on every wait in this module; a correct run never comes close.
WAIT = 10


@pytest.fixture
def pool() -> Iterator[ThreadsExecutor]:
    """A private two-thread pool, shut down after the test."""
    executor = ThreadsExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=True)


class Gate:
    """Tasks that block until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.threads: set[int] = set()
        self.done = 0

    def __call__(self, n: int) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.get_ident())
        try:
            assert self.release.wait(WAIT), "gate never opened"
        finally:
            with self.lock:
                self.running -= 1
                self.done += 1


class ReportWaiter:
    """A hook plugin that signals when ``airlock_after_flush`` delivered a report."""

    def __init__(self) -> None:
        self.reports: list[FlushReport] = []
        self.threads: list[str] = []
        self.event = threading.Event()

    @airlock.hookimpl
    def airlock_after_flush(self, report: FlushReport) -> None:
        self.reports.append(report)
        self.threads.append(threading.current_thread().name)
        self.event.set()


def wait_until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    done = threading.Event()
    for _ in range(WAIT * 100):
        if predicate():
            return
        done.wait(0.01)
    pytest.fail(f"timed out waiting until {what}")


def test_selected_by_name_runs_on_pool_threads() -> None:
    ran_on: list[str] = []
    finished = threading.Event()

    def task() -> None:
        ran_on.append(threading.current_thread().name)
        finished.set()

    with airlock.scope(executor="threads") as s:
        airlock.enqueue(task)
    assert s.executor is threads_executor
    assert finished.wait(WAIT)
    assert ran_on[0].startswith("airlock-threads")


def test_pool_is_bounded(pool: ThreadsExecutor) -> None:
    gate = Gate()
    with airlock.scope(executor=pool):
        for n in range(6):
            airlock.enqueue(gate, n)
    wait_until(lambda: gate.running == 2, "two tasks run")
    gate.release.set()
    wait_until(lambda: gate.done == 6, "every task finished")
    assert gate.peak == 2
    assert len(gate.threads) == 2


def test_size_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_THREADS_MAX_WORKERS", "3")
    executor = ThreadsExecutor()
    assert executor.max_workers == 3
    assert executor.max_pending == 300
    monkeypatch.setenv("AIRLOCK_THREADS_MAX_PENDING", "7")
    assert executor.max_pending == 7
    assert repr(executor) == "ThreadsExecutor(max_workers=3, max_pending=7)"


def test_explicit_size_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_THREADS_MAX_WORKERS", "3")
    assert ThreadsExecutor(max_workers=5).max_workers == 5


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_invalid_size_in_the_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AIRLOCK_THREADS_MAX_WORKERS", value)
    with pytest.raises(ValueError, match="AIRLOCK_THREADS_MAX_WORKERS"):
        ThreadsExecutor().max_workers  # noqa: B018 - reading it is the test


def test_submitting_beyond_max_pending_waits_for_a_slot() -> None:
    executor = ThreadsExecutor(max_workers=1, max_pending=1)
    gate = Gate()
    try:
        executor(airlock.Intent(task=gate, args=(1,), kwargs={}))
        submitter = threading.Thread(target=executor, args=(airlock.Intent(task=gate, args=(2,), kwargs={}),))
        submitter.start()
        submitter.join(0.2)
        assert submitter.is_alive(), "the second submit did not wait for a free slot"
        gate.release.set()
        submitter.join(WAIT)
        assert not submitter.is_alive()
        wait_until(lambda: gate.done == 2, "both tasks finished")
    finally:
        gate.release.set()
        executor.shutdown(wait=True)


def test_failure_is_logged_and_reported_when_the_work_is_done(  # type: ignore[no-untyped-def]
    pool: ThreadsExecutor, airlock_plugin, caplog
) -> None:
    caplog.set_level(logging.ERROR, logger="airlock.executors.threads")
    waiter = ReportWaiter()
    airlock_plugin(waiter)
    gate = Gate()
    error = LookupError("user 3 vanished")

    def fails(n: int) -> None:
        gate(n)
        raise error

    with airlock.scope(executor=pool) as s:
        airlock.enqueue(gate, 1)
        airlock.enqueue(fails, 2)
    # flush() returned while the work still waits: the report stays open
    assert not s.report.complete
    assert waiter.reports == []
    gate.release.set()
    assert waiter.event.wait(WAIT)
    (report,) = waiter.reports
    assert report is s.report
    assert report.complete
    assert [i.args for i in report.dispatched] == [(1,)]
    assert [(i.args, exc) for i, exc in report.failed] == [((2,), error)]
    assert waiter.threads[0].startswith("airlock-threads")
    (record,) = [r for r in caplog.records if r.name == "airlock.executors.threads"]
    assert record.levelno == logging.ERROR
    assert "fails" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is error


def test_success_reports_after_all_work_finished(pool: ThreadsExecutor, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
    waiter = ReportWaiter()
    airlock_plugin(waiter)
    gate = Gate()
    with airlock.scope(executor=pool) as s:
        for n in range(3):
            airlock.enqueue(gate, n)
    gate.release.set()
    assert waiter.event.wait(WAIT)
    assert gate.done == 3
    assert waiter.reports == [s.report]
    assert s.report.ok and len(s.report.dispatched) == 3


def test_report_completes_without_any_after_flush_hook(pool: ThreadsExecutor) -> None:
    # The work finishes after flush() returned and nobody observes the report:
    # it must still complete, with the late failure moved to ``failed``.
    gate = Gate()
    error = LookupError("late")

    def fails(n: int) -> None:
        gate(n)
        raise error

    with airlock.scope(executor=pool) as s:
        airlock.enqueue(gate, 1)
        airlock.enqueue(fails, 2)
    assert not s.report.complete
    gate.release.set()
    wait_until(lambda: s.report.complete, "the report completes")
    assert [i.args for i in s.report.dispatched] == [(1,)]
    assert [(i.args, exc) for i, exc in s.report.failed] == [((2,), error)]


def test_failure_is_reported_when_routed_per_intent(pool: ThreadsExecutor, executor_named) -> None:  # type: ignore[no-untyped-def]
    # The scope dispatches with sync; one intent goes to the pool through its
    # ``executor`` option. Its later failure must still reach the report.
    executor_named("pool", pool)
    error = LookupError("routed")

    def fails() -> None:
        raise error

    with airlock.scope() as s:
        airlock.enqueue(fails, _dispatch_options={"executor": "pool"})
    pool.shutdown(wait=True)
    wait_until(lambda: s.report.complete, "the report completes")
    assert [exc for _, exc in s.report.failed] == [error]
    assert s.report.dispatched == []


def test_returns_a_future(pool: ThreadsExecutor) -> None:
    future = pool(airlock.Intent(task=sum, args=([1, 2, 3],), kwargs={}))
    assert future.result(timeout=WAIT) == 6


def test_shutdown_then_reuse(pool: ThreadsExecutor) -> None:
    assert pool(airlock.Intent(task=len, args=("ab",), kwargs={})).result(timeout=WAIT) == 2
    pool.shutdown()
    assert pool(airlock.Intent(task=len, args=("abc",), kwargs={})).result(timeout=WAIT) == 3


def after_main(tmp_path: Path, body: str) -> str:
    """A script whose tasks can call ``wait_for_main()``: it returns once the
    main script has finished, so what follows runs while the interpreter exits."""
    return (
        f"""
    import pathlib, threading, time
    import airlock

    out = pathlib.Path({str(tmp_path)!r})
    main_done = out / "main-done"

    def wait_for_main():
        deadline = time.monotonic() + {WAIT}
        while not main_done.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return main_done.exists()
    """
        + body
        + """
    main_done.write_text("")
    """
    )


def test_work_submitted_before_interpreter_exit_completes(python, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Each task waits until the main script has finished, so the work can only
    # complete while the interpreter is exiting.
    code = after_main(
        tmp_path,
        """
    def write_after_main(n):
        (out / f"task-{n}").write_text("after main" if wait_for_main() else "timed out")

    with airlock.scope(executor="threads"):
        for n in range(6):
            airlock.enqueue(write_after_main, n)
    """,
    )
    result = python(code, env={"AIRLOCK_THREADS_MAX_WORKERS": "2"})
    assert result.returncode == 0, result.stderr
    written = {p.name: p.read_text() for p in tmp_path.iterdir() if p.name.startswith("task-")}
    assert written == {f"task-{n}": "after main" for n in range(6)}


def test_work_a_task_flushes_while_the_interpreter_exits_runs_inline(python, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """concurrent.futures refuses new work once the interpreter exits: what a
    task flushes onto the pool then runs in the task's own thread, not lost."""
    code = after_main(
        tmp_path,
        """
    def follow_up(n):
        (out / f"follow-up-{n}").write_text(threading.current_thread().name)

    def first(n):
        wait_for_main()
        time.sleep(0.2)  # the interpreter is past its main script now
        with airlock.scope(executor="threads"):
            airlock.enqueue(follow_up, n)

    with airlock.scope(executor="threads"):
        for n in range(2):
            airlock.enqueue(first, n)
    """,
    )
    result = python(code, env={"AIRLOCK_THREADS_MAX_WORKERS": "2"})
    assert result.returncode == 0, result.stderr
    assert "cannot schedule new futures" not in result.stderr
    written = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("follow-up-"))
    assert written == ["follow-up-0", "follow-up-1"]


def test_a_task_that_flushes_onto_its_own_full_pool_does_not_wait_on_itself() -> None:
    pool = ThreadsExecutor(max_workers=2, max_pending=2)
    children: list[int] = []

    def child(n: int) -> None:
        children.append(n)

    def parent(n: int) -> None:
        with airlock.scope(executor=pool):
            airlock.enqueue(child, n)

    try:
        with airlock.scope(executor=pool) as scope:
            for n in range(4):
                airlock.enqueue(parent, n)
        wait_until(lambda: len(children) == 4 and scope.report.complete, "the children ran")
    finally:
        pool.shutdown(wait=True)
    assert sorted(children) == [0, 1, 2, 3] and scope.report.ok


def test_each_task_runs_in_a_copy_of_the_flush_context_outside_any_scope(pool: ThreadsExecutor) -> None:
    import contextvars

    request = contextvars.ContextVar("request", default="none")
    seen: list[tuple[str, str, object]] = []

    def look(label: str) -> None:
        seen.append((label, request.get(), airlock.get_current_scope()))

    def leak(label: str) -> None:
        request.set("set by a task")
        look(label)

    def enqueue_without_a_scope(label: str) -> None:
        try:
            airlock.enqueue(look, "never")
        except airlock.NoScopeError:
            seen.append((label, "NoScopeError", None))

    single = ThreadsExecutor(max_workers=1)  # one worker: every task on the same thread
    try:
        token = request.set("request 1")
        with airlock.scope(executor=single):
            airlock.enqueue(leak, "a")
        single.shutdown(wait=True)
        request.reset(token)
        with LettingGo() as outer:  # active while the tasks run: they must not enqueue into it
            with airlock.scope(executor=single):
                airlock.enqueue(look, "b")
                airlock.enqueue(enqueue_without_a_scope, "c")
            single.shutdown(wait=True)
            assert outer.intents == []
    finally:
        single.shutdown(wait=True)
    assert seen == [("a", "set by a task", None), ("b", "none", None), ("c", "NoScopeError", None)]


class LettingGo(airlock.Scope):
    """An enclosing scope that lets nested scopes flush on their own."""

    def before_descendant_flushes(self, exiting_scope: airlock.Scope, intents: list[airlock.Intent]) -> list:
        return intents


def test_shutting_down_while_others_flush_loses_nothing() -> None:
    pool = ThreadsExecutor(max_workers=2)
    ran: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def flushing() -> None:
        n = 0
        while not stop.is_set():
            try:
                with airlock.scope(executor=pool):
                    airlock.enqueue(ran.append, n)
                n += 1
            except BaseException as error:  # collected, asserted below
                errors.append(error)

    def shutting_down() -> None:
        while not stop.is_set():
            pool.shutdown(wait=False)

    threads = [threading.Thread(target=flushing), threading.Thread(target=shutting_down)]
    for thread in threads:
        thread.start()
    stop.wait(0.5)
    stop.set()
    for thread in threads:
        thread.join(WAIT)
    pool.shutdown(wait=True)
    assert errors == [] and ran


@pytest.mark.parametrize(
    "arguments", [{"max_workers": 0}, {"max_workers": -1}, {"max_workers": 2.5}, {"max_pending": "2"}]
)
def test_sizes_are_checked_where_they_are_given(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"ThreadsExecutor\(max_\w+=...\) must be a positive integer"):
        ThreadsExecutor(**arguments)  # type: ignore[arg-type]
