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
    arguments nor other options has the key ``(task, args)``.
    """
    kwargs, opts = intent[2], intent[4]
    if opts:
        opts = tuple(sorted((k, v) for k, v in opts.items() if k != _OWN_OPTION))
    if not kwargs and not opts:
        return (intent[0], intent[1])
    items = tuple(sorted(kwargs.items())) if len(kwargs) > 1 else tuple(kwargs.items())
    return (intent[0], intent[1], items, opts or ())


class Groups:
    """Maps keys to the first intent seen with an equal key.

    Hashable keys go through a dict. An unhashable key (a list or dict
    argument) falls back to equality: it is filed under a fingerprint (its
    pickle, else its type) and compared with ``==`` to the keys filed there,
    so equal values merge and nothing merges by accident of representation.
    A comparison that raises (e.g. numpy arrays) counts as "different".
    """

    __slots__ = ("_hashed", "_buckets")

    def __init__(self) -> None:
        self._hashed: dict[Hashable, Intent] = {}
        self._buckets: dict[Hashable, list[tuple[Any, Intent]]] = {}

    def setdefault(self, key: Any, intent: Intent) -> Intent:
        """The intent first filed under a key equal to ``key``; files ``intent`` if none."""
        try:
            return self._hashed.setdefault(key, intent)
        except TypeError:
            return self._unhashable(key, intent)

    def _unhashable(self, key: Any, intent: Intent) -> Intent:
        bucket = self._buckets.setdefault(_fingerprint(key), [])
        for other_key, first in bucket:
            if _equal(key, other_key):
                return first
        bucket.append((key, intent))
        return intent


def _fingerprint(key: Any) -> Hashable:
    try:
        return pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # unpicklable (locks, lambdas...): equality alone decides, within the type
        return type(key).__qualname__


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False
