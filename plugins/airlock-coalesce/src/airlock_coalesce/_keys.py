"""Coalescing keys, and grouping by key even when a key is not hashable."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airlock import Intent

__all__ = ["KeyFunction", "default_key", "Groups"]

#: Takes an intent, returns what makes two intents "the same" (ideally hashable).
KeyFunction = Callable[["Intent"], Any]

#: The option that switches coalescing on per intent; never part of a key.
_OWN_OPTION = "coalesce"


def default_key(intent: Intent) -> tuple[Any, ...]:
    """Task, positional arguments, keyword arguments and backend dispatch options.

    Keyword order does not matter. Dispatch options are part of the key so
    merging never drops one (two intents for different queues stay apart);
    the ``coalesce`` option itself is not. An intent with neither keyword
    arguments nor other options has the key ``(task, args)``. Reads fields
    by index, so it also takes the buffered plain tuples of
    ``airlock.intent.Buffered.items``.
    """
    kwargs, opts = intent[2], intent[4]
    if opts:
        opts = tuple(sorted((k, v) for k, v in opts.items() if k != _OWN_OPTION))
    if not kwargs and not opts:
        return (intent[0], intent[1])
    items = tuple(sorted(kwargs.items())) if len(kwargs) > 1 else tuple(kwargs.items())
    return (intent[0], intent[1], items, opts or ())


class Groups:
    """Maps keys to the first value (an intent, or its position) filed with an equal key.

    Hashable keys go through a dict: equal ones (``==``) are one key. An
    unhashable key (a list or dict argument) is filed under a hashable
    stand-in (see :func:`_fingerprint`) and compared with ``==`` to the keys
    filed there, so grouping stays about one dict lookup per key: equal
    lists, tuples, dicts and sets of hashable values merge, and other equal
    values when they pickle alike. A comparison that raises (e.g. numpy
    arrays) counts as "different".
    """

    __slots__ = ("_hashed", "_buckets")

    def __init__(self) -> None:
        self._hashed: dict[Hashable, Any] = {}
        self._buckets: dict[Hashable, list[tuple[Any, Any]]] = {}

    def setdefault(self, key: Any, value: Any) -> Any:
        """The value first filed under a key equal to ``key``; files ``value`` if none."""
        try:
            return self._hashed.setdefault(key, value)
        except TypeError:
            return self._unhashable(key, value)

    def _unhashable(self, key: Any, value: Any) -> Any:
        bucket = self._buckets.setdefault(_fingerprint(key), [])
        for other_key, first in bucket:
            if _equal(key, other_key):
                return first
        bucket.append((key, value))
        return value


def _fingerprint(value: Any) -> Hashable:
    """A hashable stand-in for ``value``, the same for equal values of the kinds it looks into.

    Hashable values stand for themselves; tuples, lists, dicts and sets for
    what they hold, tagged by kind (a list and a tuple are never equal);
    any other unhashable value (a dataclass, an unsaved model instance) for
    its pickle, else for its type, and ``==`` tells apart those filed alike.
    A value that holds itself stands for its type.
    """
    try:
        return _stand_in(value)
    except RecursionError:
        return ("value of type", type(value).__qualname__)


def _stand_in(value: Any) -> Hashable:
    try:
        hash(value)
        return value
    except Exception:  # unhashable (TypeError), or a __hash__ that fails otherwise
        pass
    if isinstance(value, tuple):
        return tuple(map(_stand_in, value))
    if isinstance(value, list):
        return ("list", tuple(map(_stand_in, value)))
    if isinstance(value, dict):  # keys are hashable; equal dicts hold equal items in any order
        return ("dict", frozenset((k, _stand_in(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(value))
    try:
        return ("pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # unpicklable (locks, lambdas...): equality alone decides, within the type
        return ("value of type", type(value).__qualname__)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False
