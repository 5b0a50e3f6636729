"""The exception hierarchy.

``AirlockError`` is the root. ``UsageError`` and its subclasses mean the
caller used the API wrongly; the message says what to do instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import FlushReport

if sys.version_info >= (3, 11):
    _ExceptionGroup = ExceptionGroup  # noqa: F821 - builtin on 3.11+
else:  # pragma: no cover - exercised on 3.10 only
    from exceptiongroup import ExceptionGroup as _ExceptionGroup

__all__ = [
    "AirlockError",
    "UsageError",
    "PolicyEnqueueError",
    "NoScopeError",
    "ScopeStateError",
    "PolicyViolation",
    "UnknownExecutorError",
    "UnknownOptionError",
    "PluginLoadError",
    "FlushFailed",
]


class AirlockError(Exception):
    """Base class of every exception airlock raises on its own account."""


class UsageError(AirlockError):
    """The API was used incorrectly; the message says how to fix the call."""


class PolicyEnqueueError(UsageError):
    """``enqueue()`` was called while a policy callback was running."""


class NoScopeError(UsageError):
    """``enqueue()`` was called with no active scope.

    Every side effect needs a boundary that decides whether it escapes; wrap
    the code in ``with airlock.scope():`` (or use ``@airlock.scoped()``).
    """


class ScopeStateError(AirlockError):
    """The operation is not valid in the scope's current lifecycle state."""


class PolicyViolation(AirlockError):
    """A policy rejected an intent at enqueue time."""


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``; on Python 3.10 the same ``__notes__`` list, which
    the exceptiongroup backport prints."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined]


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name``, or None when nothing is close."""
    from difflib import get_close_matches

    matches = get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


class UnknownExecutorError(UsageError):
    """An executor was selected by a name no installed distribution provides."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        guess = closest(name, self.known)
        parts = [f"Unknown airlock executor {name!r}."]
        if guess:
            parts.append(f"Did you mean {guess!r}?")
        parts.append(f"Installed executors: {', '.join(self.known) or '(none)'}.")
        provider = _EXECUTOR_DISTRIBUTIONS.get(name)
        if provider is not None:
            parts.append(f"It is provided by the distribution {provider}: `pip install {provider}`.")
        elif guess is None:  # a typo gets no install advice: a guessed package name could be anyone's
            parts.append(
                f"If {name!r} comes from a third-party plugin, install that plugin's distribution, "
                f"or register it with airlock.register_executor({name!r}, fn)."
            )
        super().__init__(" ".join(parts))


#: The airlock distribution that provides each executor name airlock's own plugins register.
_EXECUTOR_DISTRIBUTIONS = {
    "celery": "airlock-celery",
    "dramatiq": "airlock-dramatiq",
    "huey": "airlock-huey",
    "django_q": "airlock-django-q",
    "django_tasks": "airlock-django",
}


class UnknownOptionError(UsageError):
    """An option name that neither the core nor any installed plugin declares."""

    def __init__(self, name: str, known: Sequence[str], where: str, parameters: Sequence[str] = ()) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        guess = closest(name, (*self.known, *parameters))
        if guess in parameters and guess not in self.known:
            hint = f" Did you mean the parameter {guess!r}?"
        else:
            hint = f" Did you mean {guess!r}?" if guess else ""
        from .executors import disabled_plugins_note

        super().__init__(
            f"Unknown airlock option {name!r} passed to {where}.{hint} "
            f"Known options: {', '.join(self.known) or '(none)'}. "
            "Options come from airlock-core and installed plugins; "
            f"run `airlock plugins` to see which plugin declares which.{disabled_plugins_note()}"
        )


class PluginLoadError(AirlockError):
    """An installed plugin or executor could not be loaded or is invalid.

    The message names the entry point and the distribution that provides it.
    The original error is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, entry_point: str = "", distribution: str = "") -> None:
        self.entry_point = entry_point
        self.distribution = distribution
        super().__init__(message)


class FlushFailed(_ExceptionGroup, AirlockError):  # type: ignore[misc, valid-type]
    """Several dispatches failed in a scope with ``fail_fast=False``.

    An ``ExceptionGroup`` of every executor exception, in dispatch order, so
    ``except*`` selects by type. ``airlock_report`` holds the flush report.
    """

    airlock_report: FlushReport

    def __new__(cls, message: str, exceptions: Sequence[BaseException]) -> Any:
        return super().__new__(cls, message, exceptions)

    def derive(self, excs: Sequence[BaseException]) -> FlushFailed:
        derived = FlushFailed(self.message, excs)
        derived.airlock_report = getattr(self, "airlock_report", None)  # type: ignore[assignment]
        return derived
