"""The merge itself: one pass over a flush's intents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import compress
from operator import is_not, itemgetter
from typing import TYPE_CHECKING, Any

from ._keys import Groups, KeyFunction, default_key

if TYPE_CHECKING:
    from airlock import FlushReport, Intent

__all__ = ["coalesce", "merge_counts"]

#: Intent fields, read at C speed. ``_TASK_AND_ARGS`` is ``default_key`` of an
#: intent without keyword arguments or dispatch options.
_TASK, _ARGS, _KWARGS, _OPTIONS = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(4)
_TASK_AND_ARGS = itemgetter(0, 1)


def coalesce(
    intents: Sequence[Intent],
    *,
    keep: str = "first",
    key: KeyFunction = default_key,
    enabled: Callable[[Intent], bool] | None = None,
    on_merge: Callable[[Iterable[tuple[Intent, Intent]]], object] | None = None,
) -> list[Intent]:
    """``intents`` with every group of equal-key intents reduced to one.

    :param keep: ``"first"`` keeps each group's first intent at its place;
        ``"last"`` keeps its last intent at *its* place (the latest wins).
    :param key: what makes two intents the same (see :func:`default_key`);
        called at most once per intent that takes part.
    :param enabled: which intents take part (default: all); the others pass
        through untouched, in order.
    :param on_merge: called once with the ``(merged, into)`` pairs of the
        intents left out, in FIFO order (``FlushReport.record_merged_many``).

    Order is otherwise preserved. Runs in one pass; unhashable keys fall back
    to equality (see :class:`Groups`).
    """
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
    ordered = intents if keep == "first" else intents[::-1]
    if enabled is None:
        kept, left_out, into = _merge_all(ordered, key)
    else:
        kept, left_out, into = _merge_enabled(ordered, key, enabled)
    if keep == "last":
        kept.reverse()
        left_out.reverse()
        into.reverse()
    if on_merge is not None and left_out:
        on_merge(zip(left_out, into, strict=True))
    return kept


#: What a merge returns: the kept intents, those left out, and for each of
#: those the kept intent it was merged into.
Merge = tuple[list["Intent"], list["Intent"], list["Intent"]]


def _merge_all(ordered: Sequence[Intent], key: KeyFunction) -> Merge:
    """Every intent takes part: group in C-level loops while keys are hashable.

    In the bulk case (the default key; no keyword arguments or dispatch
    options) no Python code runs per intent: keys come from ``itemgetter``
    (the arguments alone when every intent has the same task, as in a bulk
    loop), ``dict.setdefault`` maps each intent to its group's first, the
    dict's values are the kept intents in order, and ``compress`` picks the
    left-out ones.
    """
    keys: Iterable[Any]
    if key is default_key and not any(map(_KWARGS, ordered)) and not any(map(_OPTIONS, ordered)):
        same_task = len(set(map(_TASK, ordered))) == 1
        keys = map(_ARGS, ordered) if same_task else map(_TASK_AND_ARGS, ordered)
    else:
        keys = list(map(key, ordered))  # computed once, even if the fallback below runs
    first: dict[Any, Intent] = {}
    try:
        into = list(map(first.setdefault, keys, ordered))
    except TypeError:  # an unhashable key: group by equality instead
        keys = keys if isinstance(keys, list) else map(_TASK_AND_ARGS, ordered)
        return _merge_keyed(ordered, keys)
    kept = list(first.values())
    if len(kept) == len(ordered):
        return kept, [], []
    was_merged = list(map(is_not, ordered, into))
    return kept, list(compress(ordered, was_merged)), list(compress(into, was_merged))


def _merge_keyed(ordered: Sequence[Intent], keys: Iterable[Any]) -> Merge:
    """Group ``ordered`` by precomputed ``keys``, hashable or not."""
    setdefault = Groups().setdefault
    kept: list[Intent] = []
    left_out: list[Intent] = []
    into: list[Intent] = []
    for intent, k in zip(ordered, keys, strict=True):
        first = setdefault(k, intent)
        if first is intent:
            kept.append(intent)
        else:
            left_out.append(intent)
            into.append(first)
    return kept, left_out, into


def _merge_enabled(ordered: Sequence[Intent], key: KeyFunction, enabled: Callable[[Intent], bool]) -> Merge:
    """Only the intents ``enabled`` accepts take part; the others keep their places."""
    setdefault = Groups().setdefault
    kept: list[Intent] = []
    left_out: list[Intent] = []
    into: list[Intent] = []
    for intent in ordered:
        if not enabled(intent):
            kept.append(intent)
            continue
        first = setdefault(key(intent), intent)
        if first is intent:
            kept.append(intent)
        else:
            left_out.append(intent)
            into.append(first)
    return kept, left_out, into


def merge_counts(report: FlushReport) -> list[tuple[Intent, int]]:
    """``(kept intent, how many were merged into it)`` for each group in ``report``, in merge order."""
    counts: dict[int, list[object]] = {}
    for _, into in report.merged:
        entry = counts.setdefault(id(into), [into, 0])
        entry[1] += 1  # type: ignore[operator]
    return [(into, n) for into, n in counts.values()]  # type: ignore[misc]
