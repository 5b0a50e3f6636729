"""Middleware costs: coalescing a bulk flush, and the retry wrapper when nothing fails.

Coalescing: one scope enqueues 10,000 intents of a trivial task with 100 distinct keys
(``record(i % 100)``) and flushes. Contestants, with ``sync``: no middleware
plugin registered; airlock-coalesce registered but not enabled; enabled
(``coalesce=True``, dispatching 100). With the ``threads`` executor (timed
until every task ran): no middleware; coalescing on. Also timed alone: the
coalescing pass (``airlock_coalesce.coalesce``) over the same 10,000 intents.
``sync`` with a no-op task is the worst case for the ratio: the flush without
coalescing costs little more than the enqueues, so any pass over the intents
shows; with an executor that does real work per intent, the pass is noise.

Retry: the same scope with 10,000 distinct intents, nothing failing.
Contestants: no middleware plugin; airlock-retry registered but not enabled;
enabled (``retry_attempts=3``). The overhead per intent is the difference.

The task is ``list.append`` (cheaper than a Python no-op): every timed run is
counted and the script fails if the number of tasks that ran is wrong. Every
contestant runs the same enqueue loop; plugins are switched with
``airlock.plugins.unregister``/``register`` between timings (untimed);
contestants alternate, many rounds, best time kept.

What coalescing costs in the flush: airlock-coalesce asks the core for the
``buffered`` items, groups them by position at C speed, builds an Intent for
each of the 100 it keeps only, and records the 9,900 merges by position (the
report pairs them when read). Row "core: promoting ...": what the flush would
add if every buffered plain tuple became an Intent, as for a hook that asks
for ``intents`` (needs the core's ``Scope._flush`` to leave the buffer to
``run_before_flush``; otherwise it promotes first and coalescing pays it).
Row "... with a keyword argument": the pass over ``record(i % 100, kind="order")``
intents, where keyword arguments are compared per group.

Run in the workspace venv (``make bench``), where the three plugins are installed.
Usage: ``python benchmarks/bench_middleware.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from types import ModuleType

from _harness import emit_json, goal, ratio, table, targets_table
from airlock_coalesce import coalesce

import airlock
from airlock.executors.threads import ThreadsExecutor
from airlock.intent import promote

N, KEYS = 10_000, 100
MIDDLEWARE = ("coalesce", "priority", "retry")


#: The timed task: ``list.append`` of ``RAN``, cheaper than any Python no-op, so
#: the sync case stays the worst case while every timed run is counted.
RAN: list[object] = []
record = RAN.append


class Plugins:
    """The installed middleware modules, registered or not on demand."""

    def __init__(self) -> None:
        pm = airlock.plugins.get_plugin_manager()
        self.modules: dict[str, ModuleType] = {name: pm.get_plugin(name) for name in MIDDLEWARE}
        missing = [name for name, module in self.modules.items() if module is None]
        if missing:
            raise SystemExit(f"install the middleware first (make bench does): missing {', '.join(missing)}")

    def only(self, *names: str) -> None:
        pm = airlock.plugins.get_plugin_manager()
        for name, module in self.modules.items():
            registered = pm.get_plugin(name) is not None
            if name in names and not registered:
                airlock.plugins.register(module, name)
            elif name not in names and registered:
                airlock.plugins.unregister(name=name)


def flush(keys: int, **options: object) -> Callable[[], object]:
    """One scope of N intents over ``keys`` distinct keys; a threads executor is drained before returning.

    Every contestant runs this same enqueue loop; only plugins and options differ.
    """
    executor = options.get("executor")

    def run() -> None:
        with airlock.scope(**options):
            for i in range(N):
                airlock.enqueue(record, i % keys)
        if isinstance(executor, ThreadsExecutor):
            executor.shutdown(wait=True)  # every task done: the time covers the work, not just the submits

    return run


Case = tuple[tuple[str, ...], Callable[[], object], int]  # (plugins registered, the timed run, tasks it must run)


def alternate(cases: dict[str, Case], plugins: Plugins, rounds: int) -> dict[str, float]:
    """Best seconds per case; each case's plugins are switched in, untimed, before it runs."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for name, (registered, run, expected) in cases.items():
            plugins.only(*registered)
            RAN.clear()
            gc.collect()  # the threads cases' garbage made the next sync case's collections twice as long
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
            if len(RAN) != expected:
                raise SystemExit(f"delivery check failed: {name}: {len(RAN)} tasks ran, expected {expected}")
    plugins.only(*MIDDLEWARE)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    plugins = Plugins()
    airlock.reset_configuration()

    pool = ThreadsExecutor(max_workers=4)
    coalescing = {
        "no middleware": ((), flush(KEYS), N),
        "coalesce installed, off": (("coalesce",), flush(KEYS), N),
        "coalesce on": (("coalesce",), flush(KEYS, coalesce=True), KEYS),
        "threads: no middleware": ((), flush(KEYS, executor=pool), N),
        "threads: coalesce on": (("coalesce",), flush(KEYS, executor=pool, coalesce=True), KEYS),
    }
    times = alternate(coalescing, plugins, args.rounds)
    intents = [airlock.Intent(record, (i % KEYS,)) for i in range(N)]
    if len(coalesce(intents)) != KEYS:
        raise SystemExit("delivery check failed: the coalescing pass did not keep one intent per key")
    pass_alone = min(_timed(lambda: coalesce(intents)) for _ in range(args.rounds))
    with_keywords = [airlock.Intent(record, (i % KEYS,), {"kind": "order"}) for i in range(N)]
    if len(coalesce(with_keywords)) != KEYS:
        raise SystemExit("delivery check failed: the coalescing pass with keywords did not keep one intent per key")
    pass_keywords = min(_timed(lambda: coalesce(with_keywords)) for _ in range(args.rounds))
    buffered = [(record, (i % KEYS,), {}, None, None) for i in range(N)]
    promotion = min(_timed(lambda: promote(list(buffered))) for _ in range(args.rounds))
    base = times["no middleware"]
    threads_base = times["threads: no middleware"]

    retrying = {
        "no middleware": ((), flush(N), N),
        "retry installed, off": (("retry",), flush(N), N),
        "retry on, no failure": (("retry",), flush(N, retry_attempts=3), N),
    }
    retry_times = alternate(retrying, plugins, args.rounds)
    retry_base = retry_times["no middleware"]

    def per_intent(seconds: float) -> int:
        return round(seconds / N * 1e9)

    out = table(
        f"Coalescing: one flush of {N:,} intents, {KEYS} distinct keys, sync executor",
        ["contestant", "dispatched", "ms", "/ no middleware"],
        [
            ["no middleware", N, f"{base * 1e3:.2f}", "1.00"],
            [
                "coalesce installed, off",
                N,
                f"{times['coalesce installed, off'] * 1e3:.2f}",
                ratio(times["coalesce installed, off"], base),
            ],
            ["coalesce on", KEYS, f"{times['coalesce on'] * 1e3:.2f}", ratio(times["coalesce on"], base)],
            ["the coalescing pass alone", "-", f"{pass_alone * 1e3:.2f}", ratio(pass_alone, base)],
            [
                "the coalescing pass alone, with a keyword argument",
                "-",
                f"{pass_keywords * 1e3:.2f}",
                ratio(pass_keywords, base),
            ],
            ["core: promoting the buffer to Intents, alone", "-", f"{promotion * 1e3:.2f}", ratio(promotion, base)],
        ],
    )
    out += "\n" + table(
        "Coalescing: the same flush through the threads executor (4 workers), until every task ran",
        ["contestant", "dispatched", "ms", "/ no middleware"],
        [
            ["no middleware", N, f"{threads_base * 1e3:.2f}", "1.00"],
            [
                "coalesce on",
                KEYS,
                f"{times['threads: coalesce on'] * 1e3:.2f}",
                ratio(times["threads: coalesce on"], threads_base),
            ],
            ["the coalescing pass alone", "-", f"{pass_alone * 1e3:.2f}", ratio(pass_alone, threads_base)],
        ],
    )
    out += "\n" + table(
        f"Retry: one flush of {N:,} distinct intents, nothing fails, sync executor",
        ["contestant", "ns / intent", "/ no middleware", "overhead ns / intent"],
        [[name, per_intent(t), ratio(t, retry_base), per_intent(t - retry_base)] for name, t in retry_times.items()],
    )
    # Issue #4: "coalescing costs <= 20% over the flush without it", the whole
    # flush with coalescing against the flush without. The pass alone is shown
    # in the tables above: it is what coalescing adds before it saves dispatches.
    goals = [
        goal("sync, no-op task: flush with coalescing / flush without", ratio(times["coalesce on"], base), 1.2),
        goal("threads: flush with coalescing / flush without", ratio(times["threads: coalesce on"], threads_base), 1.2),
    ]
    out += "\n" + targets_table(goals, "Targets (issue #4)")
    print(out)
    emit_json(
        "Middleware: coalescing and retry",
        "ms",
        [
            {
                "name": "coalescing",
                "values": {k: round(v * 1e3, 3) for k, v in times.items()},
                "ratios": {
                    "coalesce on/no middleware": ratio(times["coalesce on"], base),
                    "pass alone/no middleware": ratio(pass_alone, base),
                    "pass with keywords/no middleware": ratio(pass_keywords, base),
                },
            },
            {
                "name": "retry",
                "values": {k: round(v * 1e3, 3) for k, v in retry_times.items()},
                "ratios": {"retry on/no middleware": ratio(retry_times["retry on, no failure"], retry_base)},
            },
        ],
        goals,
    )


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
