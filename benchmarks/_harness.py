"""Shared helpers for the benchmarks: interleaved timing and ratio tables.

Machines here are noisy, so every comparison runs its contestants in
alternation, several rounds, keeping each one's best (minimum) time, and
reports ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Mapping, Sequence

__all__ = ["interleaved", "table", "JSON_PREFIX", "emit_json", "ratio", "goal", "targets_table"]

#: Prefix of the machine-readable lines a bench script prints (see README.md).
JSON_PREFIX = "BENCH-JSON "


def interleaved(contestants: dict[str, Callable[[], object]], rounds: int = 7, per_round: int = 1) -> dict[str, float]:
    """Best wall time in seconds of each contestant, run in alternation.

    Each timed run starts after ``gc.collect()`` (untimed), as the core
    benchmark's worker does: garbage one contestant left behind must not
    make the next one's collections longer.
    """
    best = {name: float("inf") for name in contestants}
    for _ in range(rounds):
        for name, fn in contestants.items():
            for _ in range(per_round):
                gc.collect()
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pipe-separated) with a title line."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to 2 places, or None when either is missing."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def emit_json(
    title: str,
    unit: str,
    rows: Sequence[Mapping[str, object]],
    targets: Sequence[Mapping[str, object]] = (),
) -> None:
    """Print one table as a ``BENCH-JSON {...}`` line for ``benchmarks/run.py``.

    ``rows`` are ``{"name": str, "values": {contestant: number | None},
    "ratios": {"a/b": number | None}}``; ``targets`` are ``{"name": str,
    "measured": number | None, "limit": number, "met": bool | None}``. The
    format is documented in ``benchmarks/README.md``.
    """
    record = {"title": title, "unit": unit, "rows": list(rows), "targets": list(targets)}
    print(JSON_PREFIX + json.dumps(record, sort_keys=True), flush=True)


def goal(name: str, measured: float | None, limit: float) -> dict[str, object]:
    """A target: met when ``measured <= limit``; ``met`` is None when nothing was measured."""
    return {"name": name, "measured": measured, "limit": limit, "met": None if measured is None else measured <= limit}


def targets_table(goals: Sequence[Mapping[str, object]], title: str = "Targets") -> str:
    """The goals made by :func:`goal` as a Markdown table: measured, limit, met or missed."""
    verdict = {True: "met", False: "**missed**", None: "n/a"}

    def number(value: object) -> str:
        return "n/a" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    rows = [[g["name"], number(g["measured"]), number(g["limit"]), verdict[g["met"]]] for g in goals]  # type: ignore[index]
    return table(title, ["target", "measured", "limit", "result"], rows)
