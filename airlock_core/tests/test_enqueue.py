"""``airlock.enqueue``: building an intent and buffering it in the current scope."""

from __future__ import annotations

import pytest

import airlock
from airlock import Intent


def notify(*args: object, **kwargs: object) -> None:
    pass


class Rejecting:
    """Rejects intents named ``notify`` at enqueue; allows the rest."""

    def on_enqueue(self, intent: Intent) -> None:
        if intent.name == "notify":
            raise airlock.PolicyViolation(f"no {intent.name} here")

    def allows(self, intent: Intent) -> bool:
        return True


class EnqueuesFrom:
    """A policy that (wrongly) enqueues from one of its callbacks."""

    def __init__(self, callback: str) -> None:
        self.callback = callback

    def on_enqueue(self, intent: Intent) -> None:
        if self.callback == "on_enqueue":
            airlock.enqueue(notify, "from policy")

    def allows(self, intent: Intent) -> bool:
        if self.callback == "allows":
            airlock.enqueue(notify, "from policy")
        return True


def test_buffers_in_the_current_scope_until_it_ends(calls) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope() as s:
        airlock.enqueue(calls, 1, key="v")
        assert calls.calls == []
        assert [(i.args, i.kwargs) for i in s.intents] == [((1,), {"key": "v"})]
    assert calls.calls == [((1,), {"key": "v"})]


def test_reserved_keywords_fill_the_intent() -> None:
    with airlock.scope(executor=lambda intent: None) as s:
        airlock.enqueue(notify, 1, _name="n", _origin="signup view", _dispatch_options={"queue": "mail"}, x=2)
    (intent,) = s.intents
    assert intent.name == "n"
    assert intent.origin == "signup view"
    assert intent.dispatch_options == {"queue": "mail"}
    assert intent.kwargs == {"x": 2}


def test_buffers_in_the_innermost_scope() -> None:
    with airlock.scope(executor=lambda intent: None) as outer:
        with airlock.scope(executor=lambda intent: None) as inner:
            airlock.enqueue(notify, "inner")
            assert [i.args for i in inner.intents] == [("inner",)]
            assert outer.intents == []


def test_without_scope_raises_no_scope_error_naming_the_fix() -> None:
    with pytest.raises(airlock.NoScopeError) as info:
        airlock.enqueue(notify, 1)
    message = str(info.value)
    assert "airlock.scope()" in message
    assert "notify" in message
    assert isinstance(info.value, airlock.UsageError)


def test_after_the_scope_ended_raises_no_scope_error() -> None:
    with airlock.scope():
        pass
    with pytest.raises(airlock.NoScopeError):
        airlock.enqueue(notify)


@pytest.mark.parametrize("callback", ["on_enqueue", "allows"])
def test_from_a_policy_callback_raises_policy_enqueue_error(callback: str) -> None:
    with pytest.raises(airlock.PolicyEnqueueError), airlock.scope(policy=EnqueuesFrom(callback)):
        airlock.enqueue(notify, "user code")


def test_policy_enqueue_error_is_a_usage_error() -> None:
    assert issubclass(airlock.PolicyEnqueueError, airlock.UsageError)


def test_in_policy_flag_is_cleared_after_a_rejection(calls) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(policy=Rejecting()):
        with pytest.raises(airlock.PolicyViolation):
            airlock.enqueue(notify)
        airlock.enqueue(calls, "still allowed")
    assert calls.args == [("still allowed",)]


def test_policy_rejection_means_not_buffered(calls) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(policy=Rejecting()) as s:
        airlock.enqueue(calls, "before")
        with pytest.raises(airlock.PolicyViolation, match="no notify here"):
            airlock.enqueue(notify, "rejected")
        airlock.enqueue(calls, "after")
        assert [i.args for i in s.intents] == [("before",), ("after",)]
    assert calls.args == [("before",), ("after",)]


@pytest.mark.parametrize("task", ["send_email", None, 42, notify(1)], ids=["str", "None", "int", "result"])
def test_non_callable_task_is_a_type_error_naming_it(task: object) -> None:
    with airlock.scope() as s:
        with pytest.raises(TypeError) as info:
            airlock.enqueue(task)  # type: ignore[arg-type]
        assert s.intents == []
    assert repr(task) in str(info.value)
    assert "callable" in str(info.value)


def test_non_callable_task_fails_even_without_a_scope() -> None:
    with pytest.raises(TypeError, match="callable"):
        airlock.enqueue("send_email")  # type: ignore[arg-type]


def test_get_current_scope_follows_nesting() -> None:
    assert airlock.get_current_scope() is None
    with airlock.scope() as outer:
        assert airlock.get_current_scope() is outer
        with airlock.scope() as inner:
            assert airlock.get_current_scope() is inner
        assert airlock.get_current_scope() is outer
    assert airlock.get_current_scope() is None


class Watching(airlock.Scope):
    """A subclass whose ``_add`` must see intents only while ``watch`` is set."""

    _enqueue_guard = staticmethod(lambda scope: scope.watch)

    def __init__(self) -> None:
        super().__init__()
        self.watch = False
        self.seen_at: list[int] = []  # buffer positions of the intents it was asked about

    def _before_guarded_append(self) -> None:
        self.seen_at.append(len(self._intents))

    def _add(self, intent: Intent) -> None:
        self._before_guarded_append()
        super()._add(intent)


def test_an_enqueue_guard_is_asked_per_intent_and_keeps_the_order() -> None:
    with Watching() as scope:
        airlock.enqueue(notify, 0)
        scope.watch = True
        airlock.enqueue(notify, 1)
        airlock.enqueue(notify, 2, _name="named")  # not a plain intent: through _add
        scope.watch = False
        airlock.enqueue(notify, 3)

    assert scope.seen_at == [1, 2]
    assert [i.args for i in scope.report.dispatched] == [(0,), (1,), (2,), (3,)]


def test_a_guard_does_not_speak_for_an_add_written_below_it() -> None:
    class Counting(Watching):
        def _add(self, intent: Intent) -> None:
            self.added = getattr(self, "added", 0) + 1
            super()._add(intent)

    with Counting() as scope:
        airlock.enqueue(notify, 0)
        airlock.enqueue(notify, 1)

    assert scope.added == 2 and scope.seen_at == [0, 1]


def test_enqueue_call_hands_every_keyword_argument_to_the_task() -> None:
    """Even those enqueue() takes for its own: what a forwarded call (Celery's delay) needs."""
    received: list[dict[str, object]] = []

    def assign(**kwargs: object) -> None:
        received.append(kwargs)

    kwargs = {"task": 7, "_name": "n", "_origin": "o", "_dispatch_options": {"x": 1}}
    with airlock.scope() as scope:
        airlock.enqueue_call(assign, (), kwargs, name="assign-7", dispatch_options={"queue": "q"})
        kwargs["task"] = 8  # the caller's dict changing later changes nothing
        [intent] = scope.intents
        assert (intent.name, intent.dispatch_options) == ("assign-7", {"queue": "q"})
    assert received == [{"task": 7, "_name": "n", "_origin": "o", "_dispatch_options": {"x": 1}}]


def test_enqueue_call_refuses_what_enqueue_refuses() -> None:
    with pytest.raises(airlock.NoScopeError):
        airlock.enqueue_call(print, ("x",))
    with airlock.scope() as scope:
        with pytest.raises(TypeError, match=r"enqueue_call\(\) takes the task's arguments as a tuple and a dict"):
            airlock.enqueue_call(print, ["x"])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"enqueue_call\(\): name and origin must be strings"):
            airlock.enqueue_call(print, name=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"enqueue_call\(\) needs a callable or a task object"):
            airlock.enqueue_call("print")  # type: ignore[arg-type]
        assert scope.intents == []
