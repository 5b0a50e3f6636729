"""``Intent``: the immutable record of one side effect someone asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from operator import add, itemgetter
from types import FunctionType
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from .policies import Policy

__all__ = ["Intent", "Buffered"]

_new_tuple = tuple.__new__
#: What a buffered plain tuple lacks to be an Intent's fields: local policies and explicit name.
_PLAIN_TAIL = ((), None)


class Intent(tuple):  # type: ignore[type-arg]
    """One side effect: a callable, its arguments, and how to dispatch it.

    Immutable, like a named tuple: ``task``, ``args`` (always a tuple; a list
    given is converted), ``kwargs``, ``origin`` (free text for observability,
    or None) and ``dispatch_options`` (options for the backend, such as
    Celery's ``countdown`` or ``queue``, or None). Equality compares every
    field; intents are not hashable because ``kwargs`` may hold unhashable
    values. Use :meth:`replace` to derive a changed copy.

    Example::

        >>> intent = Intent(task=print, args=[1], kwargs={"sep": "-"})
        >>> intent.args
        (1,)
        >>> str(intent)
        "print(1, sep='-')"
    """

    __slots__ = ()

    def __new__(
        cls,
        task: Callable[..., Any],
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        origin: str | None = None,
        dispatch_options: dict[str, Any] | None = None,
        _local_policies: Iterable[Policy] = (),
        _explicit_name: str | None = None,
    ) -> Intent:
        return _new_tuple(
            cls,
            (
                task,
                args if type(args) is tuple else tuple(args),
                {} if kwargs is None else kwargs,
                origin,
                dispatch_options,
                _local_policies if type(_local_policies) is tuple else tuple(_local_policies),
                _explicit_name,
            ),
        )

    task: Callable[..., Any] = property(itemgetter(0), doc="The callable to run.")  # type: ignore[assignment]
    args: tuple[Any, ...] = property(itemgetter(1), doc="Positional arguments.")  # type: ignore[assignment]
    kwargs: dict[str, Any] = property(itemgetter(2), doc="Keyword arguments.")  # type: ignore[assignment]
    origin: str | None = property(itemgetter(3), doc="Where it came from, if the caller said.")  # type: ignore[assignment]
    dispatch_options: dict[str, Any] | None = property(  # type: ignore[assignment]
        itemgetter(4), doc="Options for the backend (and for middleware that declare them)."
    )
    local_policies: tuple[Policy, ...] = property(  # type: ignore[assignment]
        itemgetter(5), doc="The ``airlock.policy(...)`` contexts active at enqueue, outermost first."
    )
    _local_policies: tuple[Policy, ...] = property(itemgetter(5))  # type: ignore[assignment]
    _explicit_name: str | None = property(itemgetter(6))  # type: ignore[assignment]

    @property
    def name(self) -> str:
        """A short name for logs and policies.

        The ``_name=`` given at enqueue if any; else the last dotted part of
        the task's :attr:`registered_name` (Celery: ``"app.tasks.send_email"``
        gives ``"send_email"``; Dramatiq: the actor's ``actor_name``); else
        ``__name__``; else the ``__name__`` of its ``func``
        (``functools.partial``, Huey tasks); else ``str(task)``.
        """
        explicit = self[6]
        if explicit is not None:
            return explicit
        task = self[0]
        task_name = _registered_name(task)
        if task_name is not None:
            return task_name.rsplit(".", 1)[-1]
        name = getattr(task, "__name__", None)
        if name is None:  # wrappers such as functools.partial and Huey tasks keep the function as .func
            name = getattr(getattr(task, "func", None), "__name__", None)
        return name or str(task)

    @property
    def registered_name(self) -> str | None:
        """The name the task queue knows the task by, or None for a plain callable.

        A Celery task's ``name`` (``"shop.tasks.send_email"``), a Dramatiq
        actor's ``actor_name``, a Huey task's ``name`` when one was given.
        """
        return _registered_name(self[0])

    def passes_local_policies(self) -> bool:
        """True if every local policy allows this intent (innermost first).

        This says nothing about the scope's own policy, whether the scope
        flushes, or whether dispatch succeeds: use it to inspect, not predict.
        """
        return all(p.allows(self) for p in reversed(self[5]))

    def replace(self, **changes: Any) -> Intent:
        """A copy with the given fields changed, e.g. ``replace(dispatch_options={})``."""
        fields = dict(zip(_FIELDS, self, strict=True))
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise TypeError(f"Intent.replace() got unknown field(s): {', '.join(sorted(unknown))}")
        fields.update(changes)
        return type(self)(**fields)

    def __getnewargs__(self) -> tuple[Any, ...]:  # so pickle and copy rebuild through __new__
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Intent):
            return tuple.__eq__(self, other)
        return False if isinstance(other, tuple) else NotImplemented  # never equal to a plain tuple

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        parts = [repr(a) for a in self[1]]
        parts.extend(f"{k}={v!r}" for k, v in self[2].items())
        return f"{self.name}({', '.join(parts)})"

    def __repr__(self) -> str:
        extra = ""
        if self[3]:
            extra += f", origin={self[3]!r}"
        if self[4]:
            extra += f", dispatch_options={self[4]!r}"
        if self[5]:
            extra += f", policies={len(self[5])}"
        return f"Intent({self.name!r}, args={self[1]!r}, kwargs={self[2]!r}{extra})"


def as_intent(item: Intent | tuple[Any, ...]) -> Intent:
    """The Intent for a buffered item.

    ``enqueue()``'s fast path buffers a plain tuple ``(task, args, kwargs,
    None, None)`` (a third of the cost of building an Intent) when the
    intent has no name, origin, options or local policies; it becomes an
    Intent only when something can observe it. Both forms index alike for
    fields 0 to 4 (task, args, kwargs, origin, dispatch_options).
    """
    if type(item) is tuple:
        return _from_plain(item)
    return item  # type: ignore[return-value]


def _from_plain(item: tuple[Any, ...]) -> Intent:
    return _new_tuple(Intent, item + _PLAIN_TAIL)


#: From this length on, a list of plain tuples only is promoted without a Python-level
#: loop (measured: below it, setting up the iterators costs more than the loop).
_BULK = 32


def promote(items: list[Any]) -> list[Intent]:
    """Turn every buffered plain tuple in ``items`` into an Intent, in place; returns ``items``."""
    if len(items) >= _BULK:
        kinds = set(map(type, items))
        if tuple not in kinds:
            return items
        if len(kinds) == 1:  # a bulk loop's buffer: all plain
            items[:] = map(_new_tuple, repeat(Intent), map(add, items, repeat(_PLAIN_TAIL)))
            return items
    for index, item in enumerate(items):
        if type(item) is tuple:
            items[index] = _from_plain(item)
    return items


class Buffered(Sequence[Intent]):
    """A flush's intents as the scope buffered them, made Intents only on demand.

    ``enqueue()`` buffers most intents as plain tuples (see :func:`as_intent`);
    an ``airlock_before_flush`` implementation that asks for ``buffered``
    instead of ``intents`` receives this view, so that a flush that keeps
    few of many intents (coalescing) need not build an Intent for each.

    ``items`` is the underlying list: read it, never change it. Each item
    indexes like an Intent for fields 0 to 4 (task, args, kwargs, origin,
    dispatch_options); some are plain tuples. Indexing, slicing, iterating
    and :meth:`at` give Intents, built in place once each, so
    ``buffered[i] is buffered[i]`` and the report, the executor and
    ``scope.intents`` all see the same objects.
    """

    __slots__ = ("items", "_taken")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        #: Positions handed out as Intents, in order; None once every item was.
        self._taken: list[int] | None = []

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Intent: ...

    @overload
    def __getitem__(self, index: slice) -> list[Intent]: ...

    def __getitem__(self, index: int | slice) -> Intent | list[Intent]:
        if isinstance(index, slice):
            return self.at(range(*index.indices(len(self.items))))
        return self.at((range(len(self.items))[index],))[0]  # IndexError as a list's, negatives allowed

    def __iter__(self) -> Iterator[Intent]:
        self._taken = None
        return iter(promote(self.items))

    def at(self, positions: Iterable[int]) -> list[Intent]:
        """The Intents at ``positions`` (in that order), building only those."""
        items = self.items
        positions = positions if isinstance(positions, (list, range, tuple)) else list(positions)
        for position in positions:
            if type(items[position]) is tuple:
                items[position] = _from_plain(items[position])
        if self._taken is not None:
            self._taken.extend(positions)
        return list(map(items.__getitem__, positions))

    def __repr__(self) -> str:
        return f"<Buffered intents={len(self.items)}>"


_FIELDS = (
    "task",
    "args",
    "kwargs",
    "origin",
    "dispatch_options",
    "_local_policies",
    "_explicit_name",
)


def same_call(a: Intent, b: Intent) -> bool:
    """``a`` is ``b``, or a copy made from it with ``replace`` (an executor may
    receive one with plugin options stripped): a copy shares the very same
    task, args and kwargs objects."""
    return a is b or (a[0] is b[0] and a[1] is b[1] and a[2] is b[2])


def described(intent: Intent, limit: int = 120) -> str:
    """``intent`` as a call (``str(intent)``) cut to ``limit`` characters, for
    error messages; its name alone if an argument's repr fails, so that a
    message never replaces the error it reports."""
    try:
        text = str(intent)
    except Exception:
        return intent.name
    return text if len(text) <= limit else text[: limit - 1] + "…"


def described_some(intents: Sequence[Intent], shown: int = 5) -> str:
    """The first ``shown`` of ``intents`` as calls (:func:`described`), and how
    many more: ``"a(1), b(2), and 4 more"``, for a message that must say which."""
    text = ", ".join(described(intent) for intent in intents[:shown])
    return f"{text}, and {len(intents) - shown} more" if len(intents) > shown else text


def _registered_name(task: Any) -> str | None:
    """``task.name`` (Celery, Huey when named), else ``task.actor_name`` (Dramatiq), if a string."""
    name = getattr(task, "name", None)
    if isinstance(name, str):
        return name
    if type(task) is FunctionType:  # the common case, without a failing getattr (functools.wraps copies __dict__)
        name = task.__dict__.get("actor_name")
    else:
        name = getattr(task, "actor_name", None)
    return name if isinstance(name, str) else None
