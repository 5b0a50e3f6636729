"""What ``AirlockMiddleware`` adds to a Django request, counted in instructions.

The same requests as ``bench_django.py`` (plain, ``on_commit`` by hand,
the minimal deferring middleware, airlock), counted with valgrind's callgrind
instead of timed: instruction counts do not move with the machine's load,
so small changes show up that timing noise hides. Each contestant runs in
its own process twice, with 0 and with ``--requests`` requests after a
warm-up; the difference divided by the requests is one request's count.
``PYTHONHASHSEED=0`` keeps both processes alike.

Usage: ``python benchmarks/count_django.py [--requests N]`` (needs valgrind;
takes about two minutes). Not run by ``make bench``, which times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import bench_django
from _harness import table

#: (case, plain, on_commit by hand, minimal, airlock): the views of bench_django.py.
CASES = (
    ("view outside a transaction", "plain", "on-commit", "minimal", "airlock"),
    ("view inside transaction.atomic()", "plain-atomic", "on-commit-atomic", "minimal-atomic", "airlock-atomic"),
)


def requests_in_this_process(contestant: str, requests: int) -> None:
    """The child: warm up, then make ``requests`` requests to ``contestant``'s view."""
    bench_django.setup()
    clients = {
        "plain": bench_django.client([]).get,
        "minimal": bench_django.client([bench_django.MINIMAL_MIDDLEWARE]).get,
        "airlock": bench_django.client([bench_django.AIRLOCK_MIDDLEWARE]).get,
    }
    clients["airlock"]("/airlock/")  # every contestant's process then holds an initialised connection
    get = clients.get(contestant.split("-")[0], clients["plain"])  # on-commit views run without middleware
    url = f"/{contestant}/"
    bench_django.check(get, url)
    for _ in range(50):
        get(url)
    for _ in range(requests):
        get(url)


def instructions(contestant: str, requests: int) -> int:
    """Instructions the whole child process executed."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
    command += ["--child", contestant, "--requests", str(requests)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run of {contestant} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(contestant: str, requests: int) -> float:
    with ThreadPoolExecutor(2) as pool:
        empty, full = pool.map(lambda n: instructions(contestant, n), (0, requests))
    return (full - empty) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        requests_in_this_process(options.child, options.requests)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("count_django.py needs valgrind (apt install valgrind)")
    rows = []
    for case, *contestants in CASES:
        plain, on_commit, minimal, airlock = (per_request(name, options.requests) for name in contestants)
        rows.append(
            [
                case,
                *(f"{n:,.0f}" for n in (plain, on_commit, minimal, airlock, airlock - plain)),
                *(f"{n:.3f}" for n in (airlock / plain, minimal / plain, airlock / on_commit)),
            ]
        )
    intents = bench_django.INTENTS
    title = f"Django request through the test client, {intents} intents per request (instructions per request)"
    header = ["case", "plain", "on_commit", "minimal", "airlock", "airlock added to plain", "airlock / plain"]
    header += ["minimal / plain", "airlock / on_commit"]
    print(table(title, header, rows))


if __name__ == "__main__":
    main()
