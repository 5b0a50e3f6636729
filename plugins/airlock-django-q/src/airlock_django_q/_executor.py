"""The ``django_q`` executor: ``async_task(task, *args, **kwargs, **dispatch_options)``.

django-q2's ``async_task`` takes its own options and the task's keyword
arguments through the same ``**kwargs``: a name it knows is an option, any
other name goes to the task. Given ``q_options``, it takes the options from
there and leaves the task's keyword arguments alone. The executor therefore
hands every option over in ``q_options`` (``task_name`` as itself: django-q2
always takes that one), and turns what would still go wrong into a
``TypeError`` at flush time, before anything is queued:

- a dispatch option django-q2 does not know (``countdown``, ``queue``) would
  be handed to the task as a keyword argument, failing later in a worker;
- an option given both directly and in ``q_options`` with different values;
- a task keyword argument django-q2 would take as its own: ``func``,
  ``task_name`` and ``q_options`` always, and any option name (``timeout``, ``group``,
  ``hook``) that the intent's options do not set themselves.

Within a flush, once an intent could not connect to its broker (Redis
refusing the connection, say), the flush's later intents for the same
broker fail at once with ``BrokerUnreachable`` instead of each waiting out
the client's reconnect attempts (see ``airlock.executors.chunked``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from airlock import Intent
from airlock.executors.chunked import UnreachableBrokers

if TYPE_CHECKING:
    from airlock import FlushReport

__all__ = ["ASYNC_TASK_OPTIONS", "django_q_executor"]

#: The options ``django_q.tasks.async_task`` accepts, as ``dispatch_options``.
ASYNC_TASK_OPTIONS = frozenset(
    {
        "task_name",
        "hook",
        "group",
        "save",
        "sync",
        "cached",
        "ack_failure",
        "iter_count",
        "iter_cached",
        "chain",
        "broker",
        "cluster",
        "timeout",
        "q_options",
    }
)

# Options from other backends people bring along, and what to do instead.
_HINTS = {
    "countdown": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "eta": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "delay": "django-q2 has no delayed tasks; use django_q.tasks.schedule() for those",
    "queue": "use 'cluster', a cluster name from Q_CLUSTER['ALT_CLUSTERS']",
    "name": "use 'task_name'",
    "priority": (
        "django-q2 has no task priorities; route by priority to another executor with airlock-priority's "
        "priority_routes (which leaves the option on), or leave it out"
    ),
}

_async_task: Callable[..., Any] | None = None


#: Task keyword arguments django-q2 takes as its own whatever ``q_options`` holds
#: (``func`` is ``async_task``'s own first parameter).
_ALWAYS_TAKEN = frozenset({"func", "task_name", "q_options"})


class _Breaker(UnreachableBrokers):
    __slots__ = ()
    label = "airlock-django-q"


#: The breaker of the flush running in this context, if any.
_breaker: ContextVar[_Breaker | None] = ContextVar("airlock_django_q_breaker", default=None)


def django_q_executor(intent: Intent) -> Any:
    """Queue ``intent`` with django-q2; return what ``async_task`` returns.

    That is the task id, also when ``sync=True`` runs it inline (its result
    is then stored: ``django_q.tasks.result(task_id)``).
    ``dispatch_options`` are ``async_task`` options (see
    :data:`ASYNC_TASK_OPTIONS`), given directly or in ``q_options``, a dict
    of those same options; the executor passes them all in ``q_options``, so
    the task's keyword arguments reach the task whatever their names.
    Raises ``TypeError`` for an unknown option, an option given twice with
    different values, and a task keyword argument that django-q2 would take
    as an option. django-q2 is imported on the first call, so Django must be
    configured by then. Broker errors (``django.db.OperationalError`` for
    the ORM broker, ``redis.ConnectionError``, ...) propagate unchanged;
    within a flush, after one that says the broker could not be reached,
    the flush's later intents for that broker raise ``BrokerUnreachable``.
    """
    kwargs, options = intent.kwargs, intent.dispatch_options
    q_options = _q_options(intent, options) if options else {}
    named = {"task_name": q_options.pop("task_name")} if "task_name" in q_options else {}
    if kwargs:
        # django-q2 takes an option from q_options if it is there, else from these keyword arguments
        taken = (ASYNC_TASK_OPTIONS.difference(q_options) | _ALWAYS_TAKEN).intersection(kwargs)
        if taken:
            _reject_taken_kwargs(intent, taken)
    async_task = _async_task or _load_async_task()

    def queue(intent: Intent) -> Any:
        if q_options:
            return async_task(intent.task, *intent.args, **kwargs, **named, q_options=q_options)
        return async_task(intent.task, *intent.args, **kwargs, **named)

    breaker = _breaker.get()
    if breaker is None:
        return queue(intent)
    return breaker.guarded(intent, _broker_of(q_options), queue)


def _broker_of(q_options: Mapping[str, Any]) -> Hashable:
    """Where ``async_task`` sends an intent with these options: the given
    broker's class and list key (a new instance per intent is the same
    broker), else the cluster's configured broker."""
    broker = q_options.get("broker")
    if broker is not None:
        return (type(broker), getattr(broker, "list_key", None))
    return ("cluster", q_options.get("cluster"))


@contextmanager
def _flush_context(report: FlushReport) -> Iterator[None]:
    """Entered by the core around a flush: a fresh breaker for it."""
    token = _breaker.set(_Breaker())
    try:
        yield
    finally:
        _breaker.reset(token)


django_q_executor.flush_context = _flush_context  # type: ignore[attr-defined]


def _load_async_task() -> Callable[..., Any]:
    global _async_task
    from django_q.tasks import async_task

    _async_task = async_task
    return async_task


def _q_options(intent: Intent, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of ``options`` in one new dict (``q_options`` merged in), checked."""
    unknown = sorted(set(options) - ASYNC_TASK_OPTIONS)
    shown = [repr(name) for name in unknown]
    merged = {name: value for name, value in options.items() if name != "q_options"}
    nested = options.get("q_options")
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise TypeError(
                f"airlock django_q executor: dispatch option 'q_options' of task {intent.name!r} must be a dict "
                f"of async_task options, got {type(nested).__name__}."
            )
        inner = sorted(set(nested) - ASYNC_TASK_OPTIONS)
        unknown += inner
        shown += [f"q_options[{name!r}]" for name in inner]
        twice = sorted(name for name in nested if name in merged and merged[name] != nested[name])
        if twice:
            raise TypeError(
                f"airlock django_q executor: task {intent.name!r} has the option(s) {', '.join(map(repr, twice))} "
                "both directly and in q_options, with different values; give each once."
            )
        merged.update(nested)
    if unknown:
        hints = "".join(f" For {name!r}: {_HINTS[name]}." for name in dict.fromkeys(unknown) if name in _HINTS)
        raise TypeError(
            f"airlock django_q executor: django-q2's async_task() does not accept the dispatch option(s) "
            f"{', '.join(shown)} for task {intent.name!r}; it would pass them to the task as keyword arguments. "
            f"Accepted: {', '.join(sorted(ASYNC_TASK_OPTIONS))}.{hints}"
        )
    return merged


def _reject_taken_kwargs(intent: Intent, taken: set[str] | frozenset[str]) -> None:
    hint = "" if _ALWAYS_TAKEN.issuperset(taken) else " (or set that option in the intent's dispatch options)"
    raise TypeError(
        f"airlock django_q executor: task {intent.name!r} has keyword argument(s) "
        f"{', '.join(map(repr, sorted(taken)))}, which django-q2's async_task() takes as its own option(s): the "
        f"task would never receive them. Rename the task's parameter(s), or pass the value positionally{hint}."
    )
