"""Scopes are isolated per thread, per asyncio task and per gevent greenlet.

gevent is a test requirement of airlock-core (see requirements-dev.txt): the
greenlet case is part of the contract, so its tests fail, rather than skip,
when gevent is missing; the other tests here still run.
"""

from __future__ import annotations

import asyncio
import threading
from types import ModuleType

import pytest

import airlock

#: Concurrent workers per test; each interleaves with all the others.
WORKERS = 8
WAIT = 10


def record(log: list[str], label: str) -> None:
    log.append(label)


def test_threads(recording_executor) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(WORKERS, timeout=WAIT)
    results: dict[int, tuple[list[str], bool]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with airlock.scope(executor=recording_executor) as s:
                airlock.enqueue(record, [], f"{n}-a")
                barrier.wait()  # every thread has its scope open and one intent buffered
                airlock.enqueue(record, [], f"{n}-b")
                barrier.wait()
                results[n] = ([i.args[1] for i in s.intents], airlock.get_current_scope() is s)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert errors == []
    assert results == {n: ([f"{n}-a", f"{n}-b"], True) for n in range(WORKERS)}
    assert len(recording_executor.intents) == 2 * WORKERS
    assert airlock.get_current_scope() is None


def test_a_new_thread_does_not_inherit_the_scope() -> None:
    seen: list[object] = []

    def worker() -> None:
        seen.append(airlock.get_current_scope())
        try:
            airlock.enqueue(record, [], "x")
        except airlock.NoScopeError as exc:
            seen.append(exc)

    with airlock.scope() as s:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(WAIT)
        assert s.intents == []
    assert seen[0] is None
    assert isinstance(seen[1], airlock.NoScopeError)


def test_asyncio_tasks(recording_executor) -> None:  # type: ignore[no-untyped-def]
    async def worker(n: int, everyone_in: asyncio.Event, counter: list[int]) -> tuple[list[str], bool]:
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(record, [], f"{n}-a")
            counter[0] += 1
            if counter[0] == WORKERS:
                everyone_in.set()
            await asyncio.wait_for(everyone_in.wait(), WAIT)
            airlock.enqueue(record, [], f"{n}-b")
            await asyncio.sleep(0)
            return [i.args[1] for i in s.intents], airlock.get_current_scope() is s

    async def main() -> list[tuple[list[str], bool]]:
        everyone_in = asyncio.Event()
        counter = [0]
        return await asyncio.gather(*(worker(n, everyone_in, counter) for n in range(WORKERS)))

    results = asyncio.run(main())
    assert results == [([f"{n}-a", f"{n}-b"], True) for n in range(WORKERS)]
    assert len(recording_executor.intents) == 2 * WORKERS


def test_scoped_async_functions_run_concurrently(recording_executor) -> None:  # type: ignore[no-untyped-def]
    @airlock.scoped(executor=recording_executor)
    async def handler(n: int, gate: asyncio.Event) -> list[str]:
        airlock.enqueue(record, [], str(n))
        await asyncio.wait_for(gate.wait(), WAIT)
        current = airlock.get_current_scope()
        assert current is not None
        return [i.args[1] for i in current.intents]

    async def main() -> list[list[str]]:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(handler(n, gate)) for n in range(WORKERS)]
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*tasks)

    assert asyncio.run(main()) == [[str(n)] for n in range(WORKERS)]


def require_gevent() -> ModuleType:
    """gevent, or a failure saying how to install it."""
    try:
        import gevent
    except ImportError:
        pytest.fail("gevent is needed to test per-greenlet isolation: pip install gevent (see requirements-dev.txt)")
    return gevent


def test_greenlet_supports_context_variables() -> None:
    # Without this, the greenlet test below could not isolate anything and
    # importing airlock would have warned.
    require_gevent()
    import greenlet

    assert greenlet.GREENLET_USE_CONTEXT_VARS


def test_gevent_greenlets(recording_executor) -> None:  # type: ignore[no-untyped-def]
    gevent = require_gevent()
    entered = [0]

    def worker(n: int) -> tuple[list[str], bool]:
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(record, [], f"{n}-a")
            entered[0] += 1
            while entered[0] < WORKERS:  # cooperative: yield until every greenlet opened its scope
                gevent.sleep(0)
            airlock.enqueue(record, [], f"{n}-b")
            gevent.sleep(0)
            return [i.args[1] for i in s.intents], airlock.get_current_scope() is s

    greenlets = [gevent.spawn(worker, n) for n in range(WORKERS)]
    gevent.joinall(greenlets, timeout=WAIT, raise_error=True)
    assert [g.value for g in greenlets] == [([f"{n}-a", f"{n}-b"], True) for n in range(WORKERS)]
    assert len(recording_executor.intents) == 2 * WORKERS
    assert airlock.get_current_scope() is None
