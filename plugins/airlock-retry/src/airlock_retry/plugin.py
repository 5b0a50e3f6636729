"""The hook plugin (entry point ``airlock: retry``): options and the execute wrapper.

Inert until ``retry_attempts`` is above 1 for an intent, per intent
(``_dispatch_options``), per scope or globally. A successful dispatch costs
only the wrapper; options are read after a failure.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import airlock
from airlock.options import non_negative_number, positive_int

from ._policy import DEFAULT_RETRY_ON, RetryPolicy
from ._types import exception_types

if TYPE_CHECKING:
    from airlock import Executor, Intent, Option, Scope

__all__ = ["airlock_options", "airlock_execute", "policy_for"]

_OPTIONS = ("retry_attempts", "retry_backoff", "retry_max_delay", "retry_on")


def _retry_on(value: Any) -> Any:
    exception_types(value)  # import dotted paths now: a typo fails where it is set
    return value


@airlock.hookimpl
def airlock_options() -> Sequence[Option]:
    """``retry_attempts`` enables retrying; the others shape it."""
    return [
        airlock.Option(
            "retry_attempts",
            1,
            "Attempts in total for one dispatch, the first included; 1 (the default) never retries.",
            validate=positive_int,
        ),
        airlock.Option(
            "retry_backoff",
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
    if isinstance(retry_on, list):
        retry_on = tuple(retry_on)
    return _policy(attempts, backoff, max_delay, retry_on)


@lru_cache(maxsize=128)
def _policy(attempts: int, backoff: float, max_delay: float, retry_on: Any) -> RetryPolicy:
    return RetryPolicy(attempts, backoff, max_delay, retry_on)


@airlock.hookimpl(wrapper=True, trylast=True)
def airlock_execute(intent: Intent, executor: Executor, scope: Scope) -> Generator[None, Any, Any]:
    """Innermost wrapper: after a failure, call ``executor(intent)`` again per the policy.

    The retries call the executor the core chose for this intent (the
    scope's, or the one its ``executor`` option names, as set by routing
    middleware), with consumed options stripped. Every failed attempt is
    recorded with ``scope.report.record_attempt``.
    """
    try:
        return (yield)
    except Exception as exc:
        policy = policy_for(scope, intent)
        if policy is None:
            raise
        report = scope.report
        record = None if report is None else (lambda error: report.record_attempt(intent, error))
        policy.call(executor, intent, failed=exc, record=record)
        return True
