"""Priority bands: which executor an intent of a given priority goes to."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import Any

import airlock

__all__ = ["Routes", "is_priority"]


def is_priority(value: Any) -> bool:
    """True for an int or float that is not a bool nor NaN (which would make the order inconsistent)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


class Routes:
    """A routing table ``{lowest priority of the band: executor}``.

    An intent goes to the executor of the highest band whose lower bound is
    at most its priority; below the lowest bound it is not routed (the
    scope's executor takes it). Executors are names (checked now against the
    installed and registered ones) or callables.
    """

    __slots__ = ("table", "_bounds", "_targets")

    def __init__(self, table: Mapping[Any, Any]) -> None:
        if not isinstance(table, Mapping) or not table:
            raise ValueError("expected a non-empty mapping {lowest priority of the band: executor name}")
        for bound, target in table.items():
            if not is_priority(bound):
                raise ValueError(f"band {bound!r}: a band starts at a number (e.g. {{8: 'sync', 0: 'celery'}})")
            try:
                airlock.resolve_executor(target)
            except (airlock.UnknownExecutorError, TypeError) as exc:
                raise ValueError(f"band {bound!r}: {exc}") from None
        self.table = dict(table)
        self._bounds = sorted(self.table)
        self._targets = [self.table[b] for b in self._bounds]

    def executor_for(self, priority: float) -> Any:
        """The executor (name or callable) for ``priority``, or None when it is below every band."""
        index = bisect_right(self._bounds, priority)
        return self._targets[index - 1] if index else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Routes) and other.table == self.table

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Routes({self.table!r})"
