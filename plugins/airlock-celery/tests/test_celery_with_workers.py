"""The ``celery`` executor against real brokers (Redis, RabbitMQ) and a real worker."""

from __future__ import annotations

from datetime import datetime

import pytest
from airlock_celery import CeleryExecutor

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize("chunk_size", [7, 100])
def test_every_intent_runs_exactly_once_in_order_with_its_args(backend, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    expected = [([i, f"item-{i}"], {"n": i, "tag": ["x", i]}) for i in range(30)]
    with airlock.scope(executor=CeleryExecutor(chunk_size=chunk_size)) as scope:
        for args, kwargs in expected:
            airlock.enqueue(backend.record, log.key, *args, **kwargs)
    assert len(scope.report.dispatched) == 30 and scope.report.ok
    entries = log.wait_for(30)
    assert [(e["args"], e["kwargs"]) for e in entries] == expected  # once each, FIFO (one solo worker)


def test_countdown_and_queue_options_are_honoured(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with airlock.scope(executor="celery"):
        airlock.enqueue(backend.record, log.key, "later", _dispatch_options={"countdown": 1})
        airlock.enqueue(backend.record, log.key, "elsewhere", _dispatch_options={"queue": backend.other_queue})
        airlock.enqueue(backend.record, log.key, "default")
    entries = {e["args"][0]: e for e in log.wait_for(3)}
    assert len(log.entries()) == 3
    assert entries["elsewhere"]["queue"] == backend.other_queue
    assert entries["default"]["queue"] == backend.queue
    assert entries["default"]["eta"] is None
    eta = datetime.fromisoformat(entries["later"]["eta"]).timestamp()
    assert entries["later"]["ran_at"] >= eta  # not run before its countdown expired


def test_a_discarded_scope_publishes_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with pytest.raises(RuntimeError), airlock.scope(executor="celery"):
        airlock.enqueue(backend.record, log.key, "never")
        raise RuntimeError("request failed")
    with airlock.scope(executor="celery"):
        airlock.enqueue(backend.record, log.key, "after")
    # FIFO on one worker: had "never" been published, it would have run before "after".
    assert [e["args"] for e in log.wait_for(1)] == [["after"]]
