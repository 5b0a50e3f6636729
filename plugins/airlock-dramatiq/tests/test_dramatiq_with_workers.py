"""The ``dramatiq`` executor against real brokers (Redis, RabbitMQ) and a real ``dramatiq.Worker``."""

from __future__ import annotations

import time

import pytest
from airlock_dramatiq import DramatiqExecutor

import airlock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize("chunk_size", [7, 100])
def test_every_intent_runs_exactly_once_with_its_args(backend, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    expected = [([i, f"item-{i}"], {"n": i, "tag": ["x", i]}) for i in range(30)]
    with airlock.scope(executor=DramatiqExecutor(chunk_size=chunk_size)) as scope:
        for args, kwargs in expected:
            airlock.enqueue(backend.record, log.key, *args, **kwargs)
    assert len(scope.report.dispatched) == 30 and scope.report.ok
    entries = log.wait_for(30)
    assert sorted(((e["args"], e["kwargs"]) for e in entries), key=repr) == sorted(expected, key=repr)


def test_delay_option_is_honoured(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    sent_at = time.time()
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(backend.record, log.key, "later", _dispatch_options={"delay": 500})
        airlock.enqueue(backend.record, log.key, "now")
    entries = {e["args"][0]: e for e in log.wait_for(2)}
    assert len(log.entries()) == 2
    assert entries["later"]["ran_at"] >= sent_at + 0.5  # not run before its delay expired


def test_a_discarded_scope_sends_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    log = backend.log()
    with pytest.raises(RuntimeError), airlock.scope(executor="dramatiq"):
        airlock.enqueue(backend.record, log.key, "never")
        raise RuntimeError("request failed")
    with airlock.scope(executor="dramatiq"):
        airlock.enqueue(backend.record, log.key, "after")
    # One queue, one worker thread: had "never" been sent, it would have run before "after".
    assert [e["args"] for e in log.wait_for(1)] == [["after"]]
