"""The ``celery`` executor's chunk ramp on a real Redis: chunk sizes in order, and what a failed chunk reports.

The task used here notes, right before each of its publishes, how many
messages its queue already holds on the broker (nothing consumes it). That
length only grows when a chunk is written, so the sequence of lengths shows
exactly where each chunk ended.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from airlock_celery import CeleryExecutor
from celery import Celery, chain, group
from kombu.exceptions import KombuError

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class Probe:
    """A Celery app on ``broker_url`` with one task, ``noop``, that notes its queue's length before each publish."""

    def __init__(self, broker_url: str, redis_url: str) -> None:
        name = f"airlock-celery-ramp-{uuid.uuid4().hex[:10]}"
        self.queue = f"{name}-q"
        self.client = redis.Redis.from_url(redis_url)  # straight to Redis, even when the broker URL is a proxy
        self.lengths: list[int] = []
        #: Called with the task's args before each publish, once its queue length was noted.
        self.before_publish: Callable[[tuple[Any, ...]], None] = lambda args: None
        self.app = Celery(name, broker=broker_url, set_as_current=False)
        self.app.conf.task_default_queue = self.queue
        probe = self

        class Probed(self.app.Task):  # type: ignore[name-defined,misc]
            def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
                probe.lengths.append(probe.client.llen(probe.queue))
                probe.before_publish(tuple(args or ()))
                return super().apply_async(args, kwargs, **options)

        @self.app.task(name=f"{name}.noop", base=Probed)
        def noop(*args: Any) -> None:
            """Never runs: no worker consumes this app."""

        self.noop = noop

    def queued_args(self) -> list[list[Any]]:
        """The args of the messages on the queue, oldest first (kombu LPUSHes; workers pop from the right)."""
        messages = [json.loads(raw) for raw in reversed(self.client.lrange(self.queue, 0, -1))]
        return [json.loads(base64.b64decode(message["body"]))[0] for message in messages]

    def close(self) -> None:
        self.client.delete(self.queue, f"_kombu.binding.{self.queue}")
        self.client.close()
        self.app.close()


@pytest.fixture
def probe(redis_url: str) -> Iterator[Callable[[str], Probe]]:
    """``probe(broker_url)``: a :class:`Probe`, closed (queue deleted) after the test."""
    made: list[Probe] = []

    def make(broker_url: str) -> Probe:
        made.append(Probe(broker_url, redis_url))
        return made[-1]

    yield make
    for p in made:
        p.close()


def lengths_for(chunks: list[int]) -> list[int]:
    """The queue lengths seen before each publish when the flush is written in ``chunks``."""
    seen, written = [], 0
    for size in chunks:
        seen += [written] * size
        written += size
    return seen


@pytest.mark.parametrize(
    ("options", "count", "chunks"),
    [
        ({"chunk_size": 8}, 20, [1, 2, 4, 8, 5]),  # from one publish, doubling up to chunk_size
        ({"chunk_size": 10, "first_chunk_size": 3}, 25, [3, 6, 10, 6]),
        ({"chunk_size": 4, "first_chunk_size": 4}, 10, [4, 4, 2]),  # no ramp: every chunk full size
        ({"chunk_size": 4, "first_chunk_size": 50}, 10, [4, 4, 2]),  # the first chunk is capped at chunk_size
        ({}, 300, [1, 2, 4, 8, 16, 32, 64, 100, 73]),  # the defaults
    ],
)
def test_chunks_start_small_and_double_up_to_chunk_size(
    probe: Callable[[str], Probe], redis_url: str, options: dict[str, int], count: int, chunks: list[int]
) -> None:
    p = probe(redis_url)
    with airlock.scope(executor=CeleryExecutor(**options)) as scope:
        for i in range(count):
            airlock.enqueue(p.noop, i)
    assert p.lengths == lengths_for(chunks)
    assert p.queued_args() == [[i] for i in range(count)]  # all of them, in order
    assert scope.report.ok and [i.args for i in scope.report.dispatched] == [(i,) for i in range(count)]


def test_the_ramp_goes_on_after_a_solo_dispatch_wrote_the_chunk_early(
    probe: Callable[[str], Probe], redis_url: str
) -> None:
    p = probe(redis_url)
    inline: list[int] = []
    with airlock.scope(executor=CeleryExecutor(chunk_size=8)):
        for i in range(4):  # chunks [0], [1, 2], then [3] is written early, before the plain call runs
            airlock.enqueue(p.noop, i)
        airlock.enqueue(inline.append, 1)
        for i in range(4, 14):  # chunks of 8 (the ramp's next size), then the last 2
            airlock.enqueue(p.noop, i)
    assert p.lengths == [0, 1, 1, 3] + [4] * 8 + [12] * 2
    assert inline == [1] and p.client.llen(p.queue) == 14


def test_losing_the_broker_mid_ramp_reports_exactly_the_written_chunks(
    probe: Callable[[str], Probe],
    airlock_outage,  # type: ignore[no-untyped-def]
) -> None:
    redis_proxy = airlock_outage("redis")
    p = probe(redis_proxy.url)
    p.before_publish = lambda args: redis_proxy.down() if args == (5,) else None
    with pytest.raises(KombuError) as caught:
        with airlock.scope(executor=CeleryExecutor(chunk_size=8)):
            for i in range(10):  # chunks [0], [1, 2], then [3..6]: cut while it fills, fails when written at 6
                airlock.enqueue(p.noop, i)
    report = caught.value.airlock_report
    assert p.client.llen(p.queue) == 3
    assert [i.args for i in report.dispatched] == [(0,), (1,), (2,)]
    assert sorted(intent.args for intent, _ in report.failed) == [(3,), (4,), (5,), (6,)]
    assert [i.args for i in report.not_attempted] == [(7,), (8,), (9,)]
    assert [i.args for i in caught.value.airlock_undelivered] == [(3,), (4,), (5,)]


@pytest.mark.parametrize("canvas", ["chain", "group with a chain"])
def test_a_canvas_reaches_the_broker_after_the_chunk_buffered_before_it(
    probe: Callable[[str], Probe], redis_url: str, canvas: str
) -> None:
    """Celery publishes a chain on a connection of its own (``producer=`` is
    dropped): the chunk buffered before it is written first, as for an intent
    with its own connection. Only a chain's first step is published."""
    p = probe(redis_url)
    steps = chain(p.noop.s(2), p.noop.si(22))
    if canvas == "group with a chain":
        steps = group(steps)
    with airlock.scope(executor=CeleryExecutor(chunk_size=8, first_chunk_size=8)) as scope:
        airlock.enqueue(p.noop, 0)
        airlock.enqueue(p.noop, 1)
        airlock.enqueue(steps)
        airlock.enqueue(p.noop, 3)
    assert p.queued_args() == [[0], [1], [2], [3]]
    assert p.lengths == [0, 0, 2, 3]  # [0, 1] written before the chain; the chain's step before [3]
    assert scope.report.ok and [i.task for i in scope.report.dispatched] == [p.noop, p.noop, steps, p.noop]


def test_a_chunk_that_fails_after_a_canvas_does_not_report_the_canvas(
    probe: Callable[[str], Probe],
    airlock_outage,  # type: ignore[no-untyped-def]
) -> None:
    """The chain reached the broker on its own: when the chunk after it fails,
    it stays dispatched (publishing it again would run it twice)."""
    redis_proxy = airlock_outage("redis")
    p = probe(redis_proxy.url)
    p.before_publish = lambda args: redis_proxy.down() if args == (3,) else None
    steps = chain(p.noop.s(2), p.noop.si(22))
    with pytest.raises(KombuError) as caught:
        with airlock.scope(executor=CeleryExecutor(chunk_size=8, first_chunk_size=8)):
            airlock.enqueue(p.noop, 0)
            airlock.enqueue(p.noop, 1)
            airlock.enqueue(steps)
            airlock.enqueue(p.noop, 3)  # the last chunk: its write, at the end of the flush, fails
    report = caught.value.airlock_report
    assert p.queued_args() == [[0], [1], [2]]
    assert [i.task for i in report.dispatched] == [p.noop, p.noop, steps]
    assert [intent.args for intent, _ in report.failed] == [(3,)]
