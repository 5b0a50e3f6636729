"""What ``AirlockMiddleware`` adds to a Django request, side by side.

Every request goes through Django's test client (the full handler: request
building, URL resolution, the middleware chain, the view, signals). Three
contestants, timed in alternation, each keeping its best batch:

* ``plain``: no middleware; the view calls 10 no-op tasks itself.
* ``on_commit``: no middleware; the view hands each task to
  ``transaction.on_commit()`` itself, what code without airlock writes so
  that tasks wait for the commit (for context: no target).
* ``airlock``: ``AirlockMiddleware`` (``DjangoScope``, ``sync`` executor);
  the view ``airlock.enqueue()``s the same 10 tasks, which run when the
  request's scope flushes.

once with the view outside any transaction, and once with the view's work
inside ``transaction.atomic()`` (SQLite in memory), where ``DjangoScope``
also follows the transaction for each intent. Before timing, every
contestant's request must run exactly its 10 tasks. The target is judged
against ``plain``.

Usage: ``python benchmarks/bench_django.py [--requests N] [--rounds N]``
(needs Django and airlock-django installed, as in the workspace venv).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import django
from _harness import emit_json, goal, ratio, table, targets_table
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse

import airlock

INTENTS = 10
#: Target: the middleware adds at most 10% to a request that enqueues 10 intents.
LIMIT = 1.10
ran = [0]


def noop(i: int) -> None:
    ran[0] += 1


def setup() -> None:
    from django.urls import path

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["testserver"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["airlock.integrations.django"],
        MIDDLEWARE=[],
        ROOT_URLCONF=__name__,
        USE_TZ=True,
    )
    django.setup()
    global urlpatterns
    # One pattern for every contestant, so URL resolution costs them the same.
    urlpatterns = [path("<slug:name>/", view_named)]


urlpatterns: list[object] = []


def plain_view(request: object) -> object:
    for i in range(INTENTS):
        noop(i)
    return HttpResponse("ok")


def airlock_view(request: object) -> object:
    for i in range(INTENTS):
        airlock.enqueue(noop, i)
    return HttpResponse("ok")


def on_commit_view(request: object) -> object:
    for i in range(INTENTS):
        transaction.on_commit(partial(noop, i))
    return HttpResponse("ok")


def plain_atomic_view(request: object) -> object:
    with transaction.atomic():
        return plain_view(request)


def on_commit_atomic_view(request: object) -> object:
    with transaction.atomic():
        return on_commit_view(request)


def airlock_atomic_view(request: object) -> object:
    with transaction.atomic():
        return airlock_view(request)


def view_named(request: object, name: str) -> object:
    return VIEWS[name](request)


VIEWS = {
    "plain": plain_view,
    "on-commit": on_commit_view,
    "airlock": airlock_view,
    "plain-atomic": plain_atomic_view,
    "on-commit-atomic": on_commit_atomic_view,
    "airlock-atomic": airlock_atomic_view,
}


def client(middleware: list[str]) -> object:
    """A test client whose handler was built with ``middleware``."""
    from django.test import Client

    settings.MIDDLEWARE = middleware
    made = Client()
    made.get("/plain/")  # builds the middleware chain now, with these settings
    return made


def batch(get: Callable[[str], object], url: str, requests: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(requests):
            get(url)

    return run


def check(get: Callable[[str], object], url: str) -> None:
    ran[0] = 0
    response = get(url)
    assert response.status_code == 200, (url, response.status_code)  # type: ignore[attr-defined]
    if ran[0] != INTENTS:
        raise SystemExit(f"delivery check failed: {url} ran {ran[0]} tasks, expected {INTENTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per timed batch")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds")
    args = parser.parse_args()
    setup()
    plain = client([]).get
    with_airlock = client(["airlock.integrations.django.AirlockMiddleware"]).get

    rows, json_rows, goals = [], [], []
    for case, suffix in (("view outside a transaction", ""), ("view inside transaction.atomic()", "-atomic")):
        contestants = {
            "plain": (plain, f"/plain{suffix}/"),
            "on_commit": (plain, f"/on-commit{suffix}/"),
            "airlock": (with_airlock, f"/airlock{suffix}/"),
        }
        for get, url in contestants.values():
            check(get, url)
        best = interleaved_batches(contestants, args.requests, args.rounds)
        us = {name: best[name] / args.requests * 1e6 for name in contestants}
        overhead = ratio(us["airlock"], us["plain"])
        by_hand = ratio(us["airlock"], us["on_commit"])
        rows.append([case, *(f"{us[name]:.1f}" for name in contestants), f"{overhead:.2f}", f"{by_hand:.2f}"])
        json_rows.append(
            {"name": case, "values": us, "ratios": {"airlock/plain": overhead, "airlock/on_commit": by_hand}}
        )
        goals.append(goal(f"airlock/plain, {case}", overhead, LIMIT))

    title = f"Django request through the test client, {INTENTS} intents per request (µs per request, best batch)"
    print(table(title, ["case", "plain", "on_commit", "airlock", "airlock / plain", "airlock / on_commit"], rows))
    print(targets_table(goals))
    emit_json(title, "µs per request", json_rows, goals)


def interleaved_batches(
    contestants: dict[str, tuple[Callable[[str], object], str]], requests: int, rounds: int
) -> dict[str, float]:
    from _harness import interleaved

    return interleaved({name: batch(get, url, requests) for name, (get, url) in contestants.items()}, rounds=rounds)


if __name__ == "__main__":
    main()
