"""Celery integration: route direct ``.delay()``/``.apply_async()`` calls through airlock.

For code written before airlock, two migration aids (compatible with
airlock-py 0.1.0a3's ``airlock.integrations.celery``):

- :class:`LegacyTaskShim`, a ``Task`` base class for chosen tasks: their
  ``delay``/``apply_async`` enqueue through airlock and warn.
- :func:`install_global_intercept`, a process-wide patch of Celery's
  ``Task``: inside an airlock scope, ``delay``/``apply_async`` of every task
  enqueue; outside they warn and publish as usual. Optionally every task's
  execution runs in its own scope (flushed when the task returns, discarded
  when it raises).

Both let ``Task.retry()`` (and ``autoretry_for``, which calls it) publish the
retry straight to the broker: the failing attempt raises ``Retry``, so its
scope discards what the attempt enqueued, but the retry itself must never be
discarded with it. ``Task.replace()`` likewise publishes the replacement
straight away (through ``on_replace``), then raises ``Ignore``, which
discards the replaced task's scope.

New code needs neither: call ``airlock.enqueue(task, ...)`` and decorate
tasks with ``@airlock.scoped()`` (under ``@app.task``) to get the same
flush-on-success / discard-on-error behaviour per task.

When airlock's ``celery`` executor publishes a flushed intent it calls these
same methods; they then reach Celery directly, without warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any

from celery import Task

import airlock

from ._passthrough import pass_through, passes, publishing
from .executor import TRANSPORT_OPTIONS

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["LegacyTaskShim", "install_global_intercept", "uninstall_global_intercept"]


def _warn_delay(task: Task) -> None:
    warnings.warn(
        f"Direct call to {task.name}.delay() is deprecated. Use airlock.enqueue({task.name}, ...) instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def _warn_apply_async(task: Task) -> None:
    warnings.warn(
        f"Direct call to {task.name}.apply_async() is deprecated. "
        f"Use airlock.enqueue({task.name}, ..., _dispatch_options=...) instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def _publish_once(apply_async: Callable[[], Any]) -> Any:
    """Run Celery's ``apply_async`` with the ``publishing`` pass cleared for what
    it runs: under ``task_always_eager`` the task runs right here, and its own
    calls must be intercepted again."""
    token = publishing.set(None)
    try:
        return apply_async()
    finally:
        publishing.reset(token)


def _passing(call: Callable[[], Any]) -> Any:
    """Run ``call`` with a pass open: what it publishes reaches Celery, even inside a scope.

    For ``retry()`` and ``on_replace()``: each publishes a message and then
    raises (``Retry``, ``Ignore``), so a scope around the task discards what
    was buffered in it, and that message must not be among it.
    """
    token = pass_through()
    try:
        return call()
    finally:
        publishing.reset(token)


def _enqueue_apply_async(task: Task, args: Any, kwargs: Any, options: dict[str, Any]) -> None:
    """Buffer an ``apply_async`` call: its options become the intent's dispatch options.

    A ``producer``, ``connection`` or ``publisher`` passed in is left out: it is
    lent for this call only (``group().apply_async()`` gives its members one
    from the pool and takes it back), and the flush publishes on its own.
    """
    if options and not TRANSPORT_OPTIONS.isdisjoint(options):
        options = {name: value for name, value in options.items() if name not in TRANSPORT_OPTIONS}
    # enqueue_call: the task's keyword arguments reach it whatever their names (task=, _name=, ...)
    airlock.enqueue_call(task, tuple(args or ()), dict(kwargs or {}), dispatch_options=options or None)


class LegacyTaskShim(Task):
    """A ``Task`` base whose ``delay``/``apply_async`` enqueue through airlock.

    ``@app.task(base=LegacyTaskShim)`` keeps old call sites working while
    moving them under airlock: each call emits a ``DeprecationWarning``
    naming the task and enqueues it in the current scope (``NoScopeError``
    outside one, as ``airlock.enqueue`` does). ``apply_async`` options
    (``countdown``, ``queue``, ...) become the intent's dispatch options.
    Both return None: the task is not published until the scope flushes.
    ``retry()`` publishes at once, as in Celery, scope or not, and so does
    ``replace()`` with the replacement. Both are this class's methods: a
    plain task that replaces itself with a ``LegacyTaskShim`` task inside
    a scope gets the replacement buffered there, and discarded.
    """

    def delay(self, *args: Any, **kwargs: Any) -> Any:
        if passes():
            return super().delay(*args, **kwargs)
        _warn_delay(self)
        airlock.enqueue_call(self, args, kwargs)
        return None

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if passes():
            return _publish_once(partial(super().apply_async, args, kwargs, **options))
        _warn_apply_async(self)
        _enqueue_apply_async(self, args, kwargs, options)
        return None

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        return _passing(partial(super().retry, *args, **kwargs))

    def on_replace(self, sig: Any) -> Any:
        return _passing(partial(super().on_replace, sig))


#: The task whose intercepted ``delay()`` has warned and is publishing outside
#: a scope: Celery's ``delay()`` then calls its ``apply_async()``, which is
#: the same direct call and must not warn again.
_delay_warned: ContextVar[Task | None] = ContextVar("airlock_celery_delay_warned", default=None)

#: Celery's own methods while the intercept is installed, else None.
_originals: dict[str, Callable[..., Any]] | None = None


def install_global_intercept(app: Celery | None = None, *, wrap_task_execution: bool = True) -> None:
    """Patch Celery's ``Task`` so direct calls go through airlock. Call once, at startup.

    - ``delay``/``apply_async`` inside an airlock scope enqueue the task
      (options kept as dispatch options) and return None; outside a scope
      they publish as usual. Both always emit a ``DeprecationWarning``.
    - ``retry()`` publishes the retry directly, as Celery does, even inside
      a scope: the failed attempt's scope discards its other side effects,
      never the retry. ``replace()`` publishes the replacement directly too
      (Celery's ``on_replace()`` publishes it, then raises ``Ignore``).
    - ``wrap_task_execution=True`` (default) also runs every task's
      execution in ``airlock.scope(policy=AllowAll())``: what a task
      enqueues is flushed, with the configured executor, when it returns and
      discarded when it raises. Patch before the worker starts: Celery
      caches how it calls each task the first time it runs it.

    :param app: accepted for compatibility; the patch applies to every app
        in the process.
    :raises RuntimeError: if already installed (call
        :func:`uninstall_global_intercept` first).
    """
    global _originals
    if _originals is not None:
        raise RuntimeError(
            "install_global_intercept() has already been called; call it once at startup "
            "(uninstall_global_intercept() removes it)."
        )
    originals: dict[str, Callable[..., Any]] = {
        "delay": Task.delay,
        "apply_async": Task.apply_async,
        "retry": Task.retry,
        "on_replace": Task.on_replace,
    }
    Task.delay = _intercept_delay(originals["delay"])
    Task.apply_async = _intercept_apply_async(originals["apply_async"])
    Task.retry = _direct(originals["retry"])
    Task.on_replace = _direct(originals["on_replace"])
    if wrap_task_execution:
        originals["__call__"] = Task.__call__
        Task.__call__ = _scoped_call(originals["__call__"])
    for canvas in _eager_canvases():
        originals[f"{canvas.__name__}.apply_async"] = canvas.__dict__["apply_async"]
        canvas.apply_async = _intercept_eager_canvas(canvas.__dict__["apply_async"])
    _originals = originals


def uninstall_global_intercept() -> None:
    """Restore Celery's ``Task`` and canvas methods. Does nothing when not installed."""
    global _originals
    originals, _originals = _originals, None
    if originals is None:
        return
    canvases = {canvas.__name__: canvas for canvas in _eager_canvases()}
    for name, method in originals.items():
        owner, _, attribute = name.rpartition(".")
        setattr(canvases[owner] if owner else Task, attribute, method)


def _eager_canvases() -> tuple[type, ...]:
    """The canvases whose ``apply_async`` runs them in place under ``task_always_eager``,
    never reaching ``Task.apply_async``: chain, group, chord."""
    from celery.canvas import _chain, _chord, group

    return (_chain, group, _chord)


def _intercept_eager_canvas(original: Callable[..., Any]) -> Callable[..., Any]:
    """A canvas's ``apply_async`` that, under ``task_always_eager`` inside a
    scope, buffers the canvas itself: the flush applies it (eagerly), and a
    discarded scope never does, as with a broker. Published canvases need
    nothing: their tasks' ``apply_async`` is intercepted."""

    def apply_async(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if passes() or not self.app.conf.task_always_eager or airlock.get_current_scope() is None:
            return original(self, args, kwargs, **options)
        airlock.enqueue_call(self, tuple(args or ()), dict(kwargs or {}), dispatch_options=options or None)
        return None

    return apply_async


def _intercept_delay(original: Callable[..., Any]) -> Callable[..., Any]:
    def delay(self: Task, *args: Any, **kwargs: Any) -> Any:
        if passes():
            return original(self, *args, **kwargs)
        _warn_delay(self)
        if airlock.get_current_scope() is None:
            token = _delay_warned.set(self)  # Celery's delay() calls apply_async(): one call, one warning
            try:
                return original(self, *args, **kwargs)
            finally:
                _delay_warned.reset(token)
        airlock.enqueue_call(self, args, kwargs)
        return None

    return delay


def _intercept_apply_async(original: Callable[..., Any]) -> Callable[..., Any]:
    def apply_async(self: Task, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if passes():
            return _publish_once(partial(original, self, args, kwargs, **options))
        if _delay_warned.get() is self:
            _delay_warned.set(None)  # only this call: what it runs (an eager task's own calls) is intercepted
        else:
            _warn_apply_async(self)
        if airlock.get_current_scope() is None:
            return original(self, args, kwargs, **options)
        _enqueue_apply_async(self, args, kwargs, options)
        return None

    return apply_async


def _direct(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Task.retry``/``Task.on_replace`` publishing what they publish straight to Celery (see :func:`_passing`)."""

    def direct(self: Task, *args: Any, **kwargs: Any) -> Any:
        return _passing(partial(original, self, *args, **kwargs))

    return direct


def _scoped_call(original: Callable[..., Any]) -> Callable[..., Any]:
    def __call__(self: Task, *args: Any, **kwargs: Any) -> Any:  # noqa: N807 - it replaces Task.__call__
        with airlock.scope(policy=airlock.AllowAll()):
            return original(self, *args, **kwargs)

    return __call__
