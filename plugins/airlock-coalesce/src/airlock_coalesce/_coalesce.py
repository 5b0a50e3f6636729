"""The merge itself: one pass over a flush's intents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._keys import Groups, KeyFunction, default_key

if TYPE_CHECKING:
    from airlock import FlushReport, Intent

__all__ = ["coalesce", "merge_counts"]


def coalesce(
    intents: Sequence[Intent],
    *,
    keep: str = "first",
    key: KeyFunction = default_key,
    enabled: Callable[[Intent], bool] | None = None,
    on_merge: Callable[[Intent, Intent], object] | None = None,
) -> list[Intent]:
    """``intents`` with every group of equal-key intents reduced to one.

    :param keep: ``"first"`` keeps each group's first intent at its place;
        ``"last"`` keeps its last intent at *its* place (the latest wins).
    :param key: what makes two intents the same (see :func:`default_key`).
    :param enabled: which intents take part (default: all); the others pass
        through untouched, in order.
    :param on_merge: called ``on_merge(merged, into)`` for each intent left
        out, in FIFO order (``FlushReport.record_merged``).

    Order is otherwise preserved. Runs in one pass; unhashable keys fall back
    to equality (see :class:`Groups`).
    """
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
    ordered = intents if keep == "first" else intents[::-1]
    groups = Groups()
    setdefault = groups.setdefault
    kept: list[Intent] = []
    merged: list[tuple[Intent, Intent]] = []
    plain_key = key is default_key
    for intent in ordered:
        if enabled is not None and not enabled(intent):
            kept.append(intent)
            continue
        if plain_key and not intent[2] and not intent[4]:
            into = setdefault((intent[0], intent[1]), intent)  # default_key, inlined: the bulk-loop case
        else:
            into = setdefault(key(intent), intent)
        if into is intent:
            kept.append(intent)
        else:
            merged.append((intent, into))
    if keep == "last":
        kept.reverse()
        merged.reverse()
    if on_merge is not None:
        for intent, into in merged:
            on_merge(intent, into)
    return kept


def merge_counts(report: FlushReport) -> list[tuple[Intent, int]]:
    """``(kept intent, how many were merged into it)`` for each group in ``report``, in merge order."""
    counts: dict[int, list[object]] = {}
    for _, into in report.merged:
        entry = counts.setdefault(id(into), [into, 0])
        entry[1] += 1  # type: ignore[operator]
    return [(into, n) for into, n in counts.values()]  # type: ignore[misc]
