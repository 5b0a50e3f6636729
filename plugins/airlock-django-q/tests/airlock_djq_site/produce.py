"""Flush one airlock scope through the django_q executor; print its report as JSON.

Usage: python -m airlock_djq_site.produce SCENARIO [RUN_ID]

The report lists intents by their first argument (the label each task records).
"""

import json
import os
import sys
import time

import django

django.setup()

import airlock  # noqa: E402
from airlock_djq_site.tasks import record, record_hook  # noqa: E402


def basic(run: str) -> None:
    airlock.enqueue(record, "a")
    airlock.enqueue(record, "b", 1, 2)
    airlock.enqueue(record, "c", x=1, nested={"k": [1, 2]})
    airlock.enqueue(record, "d", 3, y="z")


def options(run: str) -> None:
    hook = f"{record_hook.__module__}.{record_hook.__name__}"
    named = {"task_name": f"named-{run}", "group": f"group-{run}", "hook": hook}
    airlock.enqueue(record, "named", _dispatch_options=named)
    airlock.enqueue(record, "unsaved", _dispatch_options={"task_name": f"unsaved-{run}", "save": False})
    airlock.enqueue(record, "synced", _dispatch_options={"sync": True})
    airlock.enqueue(record, "nested", _dispatch_options={"q_options": {"task_name": f"nested-{run}"}})
    # a task keyword argument named like an option reaches the task: the options travel in q_options
    airlock.enqueue(record, "timeout-kwarg", timeout=3, _dispatch_options={"timeout": 60})


def mixed(run: str) -> None:
    from airlock_djq_site.brokers import UnreachableOrm

    airlock.enqueue(record, "first")
    airlock.enqueue(record, "second")
    airlock.enqueue(record, "third", _dispatch_options={"broker": UnreachableOrm()})
    airlock.enqueue(record, "fourth")


def unreachable(run: str) -> None:
    airlock.enqueue(record, "first")
    airlock.enqueue(record, "second")


def redis_down(run: str) -> None:
    from airlock_djq_site.brokers import UnreachableRedis

    airlock.enqueue(record, "first")
    for label in ("r1", "r2", "r3"):
        airlock.enqueue(record, label, _dispatch_options={"broker": UnreachableRedis()})
    airlock.enqueue(record, "last")


SCENARIOS = {f.__name__: f for f in (basic, options, mixed, unreachable, redis_down)}
#: Scope options per scenario (default: none, so fail-fast).
SCOPE_OPTIONS = {"redis_down": {"fail_fast": False}}


def main() -> None:
    scenario, run = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "run")
    out = {"run": run, "pid": os.getpid(), "error": None}
    started = time.monotonic()
    try:
        with airlock.scope(executor="django_q", **SCOPE_OPTIONS.get(scenario, {})) as scope:
            SCENARIOS[scenario](run)
        report = scope.report
    except Exception as exc:
        out["error"] = [type(exc).__module__ + "." + type(exc).__name__, str(exc)]
        report = exc.airlock_report
    out["seconds"] = time.monotonic() - started
    out["dispatched"] = [i.args[0] for i in report.dispatched]
    out["failed"] = [[i.args[0], type(e).__name__] for i, e in report.failed]
    out["not_attempted"] = [i.args[0] for i in report.not_attempted]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
