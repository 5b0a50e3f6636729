"""The hook plugin: options, enabling per intent/scope/globally, the report, inertness."""

from __future__ import annotations

from typing import Any

import pytest
from airlock_retry import with_retry

import airlock


class Flaky:
    """An executor that fails with ``errors`` in turn, then runs the task; records what it saw."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.seen: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.seen.append(intent)
        if self.errors:
            raise self.errors.pop(0)
        intent.task(*intent.args, **intent.kwargs)


FAST = {"retry_wait": 0.0}


def test_a_scope_option_retries_until_the_dispatch_succeeds() -> None:
    done: list[int] = []
    executor = Flaky(ConnectionRefusedError("down"), TimeoutError("slow"))
    with airlock.scope(executor=executor, retry_attempts=3, **FAST) as scope:
        airlock.enqueue(done.append, 1)
    assert done == [1]
    report = scope.report
    [intent] = report.dispatched
    assert [type(e) for e in report.attempts(intent)] == [ConnectionRefusedError, TimeoutError]


def test_the_final_failure_keeps_its_type_and_carries_every_attempt() -> None:
    errors = [ConnectionResetError(n) for n in range(3)]
    with pytest.raises(ConnectionError) as caught, airlock.scope(executor=Flaky(*errors), retry_attempts=3, **FAST):
        airlock.enqueue(print, "never")
    assert caught.value is errors[-1]
    assert caught.value.airlock_attempts == errors
    report = caught.value.airlock_report
    [(intent, error)] = report.failed
    assert error is errors[-1]
    assert report.attempts(intent) == errors


def test_an_intent_option_enables_retries_for_that_intent_only() -> None:
    executor = Flaky(ConnectionError("plain fails"), ConnectionError("retried fails once"))
    with pytest.raises(airlock.FlushFailed) as caught, airlock.scope(executor=executor, fail_fast=False, **FAST):
        airlock.enqueue(print, "plain")
        airlock.enqueue(len, "retried", _dispatch_options={"retry_attempts": 2})
    assert [i.args for i in executor.seen] == [("plain",), ("retried",), ("retried",)]
    report = caught.value.airlock_report
    [(plain, _)] = report.failed
    [retried] = report.dispatched
    assert report.attempts(plain) == []
    assert [str(e) for e in report.attempts(retried)] == ["retried fails once"]


def test_a_global_option_applies_and_a_scope_option_wins() -> None:
    airlock.configure(retry_attempts=4, **FAST)
    executor = Flaky(*(ConnectionError(n) for n in range(5)))
    with pytest.raises(ConnectionError), airlock.scope(executor=executor):
        airlock.enqueue(print, 1)
    assert len(executor.seen) == 4
    executor = Flaky(*(ConnectionError(n) for n in range(5)))
    with pytest.raises(ConnectionError), airlock.scope(executor=executor, retry_attempts=2):
        airlock.enqueue(print, 1)
    assert len(executor.seen) == 2


def test_errors_outside_retry_on_are_not_retried_and_retry_on_widens_the_filter() -> None:
    class BrokerDown(Exception):
        pass

    executor = Flaky(BrokerDown(), BrokerDown())
    with pytest.raises(BrokerDown), airlock.scope(executor=executor, retry_attempts=3, **FAST):
        airlock.enqueue(print, 1)
    assert len(executor.seen) == 1
    done: list[int] = []
    executor = Flaky(BrokerDown(), BrokerDown())
    with airlock.scope(executor=executor, retry_attempts=3, retry_on=[BrokerDown, "TimeoutError"], **FAST):
        airlock.enqueue(done.append, 1)
    assert done == [1]


def test_retry_options_never_reach_the_backend() -> None:
    executor = Flaky(ConnectionError("once"))
    options = {"retry_attempts": 2, "retry_wait": 0, "queue": "emails"}
    with airlock.scope(executor=executor):
        airlock.enqueue(print, 1, _dispatch_options=options)
    assert [i.dispatch_options for i in executor.seen] == [{"queue": "emails"}, {"queue": "emails"}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_attempts": 0}, r"'retry_attempts'.*integer >= 1"),
        ({"retry_attempts": "3"}, r"'retry_attempts'.*integer >= 1"),
        ({"retry_wait": -0.5}, r"'retry_wait'.*number >= 0"),
        ({"retry_max_delay": None}, r"'retry_max_delay'.*number >= 0"),
        ({"retry_on": ["redis.NoSuchError"]}, r"'retry_on'.*cannot import 'redis.NoSuchError'"),
    ],
)
def test_bad_values_fail_where_they_are_set(options: dict[str, Any], message: str) -> None:
    with pytest.raises(airlock.UsageError, match=message):
        airlock.configure(**options)
    with pytest.raises(airlock.UsageError, match=message):
        airlock.scope(**options)
    with pytest.raises(airlock.UsageError, match=message), airlock.scope():
        airlock.enqueue(print, _dispatch_options=options)


def test_an_unknown_option_name_suggests_the_right_one() -> None:
    with pytest.raises(airlock.UnknownOptionError, match=r"'retry_attempt'.*Did you mean 'retry_attempts'"):
        airlock.scope(retry_attempt=3)


def test_plugins_command_lists_the_plugin_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from airlock.cli import main

    main(["plugins"])
    out = capsys.readouterr().out
    assert "airlock-retry" in out
    for name in ("retry_attempts = 1", "retry_wait = 0.1", "retry_max_delay = 5.0", "retry_on = ("):
        assert f"option {name}" in out


def _run_without_enabling() -> tuple[type[BaseException], list[tuple[Any, ...]], str, list[Any]]:
    executor = Flaky(ConnectionRefusedError("down"))
    with pytest.raises(ConnectionError) as caught, airlock.scope(executor=executor):
        airlock.enqueue(print, 1, _dispatch_options={"queue": "q", "retry": True})
        airlock.enqueue(print, 2)
    report = caught.value.airlock_report
    seen = [(i.args, i.dispatch_options) for i in executor.seen]
    return type(caught.value), seen, report.summary(), report.attempts(report.failed[0][0])


def test_installed_but_not_enabled_changes_nothing(request: pytest.FixtureRequest) -> None:
    installed = _run_without_enabling()
    assert "retry" in {info.name for info in airlock.plugins.plugin_infos()}
    request.getfixturevalue("without_plugin")
    assert "retry" not in {info.name for info in airlock.plugins.plugin_infos()}
    assert _run_without_enabling() == installed
    assert installed[1] == [((1,), {"queue": "q", "retry": True})]  # Celery's own `retry` passes through


def test_with_retry_composes_a_plain_executor_as_in_the_original_docs() -> None:
    done: list[int] = []
    flaky = Flaky(ConnectionRefusedError("down"), ConnectionRefusedError("down"))
    executor = with_retry(flaky, retries=3, backoff=0)
    with airlock.scope(executor=executor) as scope:
        airlock.enqueue(done.append, 7)
    assert done == [7]
    [intent] = scope.report.dispatched
    assert len(scope.report.attempts(intent)) == 2  # the core handed it the report via flush_context


def test_with_retry_gives_up_after_its_attempts_and_rejects_a_non_executor() -> None:
    flaky = Flaky(*(ConnectionRefusedError(n) for n in range(5)))
    executor = with_retry(flaky, retries=3, backoff=0)
    with pytest.raises(ConnectionRefusedError) as caught, airlock.scope(executor=executor):
        airlock.enqueue(print, 1)
    assert len(caught.value.airlock_attempts) == 3
    with pytest.raises(TypeError, match="needs an executor"):
        with_retry("celery")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempts must be an integer >= 1"):
        with_retry(flaky, retries=0)


def test_an_error_that_lost_earlier_intents_of_a_batch_is_not_retried() -> None:
    # A batching executor's failed chunk write names the intents it had
    # accepted but not delivered; retrying only the current one would hide them.
    delivered: list[int] = []

    def executor(intent: airlock.Intent) -> None:
        if intent.args == (1,):
            error = ConnectionError("chunk write failed")
            error.airlock_undelivered = [first]  # type: ignore[attr-defined]
            raise error
        delivered.append(intent.args[0])

    with pytest.raises(ConnectionError), airlock.scope(executor=executor, retry_attempts=3, **FAST) as scope:
        airlock.enqueue(delivered.append, 0)
        first = scope.intents[0]
        airlock.enqueue(delivered.append, 1)
    report = scope.report
    assert report.dispatched == []
    assert sorted(i.args for i, _ in report.failed) == [(0,), (1,)]
    assert len(report.attempts(scope.intents[1])) == 1  # tried once, not retried


def test_a_failed_batch_write_of_only_the_current_intent_is_not_retried() -> None:
    """Its write may have reached the broker (a lost reply): resending could publish twice."""
    published: list[int] = []

    def executor(intent: airlock.Intent) -> None:
        published.append(intent.args[0])  # the broker took it...
        error = ConnectionResetError("reply lost")  # ...but the answer never came
        error.airlock_undelivered = []  # type: ignore[attr-defined]
        raise error

    with pytest.raises(ConnectionResetError), airlock.scope(executor=executor, retry_attempts=3, **FAST) as scope:
        airlock.enqueue(published.append, 0)
    assert published == [0]
    assert len(scope.report.attempts(scope.intents[0])) == 1


def test_a_per_intent_retry_on_set_is_used_as_given() -> None:
    done: list[int] = []
    executor = Flaky(ConnectionRefusedError("down"))
    with airlock.scope(executor=executor, **FAST):
        airlock.enqueue(done.append, 1, _dispatch_options={"retry_attempts": 2, "retry_on": {"ConnectionError"}})
    assert done == [1] and len(executor.seen) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_on": (name for name in ["ConnectionError"])}, r"'retry_on'.*not an iterator"),
        ({"retry_wait": float("nan")}, r"'retry_wait'.*expected a number >= 0"),
        ({"retry_max_delay": float("nan")}, r"'retry_max_delay'.*expected a number >= 0"),
    ],
)
def test_values_that_would_fail_at_the_first_retry_are_refused_where_they_are_set(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(airlock.UsageError, match=message):
        airlock.scope(retry_attempts=3, **options)


def test_attempts_follow_a_routed_copy_and_the_copy_an_executor_received() -> None:
    """The report's attempts for an intent are found from the intent itself,
    whether a plugin replaced it or the executor got a stripped copy."""
    from airlock_retry import with_retry

    executor = Flaky(ConnectionRefusedError("down"))
    retrying = with_retry(executor, retries=3, backoff=0)
    with airlock.scope() as scope:  # routed by the core's consumed "executor" option: the executor gets a copy
        airlock.enqueue(print, "y", _dispatch_options={"executor": retrying, "queue": "q"})
    report = scope.report
    [intent] = scope.intents
    assert report.fate_of(intent).status == "dispatched"
    received = executor.seen[0]
    assert received is not intent and received.dispatch_options == {"queue": "q"}
    assert [type(e) for e in report.attempts(intent)] == [ConnectionRefusedError]


def test_retry_on_accepts_a_set() -> None:
    done: list[int] = []
    executor = Flaky(ConnectionRefusedError("down"))
    with airlock.scope(executor=executor, retry_attempts=2, retry_on={"ConnectionError"}, **FAST):
        airlock.enqueue(done.append, 1)
    assert done == [1]


def test_a_refused_batch_write_of_only_the_current_intent_is_retried() -> None:
    """The broker refused the connection: nothing was sent, and the chunk held
    no other intent, so trying again cannot publish anything twice. The error
    may wrap the transport's (kombu's BatchPublishError): a retryable error it
    was raised from counts."""

    class BatchPublishError(Exception):
        """Not a ConnectionError itself, like kombu's."""

    published: list[int] = []
    refusals = [2]

    def executor(intent: airlock.Intent) -> None:
        if refusals[0]:
            refusals[0] -= 1
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except ConnectionRefusedError:
                error = BatchPublishError("batch publish failed")
                error.airlock_undelivered = []  # type: ignore[attr-defined]
                error.airlock_not_sent = True  # type: ignore[attr-defined]
                raise error from None
        published.append(intent.args[0])

    with airlock.scope(executor=executor, retry_attempts=3, **FAST) as scope:
        airlock.enqueue(published.append, 0)
    assert published == [0]  # the third attempt
    assert [type(e).__name__ for e in scope.report.attempts(scope.intents[0])] == ["BatchPublishError"] * 2


def test_a_refused_batch_write_that_held_other_intents_is_not_retried() -> None:
    def executor(intent: airlock.Intent) -> None:
        if intent.args == (1,):
            error = ConnectionRefusedError(111, "Connection refused")
            error.airlock_undelivered = [first]  # type: ignore[attr-defined]
            error.airlock_not_sent = True  # type: ignore[attr-defined]
            raise error

    with pytest.raises(ConnectionRefusedError), airlock.scope(executor=executor, retry_attempts=3, **FAST) as scope:
        airlock.enqueue(print, 0)
        first = scope.intents[0]
        airlock.enqueue(print, 1)
    assert len(scope.report.attempts(scope.intents[1])) == 1


def test_a_retried_write_is_judged_by_its_own_error_not_the_first_attempt_s() -> None:
    """Attempt 1 is refused (nothing sent); attempt 2 reaches the broker and
    loses its reply. Its error must not inherit attempt 1's refusal as its
    context, or it would pass as "not sent" and be written a third time."""
    from contextvars import ContextVar

    from airlock.executors.chunked import ChunkedFlush, flush_in_chunks

    received: list[tuple[object, ...]] = []

    class Flush(ChunkedFlush):
        __slots__ = ("pending_written", "writes")
        label = "fake-broker"
        refused_means_unsent = True

        def __init__(self) -> None:
            super().__init__(8, 1)
            self.writes = 0

        def _write(self) -> None:
            self.writes += 1
            if self.writes == 1:
                raise ConnectionRefusedError(111, "broker restarting")
            received.extend(i.args for i in self.pending_written)
            if self.writes == 2:
                raise ConnectionResetError(104, "reply lost")

        def deliver(self, current: airlock.Intent | None = None) -> None:
            self.pending_written = list(self.pending)
            super().deliver(current)

    current: ContextVar[Flush | None] = ContextVar("fake_flush", default=None)

    class Executor:
        def flush_context(self, report: airlock.FlushReport) -> Any:
            return flush_in_chunks(current, Flush(), report)

        def __call__(self, intent: airlock.Intent) -> None:
            flush = current.get()
            assert flush is not None
            flush.buffered(intent)

    with pytest.raises(ConnectionResetError), airlock.scope(executor=Executor(), retry_attempts=3, **FAST):
        airlock.enqueue(print, "bob")
    assert received == [("bob",)]  # once: the reset write was not retried
