"""Flush throughput to Celery and Dramatiq on Redis: the backend's own loop vs airlock's executor.

Three measurements per backend, N tasks each (default 2,000):

* **publish**: from the first publish until all N are on the broker.
  ``naive`` is the backend's own call in a loop (``task.apply_async(...)``,
  ``actor.send(...)``); ``airlock`` enqueues the same N in a scope whose
  executor is ``celery`` / ``dramatiq`` (enqueue and flush both timed).
  Each contestant publishes to its own queue; after every round each
  queue must hold exactly N messages (the delivery check), then is emptied.
* **end to end**: from the first publish until a real worker (a
  subprocess: ``celery worker`` with 4 threads, ``dramatiq`` with 4
  threads) has run all N; each task increments a Redis counter that must
  reach exactly N, and the one that reaches N pushes to a Redis list the
  benchmark waits on with a blocking pop (polling the counter would take
  CPU from the worker, and for longer from the contestant that finished
  publishing first).
* **the worker alone**: how fast the worker runs N tasks that are all
  queued already, for reading end to end against. The worker is stopped
  (SIGSTOP to its process group) while airlock puts all N on the broker,
  then resumed; timed from the resume until it ran all N. When both
  contestants' end to end is about this, the worker sets the pace, not the
  publisher.

Contestants alternate, the order flipping every round so neither always
goes first (naive, airlock, airlock, naive, ...). Each round's time is kept:
the tables show the median and the best round of each, and the speedup
``naive time / airlock time`` (above 1: airlock is faster) of both. Targets
are judged on the medians, the steadier of the two.

Usage: ``python benchmarks/bench_brokers.py [--n N] [--rounds R] [--e2e-rounds R] [--alone-rounds R]``
(needs airlock-celery, airlock-dramatiq and Redis at ``AIRLOCK_TEST_REDIS_URL``,
default ``redis://127.0.0.1:6379/0``).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dramatiq
import redis
from _harness import emit_json, goal, interleaved, ratio, table, targets_table
from celery import Celery
from dramatiq.brokers.redis import RedisBroker

import airlock

HERE = Path(__file__).resolve().parent
REDIS_URL = os.environ.get("AIRLOCK_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
#: Shared with the worker subprocesses, which import this module.
RUN_ID = os.environ.setdefault("AIRLOCK_BENCH_RUN", uuid.uuid4().hex[:8])
CELERY_QUEUE = f"airlock-bench-celery-{RUN_ID}"  # end to end; the worker consumes it
DRAMATIQ_QUEUE = f"airlock-bench-dramatiq-{RUN_ID}"
DRAMATIQ_NAMESPACE = f"airlock-bench-{RUN_ID}"
#: Seconds a worker gets to run one round's N tasks before the run is declared failed.
WORKER_DEADLINE = 120.0

# Targets: naive time / airlock time at least this much.
TARGETS = {"celery publish": 3.0, "dramatiq publish": 1.0, "celery end to end": 1.0, "dramatiq end to end": 1.0}

counter = redis.Redis.from_url(REDIS_URL)
#: For the blocking pop in wait_done(): its socket must outwait WORKER_DEADLINE.
waiter = redis.Redis.from_url(REDIS_URL, socket_timeout=WORKER_DEADLINE + 10)

celery_app = Celery("airlock_bench", broker=REDIS_URL, set_as_current=False)
celery_app.conf.update(task_default_queue=CELERY_QUEUE, worker_hijack_root_logger=False)


def bump(key: str, i: int, n: int) -> None:
    """One unit of work: count the execution; the one that makes it ``n`` says so on ``<key>:done``."""
    if counter.incr(key) == n:
        counter.rpush(f"{key}:done", 1)


@celery_app.task(name="airlock_bench.bump")
def celery_bump(key: str, i: int, n: int) -> None:
    bump(key, i, n)


dramatiq_broker = RedisBroker(url=REDIS_URL, namespace=DRAMATIQ_NAMESPACE)
dramatiq.set_broker(dramatiq_broker)


@dramatiq.actor(broker=dramatiq_broker, queue_name=DRAMATIQ_QUEUE, actor_name="airlock_bench_bump", max_retries=0)
def dramatiq_bump(key: str, i: int, n: int) -> None:
    bump(key, i, n)


#: One backend's figures: (backend, naive seconds per round, airlock seconds per round).
Samples = tuple[str, list[float], list[float]]


def alternating(
    naive: Callable[[], None], through_airlock: Callable[[], None], rounds: int, check: Callable[[], None]
) -> tuple[list[float], list[float]]:
    """Every round's time of each contestant; the order flips each round, ``check()`` runs after each."""
    times: dict[str, list[float]] = {"naive": [], "airlock": []}
    for i in range(rounds):
        order = [("naive", naive), ("airlock", through_airlock)]
        for name, seconds in interleaved(dict(order[:: 1 if i % 2 == 0 else -1]), rounds=1).items():
            times[name].append(seconds)
        check()
    return times["naive"], times["airlock"]


# -- publish only ------------------------------------------------------------
def delivered_exactly(
    n: int, backend: str, queues: dict[str, str], length: Callable[[str], int], clear: Callable[[str], object]
) -> Callable[[], None]:
    """The delivery check: each contestant's queue holds exactly n messages; then it is emptied."""

    def check() -> None:
        for name, queue in queues.items():
            delivered = length(queue)
            if delivered != n:
                raise SystemExit(f"delivery check failed: {backend} {name} put {delivered} of {n} on the broker")
            clear(queue)

    return check


def bench_publish(n: int, rounds: int) -> list[Samples]:
    """(backend, naive seconds, airlock seconds) for publishing n tasks, each contestant to its own queue."""
    celery_queues = {name: f"airlock-bench-celery-{name}-{RUN_ID}" for name in ("naive", "airlock")}

    def celery_naive() -> None:
        for i in range(n):
            celery_bump.apply_async(args=("unused", i, n), kwargs={}, queue=celery_queues["naive"])

    def celery_airlock() -> None:
        with airlock.scope(executor="celery"):
            for i in range(n):
                airlock.enqueue(celery_bump, "unused", i, n, _dispatch_options={"queue": celery_queues["airlock"]})

    actors = {
        name: dramatiq.actor(
            celery_bump.run, broker=dramatiq_broker, queue_name=f"airlock-bench-{name}", actor_name=f"bench_{name}"
        )
        for name in ("naive", "airlock")
    }

    def dramatiq_naive() -> None:
        for i in range(n):
            actors["naive"].send("unused", i, n)

    def dramatiq_airlock() -> None:
        with airlock.scope(executor="dramatiq"):
            for i in range(n):
                airlock.enqueue(actors["airlock"], "unused", i, n)

    results = []
    for backend, naive, through_airlock, queues, length, clear in (
        ("celery", celery_naive, celery_airlock, celery_queues, counter.llen, counter.delete),
        (
            "dramatiq",
            dramatiq_naive,
            dramatiq_airlock,
            {name: actor.queue_name for name, actor in actors.items()},
            lambda q: counter.llen(f"{DRAMATIQ_NAMESPACE}:{q}"),
            dramatiq_broker.flush,
        ),
    ):
        naive(), through_airlock()  # warm up: connections, Lua scripts, entry points
        for q in queues.values():
            clear(q)

        check = delivered_exactly(n, backend, queues, length, clear)
        naive_times, airlock_times = alternating(naive, through_airlock, rounds, check)
        results.append((backend, naive_times, airlock_times))
    return results


# -- end to end with a real worker -------------------------------------------
def start_worker(backend: str) -> subprocess.Popen[bytes]:
    if backend == "celery":
        command = ["-m", "celery", "-A", "bench_brokers:celery_app", "worker", "--pool=threads", "-c", "4"]
        command += ["-Q", CELERY_QUEUE, "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "warning"]
    else:
        command = ["-m", "dramatiq", "bench_brokers", "--processes", "1", "--threads", "4"]
        command += ["--queues", DRAMATIQ_QUEUE]
    # stdout (Celery's start-up banner) would land in the results; warnings and errors go to stderr
    return subprocess.Popen(
        [sys.executable, *command], cwd=HERE, env=dict(os.environ), start_new_session=True, stdout=subprocess.DEVNULL
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Terminate the worker's whole process group (its own session), resumed first in case it was stopped."""
    group = os.getpgid(worker.pid)
    for sig in (signal.SIGCONT, signal.SIGTERM):
        os.killpg(group, sig)
    worker.wait(timeout=30)


def start_round(key: str) -> None:
    counter.delete(key, f"{key}:done")


def wait_done(key: str, n: int) -> None:
    """Until the task that brings the count to ``n`` has run; then the count must be exactly ``n``.

    A blocking pop, not polling: polling would take CPU and Redis time from
    the worker, and longer from the contestant whose publishing ends sooner.
    """
    if waiter.blpop([f"{key}:done"], timeout=WORKER_DEADLINE) is None:
        raise SystemExit(f"delivery check failed: the worker ran {counter.get(key)} of {n} tasks for {key}")
    if int(counter.get(key) or 0) != n:
        raise SystemExit(f"delivery check failed: {key} counted {counter.get(key)} executions, expected {n}")


def drained_alone(worker: subprocess.Popen[bytes], key: str, n: int, publish: Callable[[], None]) -> float:
    """Seconds the worker takes to run n tasks already on the broker: it is stopped
    while ``publish()`` puts them there, then resumed (the worker alone)."""
    start_round(key)
    group = os.getpgid(worker.pid)
    try:
        os.killpg(group, signal.SIGSTOP)
        publish()
    finally:
        start = time.perf_counter()
        os.killpg(group, signal.SIGCONT)
    wait_done(key, n)
    return time.perf_counter() - start


def bench_end_to_end(n: int, rounds: int, alone_rounds: int) -> tuple[list[Samples], dict[str, list[float]]]:
    """(backend, naive seconds, airlock seconds) from the first publish until a worker ran n tasks,
    and per backend the seconds of the worker alone (see :func:`drained_alone`)."""
    results, alone = [], {}
    for backend, task, naive_one in (
        ("celery", celery_bump, lambda key, i, n: celery_bump.apply_async(args=(key, i, n), kwargs={})),
        ("dramatiq", dramatiq_bump, lambda key, i, n: dramatiq_bump.send(key, i, n)),
    ):
        worker = start_worker(backend)
        try:
            key = f"airlock-bench-count-{RUN_ID}-{backend}"

            def naive(key: str = key, one: Callable[[str, int, int], object] = naive_one) -> None:
                start_round(key)
                for i in range(n):
                    one(key, i, n)
                wait_done(key, n)

            def publish(key: str = key, task: object = task, backend: str = backend) -> None:
                with airlock.scope(executor=backend):
                    for i in range(n):
                        airlock.enqueue(task, key, i, n)

            def through_airlock(key: str = key, publish: Callable[[], None] = publish) -> None:
                start_round(key)
                publish()
                wait_done(key, n)

            start_round(key)
            naive_one(key, 0, 1)
            wait_done(key, 1)  # the worker is up
            naive_times, airlock_times = alternating(naive, through_airlock, rounds, check=lambda: None)
            alone[backend] = [drained_alone(worker, key, n, publish) for _ in range(alone_rounds)]
            start_round(key)
            results.append((backend, naive_times, airlock_times))
        finally:
            stop_worker(worker)
    return results, alone


def report_worker_alone(n: int, results: list[Samples], alone: dict[str, list[float]]) -> None:
    """The worker alone against both contestants' end to end (medians), as tasks/s and ratios."""
    rows, json_rows = [], []
    for backend, naive_times, airlock_times in results:
        worker, naive, through = (statistics.median(t) for t in (alone[backend], naive_times, airlock_times))
        ratios = {
            "worker alone time/naive time": ratio(worker, naive),
            "worker alone time/airlock time": ratio(worker, through),
        }
        rates = [f"{n / seconds:,.0f}" for seconds in (worker, naive, through)]
        rows.append([backend, *rates, *(f"{r:.2f}" for r in ratios.values()), len(alone[backend])])
        json_rows.append({"name": backend, "values": {"worker alone": round(n / worker)}, "ratios": ratios})
    title = f"The worker alone: {n:,} tasks already on the broker, from its resume until it ran all (medians)"
    header = ["backend", "worker alone tasks/s", "naive end to end tasks/s", "airlock end to end tasks/s"]
    header += ["alone time / naive time", "alone time / airlock time", "rounds alone"]
    print(table(title, header, rows))
    emit_json(title, "tasks/s", json_rows, [])


def report(title: str, kind: str, n: int, results: list[Samples]) -> list[dict[str, object]]:
    """Print the table (medians and best rounds) and its JSON; return the targets, judged on the medians."""
    rows, json_rows, goals = [], [], []
    for backend, naive_times, airlock_times in results:
        naive, through = statistics.median(naive_times), statistics.median(airlock_times)
        speedup, best_speedup = ratio(naive, through), ratio(min(naive_times), min(airlock_times))
        rows.append(
            [
                backend,
                f"{n / naive:,.0f}",
                f"{n / through:,.0f}",
                f"{speedup:.2f}x",
                f"{n / min(naive_times):,.0f}",
                f"{n / min(airlock_times):,.0f}",
                f"{best_speedup:.2f}x",
                len(naive_times),
            ]
        )
        json_rows.append(
            {
                "name": backend,
                "values": {"naive": round(n / naive), "airlock": round(n / through)},
                "ratios": {"naive time/airlock time": speedup, "best naive time/best airlock time": best_speedup},
            }
        )
        target = TARGETS[f"{backend} {kind}"]
        # goal() is "measured <= limit": express "speedup >= target" as airlock time / naive time.
        goals.append(
            goal(
                f"{backend} {kind}: median airlock/naive time (speedup >= {target:g}x)",
                ratio(through, naive),
                round(1 / target, 2),
            )
        )
    header = ["backend", "naive tasks/s", "airlock tasks/s", "speedup"]
    header += ["best naive tasks/s", "best airlock tasks/s", "best speedup", "rounds"]
    print(table(f"{title} (median round, then best round)", header, rows))
    emit_json(title, "tasks/s", json_rows, goals)
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--e2e-rounds", type=int, default=15)
    parser.add_argument("--alone-rounds", type=int, default=5, help="rounds of the worker alone")
    options = parser.parse_args()
    if min(options.n, options.rounds, options.e2e_rounds, options.alone_rounds) < 1:
        parser.error("--n and every --*rounds must be at least 1")
    # A SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so the workers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    n = options.n
    try:
        goals = report(f"Publish {n:,} tasks to Redis", "publish", n, bench_publish(n, options.rounds))
        end_to_end, alone = bench_end_to_end(n, options.e2e_rounds, options.alone_rounds)
        title = f"End to end, {n:,} tasks: first publish until a worker ran all"
        goals += report(title, "end to end", n, end_to_end)
        report_worker_alone(n, end_to_end, alone)
        print(targets_table(goals))
    finally:
        for key in counter.scan_iter(f"*{RUN_ID}*"):
            counter.delete(key)
        celery_app.close()


if __name__ == "__main__":
    main()
