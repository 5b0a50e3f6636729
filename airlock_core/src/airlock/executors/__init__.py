"""Executors: how an intent escapes. Chosen by name or given as a callable.

An executor is any callable taking an :class:`~airlock.Intent`. It may also
offer ``flush_context(report)``, a context manager the core enters around the
dispatch of a whole flush (one broker connection, pipelined publishes); each
intent still passes through ``executor(intent)`` inside it. An exception
raised by a batching executor may carry ``airlock_undelivered``, the intents
it had accepted but could not deliver; the report counts them as failed.
:mod:`airlock.executors.chunked` keeps that accounting for executors that
write a flush in chunks.

Names come from the entry-point group ``airlock.executors``
(``celery = "airlock_celery:celery_executor"``), loaded the first time a name
is selected, and from :func:`register_executor`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import PluginLoadError, UnknownExecutorError, UsageError
from ..intent import Intent

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ..report import FlushReport

__all__ = [
    "Executor",
    "BatchingExecutor",
    "ExecutorSpec",
    "register_executor",
    "unregister_executor",
    "resolve_executor",
    "executor_entry_points",
    "GROUP",
]

#: Entry-point group that names executors.
GROUP = "airlock.executors"


@runtime_checkable
class Executor(Protocol):
    """Anything callable with one :class:`~airlock.Intent`."""

    def __call__(self, intent: Intent) -> Any: ...


@runtime_checkable
class BatchingExecutor(Executor, Protocol):
    """An executor that can dispatch a whole flush through one connection."""

    def flush_context(self, report: FlushReport) -> AbstractContextManager[Any]: ...


#: What ``executor=`` accepts: an executor, or the name of one.
ExecutorSpec = str | Executor | Callable[[Intent], Any]

_registered: dict[str, Executor] = {}
_loaded: dict[str, Executor] = {}
_entry_points: dict[str, EntryPoint] | None = None
#: Names that more than one installed distribution provides, with every claim.
_clashes: dict[str, list[EntryPoint]] = {}


def register_executor(name: str, executor: Executor) -> None:
    """Make ``executor`` selectable as ``name``, ahead of any entry point.

    For applications and tests; distributions use the ``airlock.executors``
    entry-point group instead.
    """
    if not isinstance(name, str) or not name:
        raise UsageError(f"register_executor() needs a non-empty name, got {name!r}.")
    if not callable(executor) or isinstance(executor, type):
        raise TypeError(
            f"register_executor({name!r}, ...) needs a callable taking an Intent, got {executor!r}"
            + (" (a class: register an instance of it)." if isinstance(executor, type) else ".")
        )
    _registered[name] = executor
    _forget_default()


def unregister_executor(name: str) -> None:
    """Forget an executor registered with :func:`register_executor`."""
    _registered.pop(name, None)
    _forget_default()


def _forget_default() -> None:
    """The cached default executor may be the one just (un)registered: resolve it again."""
    from ..config import _default

    _default[0] = None


def _blocked_names() -> set[str]:
    """The entry-point names ``AIRLOCK_DISABLE_PLUGINS`` lists (hook plugins and executors alike)."""
    return {n.strip() for n in os.environ.get("AIRLOCK_DISABLE_PLUGINS", "").split(",") if n.strip()}


def _autoload_disabled() -> bool:
    """True when ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD`` says to load no entry-point hook plugin."""
    return os.environ.get("AIRLOCK_DISABLE_PLUGIN_AUTOLOAD", "").strip().lower() not in ("", "0", "false", "no")


def _not_loaded(group: str) -> dict[str, list[EntryPoint]]:
    """The installed entry points of ``group`` the environment keeps from loading,
    by name as :func:`_claims` gives the others: those ``AIRLOCK_DISABLE_PLUGINS``
    lists, and every hook plugin under ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD``."""
    from importlib.metadata import entry_points

    every = group != GROUP and _autoload_disabled()
    blocked = _blocked_names()
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=group):
        if every or ep.name in blocked:
            found.setdefault(ep.name, []).append(ep)
    return found


def disabled_plugins_note() -> str:
    """A sentence naming the installed hook plugins the environment keeps from
    loading, for errors about a name one of them may declare; or ``""``."""
    names = sorted(_not_loaded("airlock"))
    if not names:
        return ""
    why = "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD" if _autoload_disabled() else "AIRLOCK_DISABLE_PLUGINS"
    return f" Installed but not loaded ({why}): {', '.join(names)}."


def executor_entry_points() -> dict[str, EntryPoint]:
    """The installed ``airlock.executors`` entry points by name (read once)."""
    global _entry_points
    if _entry_points is None:
        found = _claims(GROUP)
        _clashes.clear()
        _clashes.update({name: claims for name, claims in found.items() if len(claims) > 1})
        _entry_points = {name: claims[0] for name, claims in found.items()}
    return _entry_points


def _claims(group: str) -> dict[str, list[EntryPoint]]:
    """The installed entry points of ``group`` that ``AIRLOCK_DISABLE_PLUGINS``
    does not block, by name, in the order they come; a name that several
    distributions provide has several."""
    from importlib.metadata import entry_points

    blocked = _blocked_names()
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=group):
        if ep.name not in blocked:
            found.setdefault(ep.name, []).append(ep)
    return found


def _forget_entry_points() -> None:
    """Re-read entry points next time (after installing a distribution at run time)."""
    global _entry_points
    _entry_points = None
    _loaded.clear()
    _forget_default()


def resolve_executor(spec: ExecutorSpec) -> Executor:
    """The executor for ``spec``: a callable is itself; a name is looked up.

    Raises :class:`~airlock.UnknownExecutorError` for a name nobody provides,
    :class:`~airlock.PluginLoadError` when its entry point fails to load, and
    ``TypeError`` for anything else, a class included (an executor is an
    instance or a function).
    """
    if callable(spec):
        if isinstance(spec, type):
            raise TypeError(
                f"executor got the class {spec.__qualname__}; pass an instance ({spec.__qualname__}(...)) "
                "or a function taking an Intent."
            )
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"executor must be a callable taking an Intent or an executor name, got {spec!r}.")
    found = _registered.get(spec) or _loaded.get(spec)
    if found is not None:
        return found
    ep = executor_entry_points().get(spec)
    if ep is None:
        raise UnknownExecutorError(spec, executor_names())
    if spec in _clashes:
        raise _clash(spec, _clashes[spec])
    _loaded[spec] = executor = _load(ep)
    return executor


def _clash(name: str, claims: list[EntryPoint]) -> PluginLoadError:
    """The error for an executor name that several distributions provide: none of them is picked."""
    listed = ", ".join(f"{ep.value!r} of {_dist(ep)[0]!r}" for ep in claims)
    return PluginLoadError(
        f"airlock executor {name!r} is provided by more than one installed distribution ({listed}); "
        "airlock will not pick one: uninstall all but one of them.",
        entry_point=f"{GROUP}:{name}",
        distribution=", ".join(_dist(ep)[0] for ep in claims),
    )


def _dist(ep: EntryPoint) -> tuple[str, str]:
    """The name and version of the distribution that provides ``ep`` (``"?"`` and ``""`` if unknown)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?", ""
    return dist.name, dist.version


def _load(ep: EntryPoint) -> Executor:
    dist = _dist(ep)[0]
    try:
        executor = ep.load()
    except Exception as exc:
        raise PluginLoadError(
            f"airlock executor {ep.name!r} (entry point {ep.value!r} of distribution {dist!r}) "
            f"failed to load: {type(exc).__name__}: {exc}",
            entry_point=f"{GROUP}:{ep.name}",
            distribution=dist,
        ) from exc
    if not callable(executor) or isinstance(executor, type):
        what = "is a class; point the entry point at an instance of it" if callable(executor) else "is not callable"
        raise PluginLoadError(
            f"airlock executor {ep.name!r} (entry point {ep.value!r} of distribution {dist!r}) {what}: {executor!r}",
            entry_point=f"{GROUP}:{ep.name}",
            distribution=dist,
        )
    return executor


def executor_names() -> list[str]:
    """Every selectable executor name, registered or installed."""
    return sorted({*_registered, *executor_entry_points()})
