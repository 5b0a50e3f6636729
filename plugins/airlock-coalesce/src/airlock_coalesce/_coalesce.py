"""The merge itself: one pass over a flush's intents, by position."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import compress
from operator import countOf, eq, itemgetter, ne
from typing import TYPE_CHECKING, Any

from ._keys import Groups, KeyFunction, default_key

if TYPE_CHECKING:
    from airlock import FlushReport, Intent

__all__ = ["coalesce", "group", "merge_counts"]

#: Intent fields, read at C speed; buffered plain tuples index alike. ``_TASK_AND_ARGS``
#: is ``default_key`` of an intent without keyword arguments or dispatch options.
_TASK, _ARGS, _KWARGS, _OPTIONS = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(4)
_TASK_AND_ARGS = itemgetter(0, 1)

#: What grouping returns: the kept positions in order, and for every position
#: the position of the kept intent it merges into (itself when kept).
Grouping = tuple[list[int], list[int]]


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
        intents left out, in FIFO order (``FlushReport.record_merged_many``);
        not called when nothing merged.

    Order is otherwise preserved. Runs in one pass; unhashable keys fall back
    to equality (see :class:`Groups`).
    """
    items = intents if isinstance(intents, list) else list(intents)
    kept, into = group(items, keep=keep, key=key, enabled=enabled)
    if on_merge is not None and len(kept) < len(items):
        was_merged = list(map(ne, into, range(len(into))))
        on_merge(zip(compress(items, was_merged), map(items.__getitem__, compress(into, was_merged)), strict=True))
    return list(map(items.__getitem__, kept))


def group(
    items: Sequence[Any],
    *,
    keep: str = "first",
    key: KeyFunction = default_key,
    enabled: Callable[[Any], bool] | None = None,
) -> Grouping:
    """:func:`coalesce` by position: ``(kept, into)``.

    ``kept`` lists the positions of the intents kept, in order; ``into[p]``
    is the position of the kept intent that ``items[p]`` merges into, or
    ``p`` when it is kept (the form of ``FlushReport.record_merged_at``).
    ``items`` may hold the buffered plain tuples of ``Buffered.items`` when
    ``key`` and ``enabled`` read fields by index, as :func:`default_key` does.
    """
    return _group(items, keep, key, enabled, None)


def _group(
    items: Sequence[Any],
    keep: str,
    key: KeyFunction,
    enabled: Callable[[Any], bool] | None,
    has_options: bool | None,
) -> Grouping:
    """:func:`group`; ``has_options`` says whether any item has dispatch options, if the caller looked."""
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
    n = len(items)
    if keep == "first":
        ordered, positions = items, range(n)
    else:  # the same pass from the end: each group's last intent comes first
        ordered, positions = items[::-1], range(n - 1, -1, -1)
    if enabled is None:
        if has_options is None:
            has_options = any(map(_OPTIONS, ordered))
        kept, into = _group_all(items, ordered, positions, key, has_options)
    else:
        kept, into = _group_enabled(ordered, positions, key, enabled)
    if keep == "last":
        kept.reverse()
        into.reverse()
    return kept, into


def _group_all(
    items: Sequence[Any], ordered: Sequence[Any], positions: range, key: KeyFunction, has_options: bool
) -> Grouping:
    """Every intent takes part: group in C-level loops while keys are hashable.

    With the default key and no dispatch options (a bulk loop), no Python
    code runs per intent: intents are grouped by arguments (and task, unless
    all share one) read with ``itemgetter``, ``dict.setdefault`` maps each to
    its group's first position, the dict's values are the kept positions in
    order; then each intent's keyword arguments are compared with its
    group's first's (``dict ==``), which is what ``default_key`` compares.
    Only if one differs do the full keys decide.
    """
    if not ordered:
        return [], []
    if key is not default_key or has_options:
        return _group_by_keys(list(map(key, ordered)), positions)
    same_task = countOf(map(_TASK, ordered), ordered[0][0]) == len(ordered)
    first: dict[Any, int] = {}
    try:
        into = list(map(first.setdefault, map(_ARGS if same_task else _TASK_AND_ARGS, ordered), positions))
    except TypeError:  # an unhashable argument
        return _group_by_keys(list(map(key, ordered)), positions)
    if any(map(_KWARGS, ordered)) and not _same_kwargs(ordered, map(items.__getitem__, into)):
        return _group_by_keys(list(map(key, ordered)), positions)  # same arguments, other keyword arguments
    return list(first.values()), into


def _same_kwargs(intents: Iterable[Any], firsts: Iterable[Any]) -> bool:
    """True if every intent's keyword arguments equal those of the intent paired with it."""
    try:
        return all(map(eq, map(_KWARGS, intents), map(_KWARGS, firsts)))
    except Exception:  # a comparison that raises (numpy arrays): let the keys decide
        return False


def _group_by_keys(keys: list[Any], positions: range) -> Grouping:
    """Group ``positions`` by precomputed ``keys``: in a dict while they are hashable."""
    first: dict[Any, int] = {}
    try:
        into = list(map(first.setdefault, keys, positions))
    except TypeError:  # an unhashable key: group by equality instead
        return _group_keyed(keys, positions)
    return list(first.values()), into


def _group_keyed(keys: Iterable[Any], positions: range) -> Grouping:
    """Group ``positions`` by precomputed ``keys``, hashable or not."""
    setdefault = Groups().setdefault
    kept: list[int] = []
    into: list[int] = []
    for k, position in zip(keys, positions, strict=True):
        first = setdefault(k, position)
        if first == position:
            kept.append(position)
        into.append(first)
    return kept, into


def _group_enabled(
    ordered: Sequence[Any], positions: range, key: KeyFunction, enabled: Callable[[Any], bool]
) -> Grouping:
    """Only the intents ``enabled`` accepts take part; the others keep their places."""
    setdefault = Groups().setdefault
    kept: list[int] = []
    into: list[int] = []
    for item, position in zip(ordered, positions, strict=True):
        first = setdefault(key(item), position) if enabled(item) else position
        if first == position:
            kept.append(position)
        into.append(first)
    return kept, into


def merge_counts(report: FlushReport) -> list[tuple[Intent, int]]:
    """``(kept intent, how many were merged into it)`` for each group in ``report``, in merge order."""
    counts: dict[int, list[object]] = {}
    for _, into in report.merged:
        entry = counts.setdefault(id(into), [into, 0])
        entry[1] += 1  # type: ignore[operator]
    return [(into, n) for into, n in counts.values()]  # type: ignore[misc]
