"""Unit tests of RetryPolicy and exception_types: waits, filter, final error."""

from __future__ import annotations

import socket

import pytest
from airlock_retry import DEFAULT_RETRY_ON, RetryPolicy, exception_types


class Clock:
    """A fake sleep that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing(errors: list[BaseException]):
    """A callable raising each of ``errors`` in turn, then returning "ok"."""
    pending = list(errors)

    def call(arg: object) -> str:
        if pending:
            raise pending.pop(0)
        return "ok"

    return call


def test_waits_double_and_stay_within_their_jitter_band() -> None:
    low = RetryPolicy(attempts=5, backoff=0.1, max_delay=100, random=lambda: 0.0)
    high = RetryPolicy(attempts=5, backoff=0.1, max_delay=100, random=lambda: 0.999999)
    assert list(low.waits()) == pytest.approx([0.05, 0.1, 0.2, 0.4])
    assert list(high.waits()) == pytest.approx([0.1, 0.2, 0.4, 0.8], rel=1e-5)


def test_total_wait_is_capped_and_the_last_wait_shortened() -> None:
    policy = RetryPolicy(attempts=10, backoff=1.0, max_delay=2.5, random=lambda: 0.999999)
    waits = list(policy.waits())
    assert waits == pytest.approx([1.0, 1.5], rel=1e-5)
    assert sum(waits) == pytest.approx(2.5)


def test_retries_until_success_and_records_each_failure() -> None:
    clock, recorded = Clock(), []
    policy = RetryPolicy(attempts=4, backoff=0.01, sleep=clock)
    errors = [ConnectionResetError("reset"), TimeoutError("slow")]
    assert policy.call(failing(errors), None, record=recorded.append) == "ok"
    assert recorded == errors
    assert len(clock.waits) == 2


def test_exhausted_retries_raise_the_last_error_with_every_attempt() -> None:
    errors = [ConnectionRefusedError(n) for n in range(3)]
    with pytest.raises(ConnectionRefusedError) as caught:
        RetryPolicy(attempts=3, backoff=0, sleep=Clock()).call(failing(errors), None)
    assert caught.value is errors[-1]
    assert caught.value.airlock_attempts == errors
    assert "attempt 3 of 3 failed (retries exhausted)" in "\n".join(caught.value.__notes__)


def test_a_non_retryable_error_is_raised_at_once() -> None:
    clock = Clock()
    boom = ValueError("a bug, not an outage")
    with pytest.raises(ValueError) as caught:
        RetryPolicy(attempts=5, sleep=clock).call(failing([boom]), None)
    assert caught.value is boom
    assert caught.value.airlock_attempts == [boom]
    assert clock.waits == []


def test_a_non_retryable_error_after_retries_carries_the_earlier_ones() -> None:
    first, second = ConnectionResetError("reset"), KeyError("gone")
    with pytest.raises(KeyError) as caught:
        RetryPolicy(attempts=5, backoff=0, sleep=Clock()).call(failing([first, second]), None)
    assert caught.value.airlock_attempts == [first, second]
    assert "(not retryable)" in caught.value.__notes__[-1]


def test_a_first_failure_made_elsewhere_counts_as_attempt_one() -> None:
    calls = []
    policy = RetryPolicy(attempts=2, backoff=0, sleep=Clock())
    first = TimeoutError("first")
    assert policy.call(lambda arg: calls.append(arg) or "ok", "x", failed=first) == "ok"
    assert calls == ["x"]


def test_exception_types_accepts_classes_builtin_names_and_dotted_paths() -> None:
    assert exception_types("TimeoutError") == (TimeoutError,)
    assert exception_types(["ConnectionError", socket.gaierror, "http.client.RemoteDisconnected"]) == (
        ConnectionError,
        socket.gaierror,
        __import__("http.client").client.RemoteDisconnected,
    )
    assert RetryPolicy().retryable == DEFAULT_RETRY_ON


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("redis.ConectionError", "cannot import 'redis.ConectionError'"),
        ("NoSuchError", "does not name an exception class"),
        ("os.path", "does not name an exception class"),
        (42, "expected an exception class"),
        ([int], "is not an exception class"),
        ([], "at least one exception type"),
    ],
)
def test_exception_types_rejects_what_is_not_an_exception(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        exception_types(spec)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"attempts": True}, {"backoff": -1}, {"max_delay": "5"}])
def test_policy_rejects_bad_numbers(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
