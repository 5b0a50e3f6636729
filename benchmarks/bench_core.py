"""The core's hot path, ours vs airlock-py 0.1.0a3, as ratios against a floor.

Per intent: enqueue N=10,000 no-op intents in one scope, flushed with
``sync``; per scope: ``with scope(): pass``, a scope with one intent, three
nested scopes with one intent in the innermost (captured by the outermost).
The floor is the least the same job can cost in plain Python (see
``_core_worker.py``), measured in the same process as each contestant.

Ours runs in a virtualenv holding airlock-core alone (no plugin installed);
airlock-py in its own virtualenv (same import name). Each is a long-lived
worker process; the parent asks them for one round of timings in
alternation, many rounds, and keeps each case's best.

Usage: ``python benchmarks/bench_core.py [--rounds N] [--reps N]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _harness import emit_json, goal, ratio, table, targets_table
from _venvs import AIRLOCK_PY, VenvError, airlock_py_python, core_python

WORKER = Path(__file__).with_name("_core_worker.py")
OURS, THEIRS = "ours", "airlock-py"


class Worker:
    """One ``_core_worker.py`` process, asked one command at a time."""

    def __init__(self, label: str, python: Path) -> None:
        self.label = label
        self.process = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.hello = self._read()

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=10)
            raise RuntimeError(f"the {self.label} worker exited with status {code} (its stderr is above)")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the {self.label} worker: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.ask("quit")
            except (RuntimeError, BrokenPipeError):
                pass
            self.process.wait(timeout=10)


def start_workers() -> dict[str, Worker]:
    """Our worker, and airlock-py's when its virtualenv can be made."""
    workers = {OURS: Worker(OURS, core_python())}
    try:
        workers[THEIRS] = Worker(THEIRS, airlock_py_python())
    except VenvError as exc:
        print(f"bench_core: no {AIRLOCK_PY} to compare with ({exc}); reporting ours only.", file=sys.stderr)
    return workers


def check_delivery(workers: dict[str, Worker]) -> list[str]:
    """Every case must have run every task it enqueued (and the plugins every hook)."""
    problems = []
    for label, worker in workers.items():
        for case, counts in worker.ask("check").items():
            wanted = counts.pop("expected")
            for what, got in counts.items():
                if got != wanted:
                    problems.append(f"{label} / {case}: {what} {got}, expected {wanted}")
    return problems


def measure(workers: dict[str, Worker], rounds: int, reps: int) -> dict[str, dict[str, float]]:
    """Best seconds per operation, per worker and case, over alternating rounds."""
    best: dict[str, dict[str, float]] = {label: {} for label in workers}
    for number in range(rounds):
        order = list(workers) if number % 2 == 0 else list(reversed(workers))
        for label in order:
            for case, seconds in workers[label].ask(f"round {reps}").items():
                best[label][case] = min(seconds, best[label].get(case, float("inf")))
    return best


def ns(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e9, 1)


def show_ns(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ns"


def show_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def build_rows(best: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per case: floor, ours and airlock-py in ns, and the three ratios.

    The floor is the one measured next to ours; airlock-py's ratio uses the
    floor measured in its own process. ``intent with plugins`` is compared
    with airlock-py's ``intent`` (it has no plugins).
    """
    ours, theirs = best[OURS], best.get(THEIRS, {})
    cases = [
        ("per intent, no plugins", "intent", "intent"),
        ("per intent, enqueue hook + execute wrapper", "intent with plugins", "intent"),
        ("empty scope", "empty scope", "empty scope"),
        ("scope with one intent", "one-intent scope", "one-intent scope"),
        ("3 nested scopes, one intent", "nested scopes", "nested scopes"),
    ]
    rows = []
    for label, our_case, their_case in cases:
        floor_case = their_case + " floor"
        values = {
            "floor": ns(ours.get(floor_case)),
            OURS: ns(ours.get(our_case)),
            THEIRS: ns(theirs.get(their_case)),
        }
        their_floor = ns(theirs.get(floor_case))
        ratios = {
            f"{OURS}/floor": ratio(values[OURS], values["floor"]),
            f"{THEIRS}/floor": ratio(values[THEIRS], their_floor),
            f"{OURS}/{THEIRS}": ratio(values[OURS], values[THEIRS]),
        }
        rows.append({"name": label, "values": values, "ratios": ratios})
    return rows


def targets(rows: list[dict[str, Any]]) -> list[dict[str, object]]:
    """The goals of issue #2, checked against this run (ratios; lower is better)."""
    ratios = {row["name"]: row["ratios"] for row in rows}
    return [
        goal("per intent, no plugins: ours / floor", ratios["per intent, no plugins"][f"{OURS}/floor"], 2.0),
        goal("per intent, no plugins: ours / airlock-py", ratios["per intent, no plugins"][f"{OURS}/{THEIRS}"], 0.25),
        goal(
            "per intent, the two plugins: ours / airlock-py without plugins",
            ratios["per intent, enqueue hook + execute wrapper"][f"{OURS}/{THEIRS}"],
            1.0,
        ),
        goal("empty scope: ours / airlock-py", ratios["empty scope"][f"{OURS}/{THEIRS}"], 0.3),
    ]


def render(rows: list[dict[str, Any]], goals: list[dict[str, object]], versions: dict[str, str]) -> str:
    header = ["case", "floor", OURS, THEIRS, f"{OURS} / floor", f"{THEIRS} / floor", f"{OURS} / {THEIRS}"]
    body = []
    for row in rows:
        values, ratios = row["values"], row["ratios"]
        body.append(
            [row["name"], *(show_ns(values[k]) for k in ("floor", OURS, THEIRS))]
            + [show_ratio(r) for r in ratios.values()]
        )
    theirs = AIRLOCK_PY.replace("==", " ") if THEIRS in versions else "airlock-py (not available)"
    title = f"Core hot path: ours (airlock-core {versions[OURS]}) vs {theirs}"
    out = table(title, header, body)
    out += (
        "\nTimes are per intent (N=10,000 in one scope, sync flush) or per scope; best of all rounds. "
        "The plugin row's ours/airlock-py compares with airlock-py *without* plugins (it has none).\n\n"
    )
    out += targets_table(goals, "Targets (issue #2)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds per worker (default 20)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each case per round (default 3)")
    options = parser.parse_args()

    workers = start_workers()
    try:
        problems = check_delivery(workers)
        if problems:
            print("bench_core: delivery check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        best = measure(workers, options.rounds, options.reps)
    finally:
        for worker in workers.values():
            worker.close()

    versions = {label: worker.hello["airlock"] for label, worker in workers.items()}
    rows = build_rows(best)
    goals = targets(rows)
    print(render(rows, goals, versions))
    print(f"Delivery check: every case executed every enqueued task ({', '.join(workers)}).\n")
    emit_json("Core hot path", "ns", rows, goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
