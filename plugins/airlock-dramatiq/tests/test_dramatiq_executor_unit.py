"""Unit tests of the ``dramatiq`` executor's dispatch rules, with stand-ins for actors (no broker)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from airlock_dramatiq import DramatiqExecutor, dramatiq_executor

import airlock
from airlock import Intent


class OptionsActor:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def send_with_options(self, *, args: Any = (), kwargs: Any = None, **options: Any) -> str:
        self.calls.append((args, kwargs, options))
        return "message"

    def send(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("send() used although send_with_options() exists")

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("called inline although send_with_options() exists")


class SendOnly:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def send(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        return "sent"

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("called inline although send() exists")


def test_send_with_options_gets_args_kwargs_and_every_dispatch_option() -> None:
    actor = OptionsActor()
    assert dramatiq_executor(Intent(actor, (1,), {"k": 2}, dispatch_options={"delay": 500, "max_retries": 0})) == (
        "message"
    )
    assert actor.calls == [((1,), {"k": 2}, {"delay": 500, "max_retries": 0})]


def test_send_is_the_fallback_and_options_are_not_passed() -> None:
    actor = SendOnly()
    assert dramatiq_executor(Intent(actor, (1,), {"k": 2}, dispatch_options={"delay": 5})) == "sent"
    assert actor.calls == [((1,), {"k": 2})]


def test_a_plain_callable_is_called_inline() -> None:
    seen = []
    assert dramatiq_executor(Intent(lambda *a, **k: seen.append((a, k)) or "ran", (1,), {"y": 3})) == "ran"
    assert seen == [((1,), {"y": 3})]


def test_a_flush_of_actors_without_redis_broker_sends_each_in_order() -> None:
    actor, order = OptionsActor(), []
    with airlock.scope(executor=dramatiq_executor):
        airlock.enqueue(actor, 1)
        airlock.enqueue(order.append, "inline")
        airlock.enqueue(actor, 2, _dispatch_options={"delay": 10})
    assert actor.calls == [((1,), {}, {}), ((2,), {}, {"delay": 10})]
    assert order == ["inline"]


@pytest.mark.parametrize("bad", [0, -3, 2.5, False, "5"])
def test_chunk_size_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        DramatiqExecutor(chunk_size=bad)


def test_selected_by_name_and_importable_at_the_compatible_path() -> None:
    from airlock.integrations.executors.dramatiq import dramatiq_executor as compat

    assert airlock.resolve_executor("dramatiq") is dramatiq_executor
    assert compat is dramatiq_executor


class _FailingPipeline:
    """A Redis pipeline (unit-test fake) whose write always fails."""

    def __init__(self) -> None:
        self.queued: list[Any] = []

    def execute(self) -> None:
        raise ConnectionError("redis went away")

    def reset(self) -> None:
        self.queued = []


class _FakeRedisBroker:
    """Just enough of dramatiq's RedisBroker for the executor's pipelining."""

    def __init__(self) -> None:
        self.client = self
        self.scripts = {"dispatch": lambda keys=None, args=None, client=None: client.queued.append(args)}

    def pipeline(self, transaction: bool = False) -> _FailingPipeline:
        return _FailingPipeline()


def test_a_failing_final_write_keeps_the_flushs_own_error_and_reports_the_chunk() -> None:
    broker = _FakeRedisBroker()

    class Actor:
        def __init__(self) -> None:
            self.broker = broker

        def send_with_options(self, args: tuple[Any, ...], kwargs: dict[str, Any], **options: Any) -> None:
            if args == ("bad",):
                raise ValueError("not serialisable")
            broker.scripts["dispatch"](keys=["q"], args=list(args))

    actor = Actor()
    executor = DramatiqExecutor(first_chunk_size=100)  # "ok" is still buffered when "bad" fails
    with pytest.raises(ValueError, match="not serialisable"), airlock.scope(executor=executor) as scope:
        airlock.enqueue(actor, "ok")
        airlock.enqueue(actor, "bad")
        airlock.enqueue(actor, "later")
    report = scope.report
    assert report.dispatched == []
    assert sorted((i.args, type(e).__name__) for i, e in report.failed) == [
        (("bad",), "ValueError"),
        (("ok",), "ConnectionError"),
    ]
    assert [i.args for i in report.not_attempted] == [("later",)]


def test_the_flush_client_is_the_broker_s_redis_with_retries_off_and_the_same_limits() -> None:
    """Made once per broker, like the broker's pool (kind, address, limits), never resending."""
    import redis
    from airlock_dramatiq.executor import _no_replay_client
    from dramatiq.brokers.redis import RedisBroker

    pool = redis.BlockingConnectionPool(host="127.0.0.1", port=6379, db=3, max_connections=7, timeout=3)
    broker = RedisBroker(client=redis.Redis(connection_pool=pool), namespace="airlock-unit")
    client = _no_replay_client(broker)
    assert _no_replay_client(broker) is client
    made = client.connection_pool
    assert type(made) is redis.BlockingConnectionPool and made is not pool
    assert (made.max_connections, made.timeout) == (7, 3)
    assert made.connection_kwargs["db"] == 3 and made.connection_kwargs["retry"].get_retries() == 0


def test_a_refused_write_claims_nothing_sent_only_on_the_flush_s_own_no_replay_client() -> None:
    """A pool that cannot be copied leaves the broker's own client, which may
    resend a write on a new connection: a refusal then proves nothing."""
    import redis
    from airlock_dramatiq.executor import _Flush
    from dramatiq.brokers.redis import RedisBroker

    class SubclassedPool(redis.ConnectionPool):
        """Not exactly ConnectionPool: _no_replay_client cannot copy it."""

    for pool, no_replay in ((redis.ConnectionPool(port=1), True), (SubclassedPool(port=1), False)):
        broker = RedisBroker(client=redis.Redis(connection_pool=pool))
        flush = _Flush(10, 1)
        assert flush._pipeline_for(broker) is not None  # nothing is sent until a write
        assert flush.refused_means_unsent is no_replay
        flush.close()


def test_a_real_actor_is_named_by_its_actor_name_for_policies_and_capture() -> None:
    """A Dramatiq actor has no ``name`` or ``__name__``: its ``actor_name`` names it, not ``"Actor(...)"``."""
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    from airlock.testing import capture

    def send_email(user_id: int, template: str = "welcome") -> None:
        """The actor's function."""

    actor = dramatiq.actor(send_email, broker=StubBroker())
    assert Intent(actor).name == "send_email"
    with airlock.scope(airlock.BlockTasks({"send_email"}), executor=dramatiq_executor) as scope:
        airlock.enqueue(actor, 1)
    assert scope.report is not None and scope.report.dispatched == [] and len(scope.report.dropped) == 1
    with capture() as captured:
        airlock.enqueue(actor, 1)
    assert captured.names == ["send_email"]
    captured.assert_enqueued("send_email")
    captured.assert_enqueued(actor, user_id=1, template="welcome")


def _stub_actor() -> tuple[Any, Any]:
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    def remind(user_id: int) -> None:
        """The actor's function."""

    broker = StubBroker()
    return broker, dramatiq.actor(remind, broker=broker)


@pytest.mark.parametrize(
    ("option", "value", "advice"),
    [
        ("countdown", 3600, "Dramatiq's is delay, in milliseconds"),
        ("eta", datetime(2030, 1, 1, tzinfo=timezone.utc), "Dramatiq's eta is a number, milliseconds since the epoch"),
        ("dealy", 3600, "did you mean 'delay'"),
        ("max_retry", 3, "did you mean 'max_retries'"),
    ],
)
def test_an_option_dramatiq_would_silently_ignore_is_refused_before_anything_is_sent(
    option: str, value: object, advice: str
) -> None:
    """Dramatiq keeps any message option: a Celery countdown, Celery's datetime
    eta or a typo would send the message at once, with nothing to say the delay was lost."""
    broker, actor = _stub_actor()
    with pytest.raises(TypeError, match=rf"ignore the dispatch option '{option}' of actor 'remind'.*{advice}"):
        dramatiq_executor(Intent(actor, (1,), dispatch_options={option: value}))
    assert all(queue.qsize() == 0 for queue in broker.queues.values())


def test_the_options_of_one_s_own_middleware_and_priority_reach_the_message() -> None:
    """Any other option is passed along, as Dramatiq does (airlock-priority leaves ``priority`` on)."""
    broker, actor = _stub_actor()
    message = dramatiq_executor(Intent(actor, (1,), dispatch_options={"tenant": "acme", "priority": 9, "delay": 5}))
    assert message.options["tenant"] == "acme" and message.options["priority"] == 9
    at = dramatiq_executor(Intent(actor, (2,), dispatch_options={"eta": 1_900_000_000_000}))  # Dramatiq's own eta
    assert at.options["eta"] == 1_900_000_000_000
    assert broker.queues["default.DQ"].qsize() == 1
