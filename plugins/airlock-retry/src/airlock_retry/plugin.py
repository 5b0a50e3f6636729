"""The hook plugin (entry point ``airlock: retry``): options and the execute wrapper.

Inert until ``retry_attempts`` is above 1 for an intent, per intent
(``_dispatch_options``), per scope or globally. Installed but off, it costs
one option lookup per dispatched intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import airlock
from airlock.options import non_negative_number, positive_int

from ._policy import DEFAULT_RETRY_ON, RetryPolicy
from ._types import exception_types

if TYPE_CHECKING:
    from airlock import Executor, Intent, Option, Scope

__all__ = ["airlock_options", "airlock_execute", "policy_for"]

_OPTIONS = ("retry_attempts", "retry_wait", "retry_max_delay", "retry_on")


def _retry_on(value: Any) -> tuple[type[BaseException], ...]:
    """The exception classes, imported now (a typo fails where it is set); a tuple, hashable for the cached policy."""
    if not isinstance(value, (str, type)) and iter(value) is value:
        raise ValueError("expected a list or tuple of exception types, not an iterator (it would be used up)")
    return exception_types(value)


@airlock.hookimpl
def airlock_options() -> Sequence[Option]:
    """``retry_attempts`` enables retrying; the others shape it."""
    return [
        airlock.Option(
            "retry_attempts",
            1,
            "Attempts in total for one dispatch, the first included; 1 (the default) never retries.",
            validate=positive_int,
            enables=True,
        ),
        airlock.Option(
            "retry_wait",
            0.1,
            "Seconds before the first retry; each next wait doubles, jittered to 50-100%.",
            validate=non_negative_number,
        ),
        airlock.Option(
            "retry_max_delay",
            5.0,
            "Cap on the seconds one dispatch spends waiting between attempts, all waits together.",
            validate=non_negative_number,
        ),
        airlock.Option(
            "retry_on",
            tuple(t.__name__ for t in DEFAULT_RETRY_ON),
            "Retryable exceptions: classes, builtin names or dotted paths ('redis.ConnectionError'); "
            "default ConnectionError and TimeoutError.",
            validate=_retry_on,
        ),
    ]


def policy_for(scope: Scope, intent: Intent) -> RetryPolicy | None:
    """The retry policy in force for ``intent`` in ``scope``, or None when retrying is off."""
    attempts, backoff, max_delay, retry_on = (scope.option(name, intent) for name in _OPTIONS)
    if attempts == 1:
        return None
    if not isinstance(retry_on, tuple):  # a per-intent value is checked but kept as given
        retry_on = exception_types(retry_on)
    return _policy(attempts, backoff, max_delay, retry_on)


@lru_cache(maxsize=128)
def _policy(attempts: int, backoff: float, max_delay: float, retry_on: Any) -> RetryPolicy:
    return RetryPolicy(attempts, backoff, max_delay, retry_on)


@airlock.hookimpl
def airlock_execute(intent: Intent, executor: Executor, scope: Scope) -> bool | None:
    """Dispatch ``intent`` with retries when retrying is on for it; else None.

    A plain implementation, called inside every wrapper and before the
    core's own (``trylast``) one: for an intent it retries it makes the
    core's ``executor(intent)`` call itself, with retries, and returns True;
    every other intent it leaves to the rest of the chain by returning None,
    which costs one option lookup (a wrapper would cost a generator per
    intent). A plain implementation of another plugin runs first if it is
    ``tryfirst`` or registered later, else never for a retried intent.

    It calls the executor the core chose for this intent (the scope's, or
    the one its ``executor`` option names, as set by routing middleware),
    with consumed options stripped. Every failed attempt is recorded with
    ``scope.report.record_attempt``.
    """
    if scope.option("retry_attempts", intent) == 1:
        return None
    try:
        executor(intent)
        return True
    except Exception as exc:  # only now are the other options read
        failed = exc
    # Retried outside the except block: an attempt's error must not carry the
    # first one as its context (a refusal there would vouch for a later write).
    policy = policy_for(scope, intent)
    assert policy is not None  # retry_attempts is above 1
    report = scope.report
    record = None if report is None else (lambda error: report.record_attempt(intent, error))
    policy.call(executor, intent, failed=failed, record=record)
    return True
