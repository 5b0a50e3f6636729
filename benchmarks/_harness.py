"""Shared helpers for the benchmarks: interleaved timing and ratio tables.

Machines here are noisy, so every comparison runs its contestants in
alternation, several rounds, keeping each one's best (minimum) time, and
reports ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

__all__ = ["interleaved", "table"]


def interleaved(contestants: dict[str, Callable[[], object]], rounds: int = 7, per_round: int = 1) -> dict[str, float]:
    """Best wall time in seconds of each contestant, run in alternation."""
    best = {name: float("inf") for name in contestants}
    for _ in range(rounds):
        for name, fn in contestants.items():
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pipe-separated) with a title line."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
