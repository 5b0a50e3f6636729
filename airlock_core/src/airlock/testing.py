"""Helpers for testing code that uses airlock, with or without pytest.

Capturing side effects: :func:`capture` runs code inside a scope that holds
every intent instead of dispatching it, and returns a :class:`Captured` with
assertions that read like the domain (``captured.assert_enqueued(send_email,
user_id=1)``) and :meth:`Captured.run` to dispatch them when the test wants.
:func:`no_effects` fails on any side effect. The pytest plugin
(:mod:`airlock.pytest_plugin`) offers them as fixtures and a marker.

Real services: :func:`require_service` finds Redis, RabbitMQ or PostgreSQL
through environment variables with loopback defaults. When a service cannot
be reached the test is skipped with the reason, except under ``CI=true``,
where it fails: CI can never go green by skipping. :class:`OutageProxy`
stands between a client and such a service and loses it at will.
"""

from __future__ import annotations

import functools
import inspect
import os
import shlex
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from ._outage_proxy import DEFAULT_PORTS, OutageProxy
from .errors import PolicyViolation, ScopeStateError, UsageError
from .executors import ExecutorSpec
from .intent import Intent
from .policies import AssertNoEffects
from .report import FlushReport
from .scope import Scope, get_current_scope

__all__ = [
    # real services
    "SERVICES",
    "service_url",
    "require_service",
    "reachable",
    "OutageProxy",
    # capturing side effects
    "capture",
    "no_effects",
    "current_capture",
    "Captured",
    "Match",
    "assert_enqueued",
    "assert_not_enqueued",
    "assert_nothing_enqueued",
    "assert_enqueued_in_order",
]

#: kind -> (environment variable, default URL)
SERVICES: dict[str, tuple[str, str]] = {
    "redis": ("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "amqp": ("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "postgres": ("AIRLOCK_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
}


def service_url(kind: str) -> str:
    """The URL for ``kind`` ("redis", "amqp", "postgres") from its environment variable or default."""
    try:
        variable, default = SERVICES[kind]
    except KeyError:
        raise ValueError(f"unknown service {kind!r}; known: {', '.join(SERVICES)}") from None
    return os.environ.get(variable) or default


def reachable(url: str, default_port: int, timeout: float = 2.0) -> str | None:
    """None if a connection to the service ``url`` names succeeds, else the reason.

    ``url`` is a URL (``redis://host:6379/0``, ``unix:///run/redis.sock``) or a
    libpq key/value DSN (``host=db port=5432 dbname=test``); a host that is a
    path is a Unix socket (for PostgreSQL, the directory holding ``.s.PGSQL.<port>``).
    """
    try:
        host, port = _address(url, default_port)
    except ValueError as exc:
        return f"cannot read an address from {url!r} ({exc})"
    try:
        if host.startswith("/"):
            path = os.path.join(host, f".s.PGSQL.{port}") if os.path.isdir(host) else host
            with socket.socket(socket.AF_UNIX) as unix:
                unix.settimeout(timeout)
                unix.connect(path)
            return None
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc})"


def _address(url: str, default_port: int) -> tuple[str, int]:
    """(host or socket path, port) of a URL or a libpq key/value DSN; ValueError if unreadable."""
    if "://" not in url and "=" in url:
        fields = dict(pair.split("=", 1) for pair in shlex.split(url) if "=" in pair)
        return fields.get("host") or "127.0.0.1", int(fields.get("port") or default_port)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path, default_port
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_service(kind: str) -> str:
    """The service's URL; skip the calling test if unreachable (fail under CI=true)."""
    import pytest

    url = service_url(kind)
    problem = reachable(url, DEFAULT_PORTS[kind])
    if problem is not None:
        variable = SERVICES[kind][0]
        message = f"{kind} service needed: {problem}; set {variable} to point at one"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):  # how CI systems say they are one
            pytest.fail(f"{message} (CI=true: a missing service fails the run)")
        pytest.skip(message)
    return url


# -- capturing intents in tests ------------------------------------------------
#
# A test runs inside a capturing scope: the outermost scope, so every intent
# the code under test enqueues reaches it, directly or captured from the
# nested scopes the code opens and flushes (request scopes, DjangoScope).
# Nothing is dispatched until the test says so with ``Captured.run()``.
# None of this needs pytest; the pytest plugin only wraps it in fixtures.


class Match:
    """Describes intents by task and, optionally, some of their arguments.

    ``task`` is the callable itself or a name: the intent's ``name``, its
    ``registered_name`` (Celery's dotted names, a Dramatiq actor's
    ``actor_name``) or the task's ``module.qualname`` (a Dramatiq actor's:
    its function's). Only the arguments given are checked. When the task
    has an introspectable signature, arguments are compared by parameter
    name, with defaults applied, so ``Match(send_email, user_id=1)`` matches
    ``enqueue(send_email, 1)``; otherwise positional arguments are compared
    from the first one on and keyword arguments by name. Any expected value
    may be ``unittest.mock.ANY``.
    """

    __slots__ = ("task", "args", "kwargs")

    def __init__(self, task: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> None:
        if not isinstance(task, str) and not callable(task):
            raise TypeError(f"Match() needs a task (the callable or its name), got {task!r}.")
        self.task = task
        self.args = args
        self.kwargs = kwargs

    @classmethod
    def of(cls, expected: Match | Callable[..., Any] | str) -> Match:
        """``expected`` itself if it is a Match, else a Match on that task with any arguments."""
        return expected if isinstance(expected, Match) else cls(expected)

    def same_task(self, intent: Intent) -> bool:
        """True when ``intent`` is for this task, whatever its arguments."""
        task = self.task
        if isinstance(task, str):
            return task in _names_of(intent)
        return intent.task is task or intent.task == task

    def mismatch(self, intent: Intent) -> str | None:
        """None when ``intent`` matches; else why not, e.g. ``"user_id=2, expected 1"``."""
        if not self.same_task(intent):
            return "another task"
        if not self.args and not self.kwargs:
            return None
        expected = _bind(intent.task, self.args, self.kwargs, partial=True)
        actual = _bind(intent.task, intent.args, intent.kwargs, partial=False)
        if expected is None or actual is None:
            return self._positional_mismatch(intent)
        problems = [
            _difference(name, value, actual)
            for name, value in expected.items()
            if name not in actual or not _same(value, actual[name], name == expected.var_positional)
        ]
        return ", ".join(problems) or None

    def _positional_mismatch(self, intent: Intent) -> str | None:
        problems = []
        for position, value in enumerate(self.args):
            if position >= len(intent.args):
                problems.append(f"no argument {position + 1}, expected {value!r}")
            elif not value == intent.args[position]:
                problems.append(f"argument {position + 1} is {intent.args[position]!r}, expected {value!r}")
        problems.extend(
            _difference(name, value, intent.kwargs)
            for name, value in self.kwargs.items()
            if name not in intent.kwargs or not value == intent.kwargs[name]
        )
        return ", ".join(problems) or None

    def matches(self, intent: Intent) -> bool:
        """True when ``intent`` is for this task with the expected arguments."""
        return self.mismatch(intent) is None

    def __str__(self) -> str:
        name = self.task if isinstance(self.task, str) else Intent(self.task).name
        parts = [repr(a) for a in self.args]
        parts.extend(f"{k}={v!r}" for k, v in self.kwargs.items())
        if not parts:
            return name
        return f"{name}({', '.join(parts)})"

    def __repr__(self) -> str:
        return f"Match({self})"


def _names_of(intent: Intent) -> set[str]:
    task = intent.task
    names = {intent.name}
    registered = intent.registered_name
    if registered is not None:
        names.add(registered)
    named = _actor_function(task) or task  # a Dramatiq actor: its function's module and qualname
    module, qualname = getattr(named, "__module__", None), getattr(named, "__qualname__", None)
    if module and qualname:
        names.add(f"{module}.{qualname}")
    return names


class _Bound(dict):  # type: ignore[type-arg]
    """Arguments by parameter name, ``**kwargs`` flattened; knows its ``*args`` parameter."""

    var_positional: str | None = None


def _actor_function(task: Any) -> Callable[..., Any] | None:
    """A Dramatiq actor's function (``.fn``), else None."""
    function = getattr(task, "fn", None)
    return function if callable(function) and isinstance(getattr(task, "actor_name", None), str) else None


def _signature(task: Callable[..., Any]) -> inspect.Signature:
    """``task``'s signature; for a task object that only passes ``*args, **kwargs``
    on to the function it keeps (Huey's ``.func``, a Dramatiq actor's ``.fn``), that function's."""
    signature = inspect.signature(task)
    wrapped = getattr(task, "func", None) or _actor_function(task)
    if (
        callable(wrapped)
        and not isinstance(task, functools.partial)  # its .func lacks the arguments it binds
        and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values())
    ):
        return inspect.signature(wrapped)
    return signature


def _bind(task: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *, partial: bool) -> _Bound | None:
    """The arguments bound to ``task``'s signature, or None without a usable signature."""
    try:
        signature = _signature(task)
        bound = signature.bind_partial(*args, **kwargs) if partial else signature.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    if not partial:
        bound.apply_defaults()
    arguments = _Bound(bound.arguments)
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and parameter.name in arguments:
            arguments.update(arguments.pop(parameter.name))
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            arguments.var_positional = parameter.name
    return arguments


def _same(expected: Any, actual: Any, leading: bool) -> bool:
    """``expected == actual``; with ``leading``, ``expected`` is a tuple matching the start of ``actual``."""
    if leading:
        return len(expected) <= len(actual) and all(e == a for e, a in zip(expected, actual, strict=False))
    return bool(expected == actual)


def _difference(name: str, expected: Any, actual: dict[str, Any]) -> str:
    if name not in actual:
        return f"no argument {name}, expected {expected!r}"
    return f"{name}={actual[name]!r}, expected {expected!r}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


class _ForbidEffects(AssertNoEffects):
    """``AssertNoEffects`` that also remembers each violation, in case the code swallows it."""

    def __init__(self, violations: list[Intent], where: str) -> None:
        self._violations = violations
        self._where = where

    def on_enqueue(self, intent: Intent) -> None:
        self._violations.append(intent)
        raise PolicyViolation(f"Unexpected side effect: {intent}. No side effects are allowed {self._where}.")

    def __repr__(self) -> str:
        return f"AssertNoEffects({self._where})"


class _CaptureScope(Scope):
    """The outermost scope of a test: holds what reaches it, dispatches nothing.

    Nested scopes that flush hand their intents to it (the default capture);
    with ``violations`` given, it refuses every intent instead, and records it.
    At exit it discards what it still holds, even when the block succeeded.
    """

    def __init__(self, violations: list[Intent] | None = None, where: str = "") -> None:
        super().__init__(None if violations is None else _ForbidEffects(violations, where))
        self._violations = violations
        self._where = where
        self._ran = 0
        self._final: list[Intent] | None = None

    @property
    def held(self) -> list[Intent]:
        """Every intent that reached this scope, FIFO, including those already run."""
        return list(self._final) if self._final is not None else self.intents

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        if self._violations is not None:
            self._violations.extend(intents)
            shown = ", ".join(str(i) for i in intents)
            raise PolicyViolation(
                f"Unexpected side effect: {shown}, flushed by a nested {type(exiting_scope).__name__}. "
                f"No side effects are allowed {self._where}."
            )
        return []

    def should_flush(self, error: BaseException | None) -> bool:
        return False

    def discard(self) -> list[Intent]:
        self._final = self.intents
        del self._intents[: self._ran]  # what run() dispatched is not discarded
        return super().discard()


class _ReplayScope(Scope):
    """Flushes intents that were buffered elsewhere (``Captured.run``)."""

    def __init__(self, intents: list[Intent], executor: ExecutorSpec, **options: Any) -> None:
        super().__init__(executor=executor, **options)
        self._intents.extend(intents)
        self._has_local_policies = any(i.local_policies for i in intents)
        self._has_dispatch_options = any(i.dispatch_options for i in intents)  # per-intent routing, retries...


class Captured:
    """The intents a test's capturing scope holds, with assertions on them.

    ``intents`` lists everything that reached the boundary, FIFO: enqueued
    directly, or flushed by a nested scope (which the outermost scope
    captures). An intent a nested scope discarded never reaches it, exactly
    as in production. Obtain one from :func:`capture` or the pytest fixture
    ``airlock_capture``.

    Every ``assert_*`` method raises ``AssertionError`` whose message lists
    what was enqueued instead.
    """

    def __init__(self, scope: _CaptureScope) -> None:
        self._scope = scope

    # -- reading ---------------------------------------------------------
    @property
    def scope(self) -> Scope:
        """The capturing scope itself."""
        return self._scope

    @property
    def intents(self) -> list[Intent]:
        """Every captured intent, FIFO, including those already :meth:`run`."""
        return self._scope.held

    @property
    def pending(self) -> list[Intent]:
        """The captured intents not yet :meth:`run`, FIFO."""
        return self.intents[self._scope._ran :]

    @property
    def names(self) -> list[str]:
        """The ``name`` of every captured intent, FIFO."""
        return [i.name for i in self.intents]

    def __len__(self) -> int:
        return len(self.intents)

    def __iter__(self) -> Iterator[Intent]:
        return iter(self.intents)

    def __getitem__(self, index: int) -> Intent:
        return self.intents[index]

    def __repr__(self) -> str:
        return f"<Captured {len(self)} intents, {len(self.pending)} pending>"

    def matching(self, task: Match | Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> list[Intent]:
        """The captured intents for ``task`` with (at least) these arguments, FIFO."""
        match = _match(task, args, kwargs)
        return [i for i in self.intents if match.matches(i)]

    def count(self, task: Match | Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> int:
        """How many captured intents are for ``task`` with (at least) these arguments."""
        return len(self.matching(task, *args, **kwargs))

    # -- asserting -------------------------------------------------------
    def assert_enqueued(
        self, task: Match | Callable[..., Any] | str, /, *args: Any, times: int | None = None, **kwargs: Any
    ) -> Intent:
        """Assert ``task`` was enqueued with these arguments (``times``: exactly that often).

        Returns the first matching intent, to look further (``dispatch_options``).
        """
        __tracebackhide__ = True
        if times is not None and times < 1:
            raise TypeError(f"times must be 1 or more, got {times!r}; use assert_not_enqueued() for none.")
        match = _match(task, args, kwargs)
        found = [i for i in self.intents if match.matches(i)]
        if found and (times is None or len(found) == times):
            return found[0]
        if times is None:
            headline = f"expected {match} to be enqueued, but it was not."
        else:
            headline = f"expected {match} to be enqueued {_times(times)}, but it was enqueued {_times(len(found))}."
        raise AssertionError(self._explain(headline, match))

    def assert_not_enqueued(self, task: Match | Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> None:
        """Assert no captured intent is for ``task`` with these arguments."""
        __tracebackhide__ = True
        match = _match(task, args, kwargs)
        found = [i for i in self.intents if match.matches(i)]
        if found:
            headline = f"expected {match} not to be enqueued, but it was enqueued {_times(len(found))}."
            raise AssertionError(self._explain(headline, match))

    def assert_nothing_enqueued(self) -> None:
        """Assert that nothing at all reached the boundary."""
        __tracebackhide__ = True
        if self.intents:
            raise AssertionError(self._explain("expected nothing to be enqueued.", None))

    def assert_enqueued_in_order(self, *expected: Match | Callable[..., Any] | str) -> None:
        """Assert intents matching ``expected`` were enqueued in this relative order.

        Each item is a task, a name or a :class:`Match`; other intents may
        come between them.
        """
        __tracebackhide__ = True
        matches = [Match.of(e) for e in expected]
        intents = self.intents
        position = 0
        for index, match in enumerate(matches):
            while position < len(intents) and not match.matches(intents[position]):
                position += 1
            if position == len(intents):
                wanted = ", ".join(str(m) for m in matches)
                where = "at all" if index == 0 else f"after {matches[index - 1]}"
                raise AssertionError(
                    self._explain(
                        f"expected intents in this order: {wanted}; but {match} was not enqueued {where}.", match
                    )
                )
            position += 1

    def _explain(self, headline: str, match: Match | None) -> str:
        intents = self.intents
        if not intents:
            return f"{headline}\nNothing was enqueued."
        lines = [headline, f"Enqueued ({len(intents)}):"]
        for number, intent in enumerate(intents, 1):
            line = f"  {number}. {intent}"
            if match is not None and match.same_task(intent):
                why = match.mismatch(intent)
                line += "  <- matches" if why is None else f"  <- {why}"
            lines.append(line)
        return "\n".join(lines)

    # -- running -----------------------------------------------------------
    def run(self, executor: ExecutorSpec = "sync", **options: Any) -> FlushReport:
        """Dispatch the pending intents now, FIFO, as a flush with ``executor`` would.

        ``executor`` is a name (``"sync"``, ``"threads"``, ``"celery"``) or a
        callable; ``options`` are scope options (``fail_fast=False``, or those
        of installed plugins). Local policies, plugins' hooks and the flush
        report work as in any flush, and an executor's exception propagates
        carrying the report. The intents count as run even if dispatch fails,
        so nothing is dispatched twice. Intents the tasks enqueue meanwhile
        are captured and become pending when the tasks run in this thread
        (``sync``): ``while captured.pending: captured.run()`` runs a cascade
        to the end. Tasks on other threads (``"threads"``) do not see the
        capture, and the report completes when they are done.
        """
        scope = self._scope
        if scope.is_discarded:
            raise ScopeStateError("This capture has ended; run() its intents inside the test.")
        pending = self.pending
        scope._ran += len(pending)
        replay = _ReplayScope(pending, executor, **options)
        replay.flush()
        report = replay.report
        assert report is not None
        return report


def _match(task: Match | Callable[..., Any] | str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Match:
    if isinstance(task, Match):
        if args or kwargs:
            raise TypeError("Pass arguments either to Match(...) or to the assertion, not both.")
        return task
    return Match(task, *args, **kwargs)


@contextmanager
def capture() -> Iterator[Captured]:
    """A capturing scope for a test: ``with capture() as captured: ...``.

    Intents enqueued inside, directly or by nested scopes that flush, are
    held and never dispatched unless you call ``captured.run()``; what is
    left is discarded at the end of the block. Make it the outermost scope.
    """
    scope = _CaptureScope()
    with scope:
        yield Captured(scope)


class no_effects:  # noqa: N801 - used like a function: ``with no_effects():``
    """Fail on every side effect inside the block: ``with no_effects(): ...``.

    An ``enqueue`` raises :class:`~airlock.PolicyViolation` at the call; a
    nested scope that flushes raises it at the flush. If the code swallows
    the exception, the block still fails at its end with ``AssertionError``
    listing each attempted intent. ``where`` ends the messages ("No side
    effects are allowed <where>"); ``violations`` lists the attempts and
    ``error`` is the ``AssertionError`` raised at the end, if any.
    """

    def __init__(self, where: str = "in this block") -> None:
        self.where = where
        self.violations: list[Intent] = []
        self.error: AssertionError | None = None
        self._scope = _CaptureScope(self.violations, where)

    def __enter__(self) -> no_effects:
        self._scope.__enter__()
        return self

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> None:
        __tracebackhide__ = True
        self._scope.__exit__(exc_type, error, tb)
        if error is None and self.violations:
            listed = "\n".join(f"  {i}" for i in self.violations)
            self.error = AssertionError(
                f"{len(self.violations)} side effect(s) attempted {self.where}, and the PolicyViolation "
                f"was caught by the code under test:\n{listed}"
            )
            raise self.error


def current_capture() -> Captured:
    """The innermost active :func:`capture` (the ``airlock_capture`` fixture's, in pytest)."""
    found = get_current_scope()
    while found is not None and not (isinstance(found, _CaptureScope) and found._violations is None):
        found = found.parent
    if found is None:
        raise UsageError(
            "No airlock capture is active. Use the airlock_capture fixture, or wrap the code in "
            "`with airlock.testing.capture() as captured:`."
        )
    return Captured(found)


def assert_enqueued(
    task: Match | Callable[..., Any] | str, /, *args: Any, times: int | None = None, **kwargs: Any
) -> Intent:
    """:meth:`Captured.assert_enqueued` on the active capture."""
    __tracebackhide__ = True
    return current_capture().assert_enqueued(task, *args, times=times, **kwargs)


def assert_not_enqueued(task: Match | Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> None:
    """:meth:`Captured.assert_not_enqueued` on the active capture."""
    __tracebackhide__ = True
    current_capture().assert_not_enqueued(task, *args, **kwargs)


def assert_nothing_enqueued() -> None:
    """:meth:`Captured.assert_nothing_enqueued` on the active capture."""
    __tracebackhide__ = True
    current_capture().assert_nothing_enqueued()


def assert_enqueued_in_order(*expected: Match | Callable[..., Any] | str) -> None:
    """:meth:`Captured.assert_enqueued_in_order` on the active capture."""
    __tracebackhide__ = True
    current_capture().assert_enqueued_in_order(*expected)
