"""Every way to extend airlock: the hook specifications.

A plugin is a module or object with functions named after these hooks and
marked ``@airlock.hookimpl``. It is registered through the entry-point group
``airlock`` (``[project.entry-points.airlock] myplugin = "mypkg.plugin"``) or
at run time with ``airlock.plugins.register(obj)``. An implementation may
accept any subset of a hook's arguments, by name.

Hooks cost nothing when no plugin implements them: the core caches the
implementations and skips empty hooks on its hot path.

The lifecycle of one scope, and where each hook runs::

    enqueue()  -> policy.on_enqueue -> airlock_enqueue          (per intent)
    flush()    -> ancestors capture -> policies filter
               -> airlock_before_flush                          (per flush, chained)
               -> airlock_execute -> executor                   (per intent)
               -> airlock_after_flush                           (per scope)
    discard()  -> airlock_after_flush                           (per scope)

Executors are not hooks: they are chosen by name through the entry-point
group ``airlock.executors`` (see :mod:`airlock.executors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .markers import hookspec

if TYPE_CHECKING:
    from .executors import Executor
    from .intent import Buffered, Intent
    from .options import Option
    from .report import FlushReport
    from .scope import Scope


@hookspec
def airlock_options() -> Sequence[Option]:
    """Declare the options this plugin understands.

    Called once when plugins are loaded. Return a sequence of
    :class:`airlock.Option`; each option has a name unique across all
    plugins, a default, a validator, a docstring and where it may be set
    (``"intent"`` through ``_dispatch_options``, ``"scope"`` through
    ``airlock.scope(name=...)``, ``"global"`` through
    ``airlock.configure(name=...)``). ``configure()`` and ``scope()`` reject
    names no plugin declares, with a suggestion. An option declared with
    ``consumed=True`` is removed from ``dispatch_options`` before the backend
    executor sees the intent.

    All implementations are called; their results are concatenated.
    """


@hookspec
def airlock_enqueue(intent: Intent, scope: Scope) -> None:
    """Called once per ``airlock.enqueue``, after the scope's policy accepted it.

    :param intent: the new intent, not yet buffered.
    :param scope: the scope that will buffer it.

    Observe the intent, or raise to reject it: the exception propagates out
    of ``enqueue()`` and the intent is not buffered. The return value is
    ignored. ``airlock.enqueue`` may not be called from here.
    """


@hookspec
def airlock_before_flush(scope: Scope, intents: list[Intent], buffered: Buffered) -> list[Intent] | None:
    """Called once per flush with the intents that policies let through.

    :param scope: the scope being flushed; ``scope.report`` is its report.
    :param intents: the intents about to be dispatched, in FIFO order.
    :param buffered: the same intents as a :class:`airlock.intent.Buffered`
        sequence that builds Intent objects only for the items you take. Ask
        for it *instead of* ``intents`` when you keep few of many intents:
        the core then skips building an Intent for each buffered item (most
        intents are buffered as plain tuples until something looks).

    Return a new list to filter, reorder or coalesce, or None to leave the
    list unchanged. The list holds Intents: from ``intents``, from
    ``buffered`` (``buffered[i]``, ``buffered.at(positions)``) or new ones,
    never the raw items of ``buffered.items`` (a ``TypeError``).
    Implementations are chained in hook order: each receives the list the
    previous one returned. Do not change ``intents`` (or ``buffered.items``)
    in place: changing its length, or replacing or reordering the intents
    of an implementation that asked for ``intents``, is a ``TypeError``
    naming your plugin, and nothing of the flush is dispatched.
    An intent left out is recorded in the report as ``removed`` by your
    plugin, unless you recorded it yourself: ``report.record_merged(i, into)``
    (or ``report.record_merged_at(buffered, kept, into)`` by position) when merged,
    ``report.record_replaced(i, by)`` when replaced by a copy.
    Not called for an empty flush.
    """


@hookspec(firstresult=True)
def airlock_execute(intent: Intent, executor: Executor, scope: Scope) -> Any:
    """Called once per dispatched intent; the core's own implementation
    (registered ``trylast``) calls ``executor(intent)`` and returns True.

    :param intent: the intent to dispatch.
    :param executor: the executor chosen for it (the scope's, or the one
        named by its ``executor`` dispatch option). Calling it strips the
        options that plugins consume before the backend sees them.
    :param scope: the scope being flushed.

    Wrap it (``@hookimpl(wrapper=True)``) to observe, time, trace or retry
    (calling ``executor(intent)`` again): ``result = yield`` runs the rest,
    and an exception from the rest is raised at the ``yield``. Or dispatch
    the intent yourself and return a non-None value to stop the core from
    calling the executor. An exception that escapes fails this intent.
    """


@hookspec
def airlock_after_flush(scope: Scope, report: FlushReport) -> None:
    """Called once per finished scope, flushed or discarded.

    :param scope: the finished scope.
    :param report: every intent's fate (see :class:`airlock.FlushReport`).

    Called after the last dispatch finished, including on failure (before
    the executor's exception propagates). For executors that finish work
    later (``threads``) it runs when that work is done, possibly on another
    thread. An exception raised here propagates to the caller of
    ``flush()``/``discard()``, unless another is already on its way out
    (a dispatch error, ``FlushFailed``, the ``with`` block's own): then it
    is logged on logger ``airlock`` and the other hooks still run. Not called for a scope that never held an
    intent (an empty flush or discard), so empty scopes stay free.
    """
