"""``RetryPolicy``: how often, how long and on what to retry one dispatch."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airlock.errors import add_note
from airlock.executors.chunked import connection_refused, raised_from

from ._types import ExceptionSpec, exception_types

__all__ = ["DEFAULT_RETRY_ON", "RetryPolicy"]

T = TypeVar("T")

#: Retryable by default: the errors of a network that is down or slow.
#: ``ConnectionError`` covers refused, reset and aborted connections and broken
#: pipes; ``TimeoutError`` covers ``socket.timeout``. Client libraries with their
#: own hierarchy (``redis.ConnectionError``, ``kombu.exceptions.OperationalError``)
#: must be added through ``retry_on``.
DEFAULT_RETRY_ON: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff, jitter and a cap on total waiting.

    :param attempts: attempts in total, the first included (1 = never retry).
    :param backoff: seconds before the first retry; each next wait doubles.
        Every wait is jittered to between half and all of its nominal value.
    :param max_delay: the most seconds spent waiting for one call, all waits
        together; the last wait is shortened to fit, and no retry starts once
        it is used up.
    :param retry_on: exception classes (or builtin names / dotted paths, see
        :func:`exception_types`) that are worth another attempt. Anything else
        is raised at once.
    :param sleep: how to wait (``time.sleep``); :param random: a source of
        floats in [0, 1) for the jitter. Both are there for callers that run
        on an event loop or need determinism.
    """

    attempts: int = 3
    backoff: float = 0.1
    max_delay: float = 5.0
    retry_on: ExceptionSpec | Iterable[ExceptionSpec] = DEFAULT_RETRY_ON  # stored as a tuple of classes
    sleep: Callable[[float], Any] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"attempts must be an integer >= 1, got {self.attempts!r}")
        for name in ("backoff", "max_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        object.__setattr__(self, "retry_on", exception_types(self.retry_on))

    @property
    def retryable(self) -> tuple[type[BaseException], ...]:
        """The exception classes worth another attempt."""
        return self.retry_on  # type: ignore[return-value]

    def waits(self) -> Iterator[float]:
        """The jittered wait before each retry, within ``max_delay`` in total."""
        budget = self.max_delay
        nominal = self.backoff
        for _ in range(self.attempts - 1):
            wait = nominal * (0.5 + 0.5 * self.random())
            if wait > budget:
                if budget <= 0:
                    return
                wait = budget
            budget -= wait
            yield wait
            nominal *= 2

    def may_retry(self, error: BaseException) -> bool:
        """Whether a failed attempt that raised ``error`` may be made again.

        ``error`` must be one of :attr:`retryable`, or have been raised from
        one when the broker refused the connection, which sent nothing (a
        client library's wrapper: kombu's ``OperationalError`` or
        ``BatchPublishError`` over redis-py's ``ConnectionError`` over a
        ``ConnectionRefusedError``, itself a builtin ``ConnectionError``).
        A failed batch write (``airlock_undelivered``, see
        ``airlock.executors.chunked``) is retried only when it certainly sent
        nothing (``airlock_not_sent``) and held no other intent: otherwise what
        it held may have reached the broker (a lost reply), so resending could
        publish twice, and the other intents it lost would stay hidden behind
        this one's retry.
        """
        undelivered = getattr(error, "airlock_undelivered", None)
        if undelivered is not None and (undelivered or not getattr(error, "airlock_not_sent", False)):
            return False
        if isinstance(error, self.retryable):
            return True
        return connection_refused(error) and any(isinstance(e, self.retryable) for e in raised_from(error))

    def call(
        self,
        fn: Callable[[T], Any],
        arg: T,
        *,
        failed: BaseException | None = None,
        record: Callable[[BaseException], Any] | None = None,
    ) -> Any:
        """``fn(arg)``, retried on ``retry_on`` errors; returns its result.

        :param failed: the error of a first attempt made elsewhere (the hook
            chain); the policy then only makes the remaining attempts.
        :param record: called with each failed attempt's exception, in order.

        The error that ends the retries propagates unchanged in type, with
        ``airlock_attempts`` (every failed attempt's exception, oldest first,
        itself last) and a note listing the earlier ones.
        """
        errors: list[BaseException] = []
        waits = self.waits()
        error = failed
        while True:
            if error is None:
                try:
                    return fn(arg)
                except Exception as exc:
                    error = exc
            errors.append(error)
            if record is not None:
                record(error)
            if not self.may_retry(error):
                break
            wait = next(waits, None)
            if wait is None:
                break
            self.sleep(wait)
            error = None
        raise _give_up(error, errors, self)


def _give_up(error: BaseException, errors: list[BaseException], policy: RetryPolicy) -> BaseException:
    error.airlock_attempts = list(errors)  # type: ignore[attr-defined]
    if len(errors) > 1:  # add_note: on Python 3.10 too, where exceptions lack the method
        why = "not retryable" if not policy.may_retry(error) else "retries exhausted"
        earlier = "; ".join(f"{type(e).__name__}: {e}" for e in errors[:-1])
        add_note(error, f"airlock-retry: attempt {len(errors)} of {policy.attempts} failed ({why}); earlier: {earlier}")
    return error
