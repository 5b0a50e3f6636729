"""Shared fixtures for airlock-core's own tests.

Every test starts from a clean global state (no configuration, no
``AIRLOCK_*`` environment variables, no active scope) and must leave no hook
plugin or executor registered behind: the autouse fixture checks that.
Plugins are registered inline with ``airlock.plugins.registered(...)`` or the
``airlock_plugin`` fixture that airlock's pytest plugin provides.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import airlock
from airlock import executors

#: Environment variables that change airlock's behaviour; tests start without them.
AIRLOCK_ENV = (
    "AIRLOCK_EXECUTOR",
    "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD",
    "AIRLOCK_DISABLE_PLUGINS",
    "AIRLOCK_THREADS_MAX_WORKERS",
    "AIRLOCK_THREADS_MAX_PENDING",
)

#: Upper bound for any subprocess a test starts; no test may hang.
SUBPROCESS_TIMEOUT = 60


def _registered_plugin_names() -> set[str]:
    return {name for name, _ in airlock.plugins.get_plugin_manager().list_name_plugin()}


@pytest.fixture(autouse=True)
def clean_airlock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clean configuration and environment; fail the test if it leaks plugins, executors or scopes."""
    for variable in AIRLOCK_ENV:
        monkeypatch.delenv(variable, raising=False)
    airlock.reset_configuration()
    plugins_before = _registered_plugin_names()
    executors_before = dict(executors._registered)
    yield
    airlock.reset_configuration()
    leaked_plugins = _registered_plugin_names() - plugins_before
    leaked_executors = set(executors._registered) - set(executors_before)
    assert airlock.get_current_scope() is None, "the test left a scope active"
    assert not leaked_plugins, f"the test left hook plugins registered: {leaked_plugins}"
    assert not leaked_executors, f"the test left executors registered: {leaked_executors}"


class Calls:
    """A recording task: ``calls(*args, **kwargs)`` appends ``(args, kwargs)``; ``calls.args`` lists the args.

    Instances are named ``calls`` in intents (``Intent.name`` reads ``__name__``).
    """

    __name__ = "calls"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))

    @property
    def args(self) -> list[tuple[Any, ...]]:
        return [args for args, _ in self.calls]


@pytest.fixture
def calls() -> Calls:
    """A fresh recording task."""
    return Calls()


class RecordingExecutor:
    """An executor that records every intent it is given and runs nothing."""

    def __init__(self) -> None:
        self.intents: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.intents.append(intent)


@pytest.fixture
def recording_executor() -> RecordingExecutor:
    """A fresh executor that records intents instead of running them."""
    return RecordingExecutor()


@pytest.fixture
def executor_named() -> Iterator[Callable[[str, Any], None]]:
    """``executor_named(name, fn)`` registers an executor by name for this test only."""
    names: list[str] = []

    def register(name: str, executor: Any) -> None:
        airlock.register_executor(name, executor)
        names.append(name)

    yield register
    for name in names:
        airlock.unregister_executor(name)


def run_python(
    code: str, *, env: dict[str, str] | None = None, cwd: str | None = None, python: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (default: this one) and return the finished process.

    The child gets this environment minus ``AIRLOCK_*`` variables, plus ``env``.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    child_env.update(env or {})
    return subprocess.run(
        [python or sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=cwd,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


@pytest.fixture
def python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """:func:`run_python`: run code in a fresh interpreter, for global state a test must not disturb."""
    return run_python
