"""Policies: the built-in ones and local policy contexts (``airlock.policy``)."""

from __future__ import annotations

import logging

import pytest

import airlock
from airlock import Intent


def send_email(user_id: int) -> None:
    pass


def audit(event: str) -> None:
    pass


class Judge:
    """Records each ``allows`` call as (label, task name); allows unless the name is in ``refuse``."""

    def __init__(self, label: str, log: list[tuple[str, str]], refuse: frozenset[str] = frozenset()) -> None:
        self.label, self.log, self.refuse = label, log, refuse

    def on_enqueue(self, intent: Intent) -> None:
        pass

    def allows(self, intent: Intent) -> bool:
        self.log.append((self.label, intent.name))
        return intent.name not in self.refuse


@pytest.mark.parametrize(
    "policy",
    [
        airlock.AllowAll(),
        airlock.DropAll(),
        airlock.AssertNoEffects(),
        airlock.BlockTasks({"x"}),
        airlock.LogOnFlush(),
    ],
    ids=type,
)
def test_builtins_satisfy_the_protocol(policy: object) -> None:
    assert isinstance(policy, airlock.Policy)


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (airlock.AllowAll(), "AllowAll()"),
        (airlock.DropAll(), "DropAll()"),
        (airlock.AssertNoEffects(), "AssertNoEffects()"),
        (airlock.BlockTasks({"audit"}), "BlockTasks({'audit'})"),
        (airlock.BlockTasks(["audit"], raise_on_enqueue=True), "BlockTasks({'audit'}, raise_on_enqueue=True)"),
        (airlock.LogOnFlush(), "LogOnFlush(logger='airlock')"),
        (airlock.LogOnFlush(logging.getLogger("myapp.effects")), "LogOnFlush(logger='myapp.effects')"),
    ],
)
def test_repr(policy: object, text: str) -> None:
    assert repr(policy) == text


def test_allow_all(calls) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(airlock.AllowAll()):
        airlock.enqueue(calls, 1)
    assert calls.args == [(1,)]


def test_drop_all_buffers_but_dispatches_nothing(calls) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(airlock.DropAll()) as s:
        airlock.enqueue(calls, 1)
        assert len(s.intents) == 1
    assert calls.calls == []
    assert [i.args for i, _ in s.report.dropped] == [(1,)]


def test_assert_no_effects_raises_at_enqueue_naming_the_task() -> None:
    with airlock.scope(airlock.AssertNoEffects()) as s:
        with pytest.raises(airlock.PolicyViolation, match="send_email"):
            airlock.enqueue(send_email, 1)
        assert s.intents == []


def test_assert_no_effects_passes_without_effects() -> None:
    with airlock.scope(airlock.AssertNoEffects()) as s:
        pass
    assert s.is_flushed


class TestBlockTasks:
    def test_drops_blocked_names_at_flush(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(airlock.BlockTasks({"audit"}), executor=recording_executor) as s:
            airlock.enqueue(audit, "login")
            airlock.enqueue(send_email, 1)
            assert len(s.intents) == 2
        assert [i.name for i in recording_executor.intents] == ["send_email"]
        assert [(i.name, p) for i, p in s.report.dropped] == [("audit", s.policy)]

    def test_matches_explicit_names(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(airlock.BlockTasks({"nightly"}), executor=recording_executor):
            airlock.enqueue(send_email, 1, _name="nightly")
        assert recording_executor.intents == []

    def test_raise_on_enqueue(self) -> None:
        with airlock.scope(airlock.BlockTasks({"audit"}, raise_on_enqueue=True)) as s:
            with pytest.raises(airlock.PolicyViolation, match="'audit' is blocked"):
                airlock.enqueue(audit, "login")
            airlock.enqueue(send_email, 1)
            assert [i.name for i in s.intents] == ["send_email"]

    def test_a_bare_string_is_refused(self) -> None:
        # BlockTasks("audit") would block the names "a", "u", "d", "i", "t".
        with pytest.raises(TypeError, match="BlockTasks"):
            airlock.BlockTasks("audit")


class TestLogOnFlush:
    def test_logs_each_intent_at_flush_on_the_airlock_logger(self, calls, caplog) -> None:  # type: ignore[no-untyped-def]
        caplog.set_level(logging.INFO, logger="airlock")
        with airlock.scope(airlock.LogOnFlush()):
            airlock.enqueue(send_email, 7)
            airlock.enqueue(calls, "x", flag=True)
            assert caplog.records == []  # nothing logged at enqueue
        assert calls.args == [("x",)]
        logged = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
        assert logged == [
            ("airlock", logging.INFO, "Flushing intent: send_email(args=(7,), kwargs={})"),
            ("airlock", logging.INFO, "Flushing intent: calls(args=('x',), kwargs={'flag': True})"),
        ]

    def test_custom_logger(self, caplog) -> None:  # type: ignore[no-untyped-def]
        caplog.set_level(logging.INFO, logger="myapp.effects")
        with airlock.scope(airlock.LogOnFlush(logging.getLogger("myapp.effects")), executor=lambda intent: None):
            airlock.enqueue(send_email, 1)
        assert [r.name for r in caplog.records] == ["myapp.effects"]


class TestLocalPolicies:
    def test_same_buffer_same_order(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(send_email, 1)
            with airlock.policy(airlock.DropAll()):
                airlock.enqueue(send_email, 2)
            airlock.enqueue(send_email, 3)
            assert [i.args for i in s.intents] == [(1,), (2,), (3,)]
        assert [i.args for i in recording_executor.intents] == [(1,), (3,)]

    def test_innermost_first_then_the_scope_policy(self) -> None:
        log: list[tuple[str, str]] = []
        scope_policy = Judge("scope", log)
        with airlock.scope(scope_policy, executor=lambda intent: None):
            with airlock.policy(Judge("outer", log)), airlock.policy(Judge("inner", log)):
                airlock.enqueue(send_email, 1)
        assert log == [("inner", "send_email"), ("outer", "send_email"), ("scope", "send_email")]

    def test_a_refusing_local_policy_stops_the_chain_and_is_reported(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        log: list[tuple[str, str]] = []
        inner = Judge("inner", log, refuse=frozenset({"audit"}))
        with airlock.scope(Judge("scope", log), executor=recording_executor) as s:
            with airlock.policy(Judge("outer", log)), airlock.policy(inner):
                airlock.enqueue(audit, "x")
                airlock.enqueue(send_email, 1)
        assert log == [
            ("inner", "audit"),
            ("inner", "send_email"),
            ("outer", "send_email"),
            ("scope", "send_email"),
        ]
        assert [i.name for i in recording_executor.intents] == ["send_email"]
        assert [(i.name, p) for i, p in s.report.dropped] == [("audit", inner)]

    def test_local_policy_leaves_on_exit_even_after_an_error(self) -> None:
        with airlock.scope(executor=lambda intent: None) as s:
            with pytest.raises(KeyError), airlock.policy(airlock.DropAll()):
                raise KeyError
            airlock.enqueue(send_email, 1)
        assert s.intents[0].local_policies == ()

    def test_in_policy_is_true_while_a_policy_runs(self) -> None:
        seen: list[bool] = []

        class Peek:
            def on_enqueue(self, intent: Intent) -> None:
                seen.append(airlock._in_policy.get())

            def allows(self, intent: Intent) -> bool:
                seen.append(airlock._in_policy.get())
                return True

        with airlock.scope(Peek(), executor=lambda intent: None):
            airlock.enqueue(send_email, 1)
            with airlock.policy(Peek()):
                airlock.enqueue(send_email, 2)
        assert seen == [True, True, True, True, True]
        assert airlock._in_policy.get() is False


def test_local_policy_as_a_decorator_of_plain_and_async_functions() -> None:
    """As airlock-py's contextmanager-based policy() allowed: each call runs under it."""
    import asyncio

    sent: list[str] = []

    @airlock.policy(airlock.BlockTasks({"append"}))
    def quiet() -> None:
        airlock.enqueue(sent.append, "blocked")

    @airlock.policy(airlock.BlockTasks({"append"}))
    async def quiet_async() -> None:
        airlock.enqueue(sent.append, "blocked too")

    with airlock.scope() as scope:
        quiet()
        quiet()  # a fresh policy per call: no "already active"
        asyncio.run(quiet_async())
        airlock.enqueue(sent.append, "outside: kept")
    assert sent == ["outside: kept"]
    assert len(scope.report.dropped) == 3
    assert quiet.__name__ == "quiet"


def test_local_policy_refuses_to_decorate_a_generator_function() -> None:
    def rows():  # type: ignore[no-untyped-def]
        yield airlock.enqueue(print, "row")

    async def stream():  # type: ignore[no-untyped-def]
        yield airlock.enqueue(print, "row")

    for func in (rows, stream):
        with pytest.raises(TypeError, match=r"@airlock.policy\(\) cannot wrap the generator function"):
            airlock.policy(airlock.DropAll())(func)


def test_enqueue_reads_local_policies_once_any_was_entered(monkeypatch, calls) -> None:  # type: ignore[no-untyped-def]
    """The fast path skips reading the local policies until the first ``airlock.policy()``."""
    import importlib

    scope_module = importlib.import_module("airlock.scope")
    monkeypatch.setattr(scope_module, "_local_policies_entered", False)
    with airlock.scope():
        airlock.enqueue(calls, "before")
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(calls, "dropped")
        assert scope_module._local_policies_entered
    assert calls.args == [("before",)]


def test_a_local_policy_still_applies_in_a_context_copied_inside_its_block(calls) -> None:  # type: ignore[no-untyped-def]
    import contextvars

    with airlock.scope():
        with airlock.policy(airlock.DropAll()):
            copied = contextvars.copy_context()
        copied.run(airlock.enqueue, calls, "dropped")
        airlock.enqueue(calls, "kept")
    assert calls.args == [("kept",)]
