"""What ``AirlockMiddleware`` adds to a Django request, side by side.

Every request goes through Django's test client (the full handler: request
building, URL resolution, the middleware chain, the view, signals). Four
contestants, timed in alternation, each keeping its best batch:

* ``plain``: no middleware; the view calls 10 no-op tasks itself.
* ``on_commit``: no middleware; the view hands each task to
  ``transaction.on_commit()`` itself, what code without airlock writes so
  that tasks wait for the commit (for context: no target).
* ``minimal``: the floor, the least any deferring middleware costs (for
  context: no target). :class:`MinimalDeferralMiddleware` keeps a list per
  request in a ``ContextVar``; the view appends the 10 tasks to it through
  :func:`minimal_enqueue`, and a response below 400 calls them. Nothing
  else: no transaction or savepoint is followed, no policy, hook or error
  handling. What airlock costs beyond it is what those cost.
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
from contextvars import ContextVar
from functools import partial
from typing import Any

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
#: The ``MIDDLEWARE`` entries of the contestants that have one.
AIRLOCK_MIDDLEWARE = "airlock.integrations.django.AirlockMiddleware"
MINIMAL_MIDDLEWARE = f"{__name__}.MinimalDeferralMiddleware"


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


_minimal_buffer: ContextVar[list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]] = ContextVar(
    "minimal_buffer"
)


def minimal_enqueue(task: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """The floor's enqueue: append the call to the request's list."""
    _minimal_buffer.get().append((task, args, kwargs))


class MinimalDeferralMiddleware:
    """The floor: one list per request, called after a response below 400."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        buffer: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        token = _minimal_buffer.set(buffer)
        request.deferred = buffer  # as AirlockMiddleware sets request.airlock_scope
        try:
            response = self.get_response(request)
        finally:
            _minimal_buffer.reset(token)
        if response.status_code < 400:
            for task, args, kwargs in buffer:
                task(*args, **kwargs)
        return response


def minimal_view(request: object) -> object:
    for i in range(INTENTS):
        minimal_enqueue(noop, i)
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


def minimal_atomic_view(request: object) -> object:
    with transaction.atomic():
        return minimal_view(request)


def airlock_atomic_view(request: object) -> object:
    with transaction.atomic():
        return airlock_view(request)


def view_named(request: object, name: str) -> object:
    return VIEWS[name](request)


VIEWS = {
    "plain": plain_view,
    "on-commit": on_commit_view,
    "minimal": minimal_view,
    "airlock": airlock_view,
    "plain-atomic": plain_atomic_view,
    "on-commit-atomic": on_commit_atomic_view,
    "minimal-atomic": minimal_atomic_view,
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
    minimal = client([MINIMAL_MIDDLEWARE]).get
    with_airlock = client([AIRLOCK_MIDDLEWARE]).get

    rows, json_rows, goals = [], [], []
    for case, suffix in (("view outside a transaction", ""), ("view inside transaction.atomic()", "-atomic")):
        contestants = {
            "plain": (plain, f"/plain{suffix}/"),
            "on_commit": (plain, f"/on-commit{suffix}/"),
            "minimal": (minimal, f"/minimal{suffix}/"),
            "airlock": (with_airlock, f"/airlock{suffix}/"),
        }
        for get, url in contestants.values():
            check(get, url)
        best = interleaved_batches(contestants, args.requests, args.rounds)
        us = {name: best[name] / args.requests * 1e6 for name in contestants}
        ratios = {
            "airlock/plain": ratio(us["airlock"], us["plain"]),
            "minimal/plain": ratio(us["minimal"], us["plain"]),
            "airlock/on_commit": ratio(us["airlock"], us["on_commit"]),
        }
        rows.append([case, *(f"{us[name]:.1f}" for name in contestants), *(f"{r:.2f}" for r in ratios.values())])
        json_rows.append({"name": case, "values": us, "ratios": ratios})
        goals.append(goal(f"airlock/plain, {case}", ratios["airlock/plain"], LIMIT))

    title = f"Django request through the test client, {INTENTS} intents per request (µs per request, best batch)"
    header = ["case", "plain", "on_commit", "minimal", "airlock", "airlock / plain", "minimal / plain"]
    print(table(title, [*header, "airlock / on_commit"], rows))
    print(targets_table(goals))
    emit_json(title, "µs per request", json_rows, goals)


def interleaved_batches(
    contestants: dict[str, tuple[Callable[[str], object], str]], requests: int, rounds: int
) -> dict[str, float]:
    from _harness import interleaved

    return interleaved({name: batch(get, url, requests) for name, (get, url) in contestants.items()}, rounds=rounds)


if __name__ == "__main__":
    main()
