"""Timing worker for ``bench_core.py``, run by each compared interpreter.

Runs as a script (``python _core_worker.py``) under our airlock-core or under
airlock-py 0.1.0a3, which share the import name ``airlock``; it needs only
the standard library and whichever ``airlock`` it finds. The parent drives
several workers in alternation over a line protocol on stdin/stdout:

* on start the worker prints ``{"airlock": version, "plugins": bool}``;
* ``check``: runs every case once with a counting task, prints
  ``{case: {"expected": n, "executed": n, ...}}`` (the delivery check);
* ``round REPS``: times every case REPS times in alternation, prints
  ``{case: best seconds per operation}``;
* ``quit``: exits.

Cases ending in ``floor`` are the hand-written minimum of the same job; they
run in this process, side by side with the airlock cases.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, NamedTuple

import airlock

#: Intents per scope for the per-intent cases.
N_INTENTS = 10_000
#: Scopes per timed sample for the per-scope cases.
N_SCOPES = 2_000

Task = Callable[..., Any]


def noop(*args: Any, **kwargs: Any) -> None:
    """The task every timed case enqueues."""


# -- the floors --------------------------------------------------------------
_floor_buffer: list[tuple[Task, tuple[Any, ...], dict[str, Any]]] = []


def floor_enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """The least an ``enqueue(task, *args, **kwargs)`` can do: remember the call."""
    _floor_buffer.append((task, args, kwargs))


def floor_flush() -> None:
    """The least a flush can do: call each remembered task, in order."""
    for task, args, kwargs in _floor_buffer:
        task(*args, **kwargs)
    _floor_buffer.clear()


_floor_scope: ContextVar[FloorScope | None] = ContextVar("floor_scope", default=None)


class FloorScope:
    """The least a scope can do: a context-local buffer, handed to the parent
    scope on exit if there is one (capture), else called in order."""

    __slots__ = ("buffer", "parent", "token")

    def __enter__(self) -> FloorScope:
        self.buffer: list[tuple[Task, tuple[Any, ...], dict[str, Any]]] = []
        self.parent = _floor_scope.get()
        self.token = _floor_scope.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _floor_scope.reset(self.token)
        if self.parent is not None:
            self.parent.buffer.extend(self.buffer)
        else:
            for task, args, kwargs in self.buffer:
                task(*args, **kwargs)


def floor_scope_enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """``floor_enqueue`` into the innermost ``FloorScope``."""
    _floor_scope.get().buffer.append((task, args, kwargs))  # type: ignore[union-attr]


# -- the cases: each takes the task to enqueue ------------------------------
def intent_floor(task: Task) -> None:
    enqueue = floor_enqueue
    for i in range(N_INTENTS):
        enqueue(task, i, key="value")
    floor_flush()


def intent(task: Task) -> None:
    enqueue = airlock.enqueue
    with airlock.scope():
        for i in range(N_INTENTS):
            enqueue(task, i, key="value")


def empty_scope_floor(task: Task) -> None:
    for _ in range(N_SCOPES):
        with FloorScope():
            pass


def empty_scope(task: Task) -> None:
    scope = airlock.scope
    for _ in range(N_SCOPES):
        with scope():
            pass


def one_intent_scope_floor(task: Task) -> None:
    enqueue = floor_scope_enqueue
    for i in range(N_SCOPES):
        with FloorScope():
            enqueue(task, i, key="value")


def one_intent_scope(task: Task) -> None:
    scope, enqueue = airlock.scope, airlock.enqueue
    for i in range(N_SCOPES):
        with scope():
            enqueue(task, i, key="value")


def nested_scopes_floor(task: Task) -> None:
    enqueue = floor_scope_enqueue
    for i in range(N_SCOPES):
        with FloorScope(), FloorScope(), FloorScope():
            enqueue(task, i, key="value")


def nested_scopes(task: Task) -> None:
    scope, enqueue = airlock.scope, airlock.enqueue
    for i in range(N_SCOPES):
        with scope(), scope(), scope():
            enqueue(task, i, key="value")


class Case(NamedTuple):
    """One timed job: ``run(task)`` does ``operations`` operations and calls the task ``executions`` times."""

    run: Callable[[Task], None]
    operations: int
    executions: int
    #: Entered around the timing (untimed), e.g. to register plugins.
    around: Callable[[], AbstractContextManager[object]] = nullcontext


CASES: dict[str, Case] = {
    "intent floor": Case(intent_floor, N_INTENTS, N_INTENTS),
    "intent": Case(intent, N_INTENTS, N_INTENTS),
    "empty scope floor": Case(empty_scope_floor, N_SCOPES, 0),
    "empty scope": Case(empty_scope, N_SCOPES, 0),
    "one-intent scope floor": Case(one_intent_scope_floor, N_SCOPES, N_SCOPES),
    "one-intent scope": Case(one_intent_scope, N_SCOPES, N_SCOPES),
    "nested scopes floor": Case(nested_scopes_floor, N_SCOPES, N_SCOPES),
    "nested scopes": Case(nested_scopes, N_SCOPES, N_SCOPES),
}


# -- the two plugins (our airlock only) ---------------------------------------
class Plugins:
    """One plugin implementing ``airlock_enqueue``, one wrapping ``airlock_execute``.

    Registered inline (``airlock.plugins.register``) only around the
    ``intent with plugins`` case; they count their calls so the delivery
    check proves they ran.
    """

    def __init__(self) -> None:
        hookimpl = airlock.hookimpl
        counts = self.counts = {"enqueue hook": 0, "execute wrapper": 0}

        class OnEnqueue:
            @hookimpl
            def airlock_enqueue(self, intent: Any, scope: Any) -> None:
                counts["enqueue hook"] += 1

        class AroundExecute:
            @hookimpl(wrapper=True)
            def airlock_execute(self, intent: Any, executor: Any, scope: Any) -> Any:
                counts["execute wrapper"] += 1
                return (yield)

        self.objects = (OnEnqueue(), AroundExecute())

    @contextmanager
    def registered(self) -> Iterator[None]:
        for plugin in self.objects:
            airlock.plugins.register(plugin)
        try:
            with airlock.scope():  # build the hook cache before the timing starts
                pass
            yield
        finally:
            for plugin in self.objects:
                airlock.plugins.unregister(plugin)
            with airlock.scope():  # and rebuild it for the cases without plugins
                pass


def supports_plugins() -> bool:
    """True for our airlock (pluggy hooks); airlock-py has no plugin system."""
    try:
        return callable(airlock.hookimpl)
    except AttributeError:
        return False


# -- the protocol ---------------------------------------------------------------
def check(cases: dict[str, Case], plugins: Plugins | None) -> dict[str, dict[str, int]]:
    """Run each case once with a counting task; report expected vs executed calls."""
    result = {}
    for name, case in cases.items():
        executed = 0

        def count(*args: Any, **kwargs: Any) -> None:
            nonlocal executed
            executed += 1

        before = dict(plugins.counts) if plugins else {}
        with case.around():
            case.run(count)
        entry = {"expected": case.executions, "executed": executed}
        if plugins and case.around == plugins.registered:
            entry.update({hook: n - before[hook] for hook, n in plugins.counts.items()})
        result[name] = entry
    return result


def timed_round(cases: dict[str, Case], reps: int) -> dict[str, float]:
    """Best seconds per operation of each case over ``reps`` alternating runs."""
    best = {name: float("inf") for name in cases}
    for _ in range(reps):
        for name, case in cases.items():
            with case.around():
                gc.collect()
                start = time.perf_counter()
                case.run(noop)
                elapsed = time.perf_counter() - start
            best[name] = min(best[name], elapsed / case.operations)
    return best


def main() -> None:
    cases = dict(CASES)
    plugins = Plugins() if supports_plugins() else None
    if plugins:
        cases["intent with plugins"] = Case(intent, N_INTENTS, N_INTENTS, plugins.registered)
    version = getattr(airlock, "__version__", "?")
    print(json.dumps({"airlock": version, "plugins": plugins is not None}), flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "check":
            print(json.dumps(check(cases, plugins)), flush=True)
        elif command == "round":
            print(json.dumps(timed_round(cases, int(args[0]))), flush=True)
        elif command == "quit":
            return
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


if __name__ == "__main__":
    main()
