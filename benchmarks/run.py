"""Run the benchmarks: every ``benchmarks/bench_*.py``, or the ones named.

Each script runs in its own subprocess with this interpreter; its tables are
printed as they come and saved, together, to ``benchmarks/results/latest.md``
and, machine-readable, to ``benchmarks/results/latest.json`` (format in
``benchmarks/README.md``).

Usage::

    python benchmarks/run.py                 # all of them (what `make bench` runs)
    python benchmarks/run.py core import     # bench_core.py and bench_import.py
    python benchmarks/run.py --list

Exits non-zero when a script fails (a failed delivery check, a crash, the
timeout); a missed performance target is reported, not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _harness import JSON_PREFIX

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
#: Version of the latest.json layout; bump when it changes incompatibly.
SCHEMA = 1


def available() -> dict[str, Path]:
    """Benchmark name (``core`` for ``bench_core.py``) -> script, sorted by name."""
    return {path.stem.removeprefix("bench_"): path for path in sorted(HERE.glob("bench_*.py"))}


def run_one(name: str, script: Path, timeout: float) -> tuple[dict[str, Any], list[str]]:
    """Run one script, echoing its output; returns its JSON record and its text lines."""
    print(f"\n## {name} (`{script.relative_to(ROOT)}`)\n", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines: list[str] = []
    tables: list[dict[str, Any]] = []
    problems: list[str] = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith(JSON_PREFIX):
                try:
                    tables.append(json.loads(line[len(JSON_PREFIX) :]))
                except json.JSONDecodeError as exc:
                    problems.append(f"unreadable {JSON_PREFIX.strip()} line: {exc}")
                continue
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
        returncode = process.wait()
    finally:
        timer.cancel()
    seconds = time.perf_counter() - start
    if timed_out.is_set():
        problems.append(f"killed after the {timeout:.0f} s timeout")
    elif returncode:
        problems.append(f"exited with status {returncode}")
    for problem in problems:
        print(f"run.py: {name}: {problem}", file=sys.stderr, flush=True)
    record = {
        "name": name,
        "script": str(script.relative_to(ROOT)),
        "returncode": returncode,
        "seconds": round(seconds, 1),
        "problems": problems,
        "tables": tables,
    }
    return record, lines


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except OSError:
        return ""
    return done.stdout.strip()


def save(records: list[dict[str, Any]], texts: dict[str, list[str]], command: str) -> None:
    """Write ``results/latest.md`` and ``results/latest.json``."""
    meta = {
        "schema": SCHEMA,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "command": command,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({**meta, "benches": records}, indent=2) + "\n")
    head = [
        "# airlock benchmarks",
        "",
        f"`{command}` at {meta['generated']}, commit {meta['commit'] or '?'}, "
        f"{meta['implementation']} {meta['python']} on {meta['platform']}.",
    ]
    body = []
    for record in records:
        status = "" if not record["problems"] else f" — FAILED: {'; '.join(record['problems'])}"
        body += ["", f"## {record['name']} (`{record['script']}`, {record['seconds']} s){status}", ""]
        body += texts[record["name"]]
    (RESULTS / "latest.md").write_text("\n".join(head + body).rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    scripts = available()
    parser = argparse.ArgumentParser(description="Run the airlock benchmarks (benchmarks/bench_*.py).")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(scripts)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per script before it is killed")
    options = parser.parse_args(argv)
    if options.list:
        print("\n".join(f"{name}\t{path.relative_to(ROOT)}" for name, path in scripts.items()))
        return 0
    unknown = [name for name in options.names if name not in scripts]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; available: {', '.join(scripts)}")
    chosen = options.names or list(scripts)

    records, texts = [], {}
    for name in chosen:
        record, texts[name] = run_one(name, scripts[name], options.timeout)
        records.append(record)
    command = " ".join(["python benchmarks/run.py", *(options.names or [])])
    save(records, texts, command)
    print(f"\nSaved {RESULTS.relative_to(ROOT)}/latest.md and latest.json.")
    failed = [record["name"] for record in records if record["problems"]]
    if failed:
        print(f"run.py: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
