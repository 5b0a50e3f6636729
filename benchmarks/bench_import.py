"""What ``import airlock`` adds to interpreter start, ours vs airlock-py 0.1.0a3.

Two measures, each over many runs alternating between the two interpreters
(each in its own virtualenv holding only that library), reported as medians:

* ``-X importtime``: the cumulative microseconds of the ``airlock`` package
  import as the interpreter reports it (precise; excludes process start);
* wall time of ``python -c "import airlock"`` minus ``python -c pass``.

Then checks, in the interpreter running this script (the workspace venv,
where every plugin and backend is installed), that ``import airlock`` loads
no backend, no plugin, no pluggy and no ``importlib.metadata`` (so it reads
no entry point).

Usage: ``python benchmarks/bench_import.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import emit_json, goal, ratio, table, targets_table
from _venvs import AIRLOCK_PY, VenvError, airlock_py_python, core_python

OURS, THEIRS = "ours", "airlock-py"

#: Top-level modules that ``import airlock`` must not load.
FORBIDDEN = (
    "pluggy",
    "importlib.metadata",
    "importlib_metadata",
    # backends and frameworks
    "celery",
    "kombu",
    "dramatiq",
    "huey",
    "django",
    "django_q",
    "redis",
    "pika",
    "amqp",
    "psycopg",
    "psycopg2",
    "gevent",
    "eventlet",
)
#: Our plugin distributions' import packages start with this.
PLUGIN_PREFIX = "airlock_"

_NEW_MODULES = (
    "import sys; before = set(sys.modules); import airlock; "
    "new = sorted(set(sys.modules) - before); import json; print(json.dumps(new))"
)


def run(python: Path, code: str, importtime: bool = False) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of ``python -I -c code`` (isolated mode), and the finished process."""
    command = [str(python), "-I", *(["-X", "importtime"] if importtime else []), "-c", code]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed, done


def airlock_cumulative_us(importtime_log: str) -> int:
    """The cumulative microseconds of the top-level ``airlock`` line of ``-X importtime``."""
    for line in importtime_log.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "airlock":
            return int(parts[1])
    raise RuntimeError("no 'airlock' line in the -X importtime output")


def measure(pythons: dict[str, Path], runs: int) -> dict[str, dict[str, float]]:
    """Per interpreter, in ms, from alternating runs: the median and the best
    ``-X importtime`` figure, the median wall difference, the median bare start."""
    importtime: dict[str, list[int]] = {label: [] for label in pythons}
    wall: dict[str, dict[str, list[float]]] = {label: {"pass": [], "import": []} for label in pythons}
    for number in range(runs):
        order = list(pythons) if number % 2 == 0 else list(reversed(pythons))
        for label in order:
            python = pythons[label]
            importtime[label].append(airlock_cumulative_us(run(python, "import airlock", importtime=True)[1].stderr))
            wall[label]["pass"].append(run(python, "pass")[0])
            wall[label]["import"].append(run(python, "import airlock")[0])
    return {
        label: {
            "importtime_ms": statistics.median(importtime[label]) / 1e3,
            "importtime_best_ms": min(importtime[label]) / 1e3,
            "wall_ms": (statistics.median(wall[label]["import"]) - statistics.median(wall[label]["pass"])) * 1e3,
            "start_ms": statistics.median(wall[label]["pass"]) * 1e3,
        }
        for label in pythons
    }


def check_modules(python: Path) -> tuple[list[str], list[str]]:
    """(every module ``import airlock`` loads, the forbidden ones among them)."""
    new = json.loads(run(python, _NEW_MODULES)[1].stdout)
    bad = [
        name
        for name in new
        if name.startswith(PLUGIN_PREFIX) or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    return new, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per interpreter and measure (default 30)")
    options = parser.parse_args()

    pythons = {OURS: core_python()}
    try:
        pythons[THEIRS] = airlock_py_python()
    except VenvError as exc:
        print(f"bench_import: no {AIRLOCK_PY} to compare with ({exc}); reporting ours only.", file=sys.stderr)
    result = measure(pythons, options.runs)

    rows = []
    measures = (
        ("importtime_ms", "-X importtime, cumulative, median"),
        ("importtime_best_ms", "-X importtime, cumulative, best"),
        ("wall_ms", "wall time minus bare start, medians"),
    )
    for key, label in measures:
        values = {who: round(result[who][key], 2) if who in result else None for who in (OURS, THEIRS)}
        ratios = {f"{OURS}/{THEIRS}": ratio(values[OURS], values[THEIRS])}
        rows.append({"name": label, "values": values, "ratios": ratios})
    modules, bad = check_modules(Path(sys.executable))
    goals = [
        goal("import airlock: ours / airlock-py (-X importtime, median)", rows[0]["ratios"][f"{OURS}/{THEIRS}"], 1.0),
        goal("import airlock: backends, plugins, pluggy, importlib.metadata loaded", len(bad), 0),
    ]

    def cell(value: float | None, suffix: str) -> str:
        return "n/a" if value is None else f"{value:.2f}{suffix}"

    theirs = AIRLOCK_PY.replace("==", " ") if THEIRS in pythons else "airlock-py (not available)"
    print(
        table(
            f"`import airlock` added to interpreter start: ours vs {theirs} ({options.runs} runs each)",
            ["measure", OURS, THEIRS, f"{OURS} / {THEIRS}"],
            [
                [
                    row["name"],
                    *(cell(v, " ms") for v in row["values"].values()),
                    cell(row["ratios"][f"{OURS}/{THEIRS}"], "x"),
                ]
                for row in rows
            ],
        )
    )
    starts = ", ".join(f"{who} {result[who]['start_ms']:.1f} ms" for who in result)
    print(f"Bare interpreter start (`python -I -c pass`, median): {starts}.\n")
    print(targets_table(goals, "Targets (issue #2)"))
    where = f"`{sys.executable}`"
    if bad:
        print(f"`import airlock` in {where} loaded what it must not: {', '.join(bad)}\n")
    print(f"`import airlock` in {where} loaded {len(modules)} modules: {', '.join(modules)}\n")
    emit_json("import airlock", "ms", rows, goals)
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
