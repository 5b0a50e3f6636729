"""Scopes: ``airlock.scope``, ``airlock.scoped`` and the ``Scope`` lifecycle."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import airlock
from airlock import Scope, ScopeStateError


def task(*args: object) -> None:
    pass


class Boom(Exception):
    pass


class TestScopeContextManager:
    def test_flushes_on_normal_exit_in_fifo_order(self, calls) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope() as s:
            for n in range(5):
                airlock.enqueue(calls, n)
        assert calls.args == [(0,), (1,), (2,), (3,), (4,)]
        assert s.is_flushed and not s.is_discarded

    def test_discards_on_exception_which_propagates_unchanged(self, calls) -> None:  # type: ignore[no-untyped-def]
        error = Boom("request failed")
        with pytest.raises(Boom) as info, airlock.scope() as s:
            airlock.enqueue(calls, 1)
            raise error
        assert info.value is error
        assert calls.calls == []
        assert s.is_discarded and not s.is_flushed

    def test_empty_scope_is_flushed(self) -> None:
        with airlock.scope() as s:
            pass
        assert s.is_flushed
        assert s.intents == []

    def test_should_flush_receives_the_error_and_may_flush_anyway(self, calls) -> None:  # type: ignore[no-untyped-def]
        seen: list[BaseException | None] = []

        class FlushOnBoom(Scope):
            def should_flush(self, error: BaseException | None) -> bool:
                seen.append(error)
                return error is None or isinstance(error, Boom)

        with pytest.raises(Boom), airlock.scope(_cls=FlushOnBoom):
            airlock.enqueue(calls, "kept")
            raise Boom
        assert calls.args == [("kept",)]
        assert len(seen) == 1 and isinstance(seen[0], Boom)

        with pytest.raises(KeyError), airlock.scope(_cls=FlushOnBoom) as s:
            airlock.enqueue(calls, "dropped")
            raise KeyError("other")
        assert s.is_discarded
        assert calls.args == [("kept",)]

    def test_should_flush_may_discard_a_success(self, calls) -> None:  # type: ignore[no-untyped-def]
        class DryRun(Scope):
            def should_flush(self, error: BaseException | None) -> bool:
                return False

        with airlock.scope(_cls=DryRun) as s:
            airlock.enqueue(calls, 1)
        assert s.is_discarded
        assert calls.calls == []
        assert s.should_flush(None) is False

    @pytest.mark.parametrize("block_raises", [False, True])
    def test_a_should_flush_that_raises_discards_and_its_error_propagates(self, calls, block_raises) -> None:  # type: ignore[no-untyped-def]
        class Undecided(Scope):
            def should_flush(self, error: BaseException | None) -> bool:
                raise LookupError("no decision")

        with pytest.raises(LookupError) as raised, airlock.scope(_cls=Undecided) as s:
            airlock.enqueue(calls, 1)
            if block_raises:
                raise Boom
        assert s.is_discarded and calls.calls == []
        assert s.report is not None and [i.args for i in s.report.discarded] == [(1,)]
        assert raised.value.airlock_report is s.report  # type: ignore[attr-defined]
        assert isinstance(raised.value.__context__, Boom) is block_raises

    def test_default_should_flush(self) -> None:
        s = Scope(airlock.AllowAll())
        assert s.should_flush(None) is True
        assert s.should_flush(ValueError()) is False

    def test_scope_finished_by_hand_inside_the_block_is_left_alone(self, calls) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope() as s:
            airlock.enqueue(calls, 1)
            s.exit()
            s.discard()
            s.enter()
        assert s.is_discarded
        assert calls.calls == []

    def test_policy_and_executor_arguments(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(airlock.BlockTasks({"task"}), executor=recording_executor) as s:
            airlock.enqueue(task, 1)
            airlock.enqueue(print, 2)
        assert [i.name for i in recording_executor.intents] == ["print"]
        assert s.policy.allows(airlock.Intent(task=task, args=(), kwargs={})) is False

    def test_kwargs_reach_a_custom_scope_class(self) -> None:
        class Tagged(Scope):
            def __init__(self, policy: airlock.Policy, *, tag: str, **kwargs: object) -> None:
                super().__init__(policy, **kwargs)
                self.tag = tag

        with airlock.scope(_cls=Tagged, tag="t1") as s:
            assert isinstance(s, Tagged)
            assert s.tag == "t1"


class TestScoped:
    def test_keeps_wraps_metadata(self) -> None:
        def handler(x: int) -> int:
            """Handle x."""
            return x

        wrapped = airlock.scoped()(handler)
        assert wrapped.__name__ == "handler"
        assert wrapped.__doc__ == "Handle x."
        assert wrapped.__wrapped__ is handler  # type: ignore[attr-defined]
        assert wrapped(3) == 3

    def test_fresh_scope_per_call_flushed_on_return(self, calls) -> None:  # type: ignore[no-untyped-def]
        seen: list[Scope] = []

        @airlock.scoped()
        def handler(n: int) -> None:
            current = airlock.get_current_scope()
            assert current is not None
            seen.append(current)
            airlock.enqueue(calls, n)
            assert calls.args == [(m,) for m in range(n)]  # earlier calls flushed, this one not yet

        handler(0)
        handler(1)
        assert calls.args == [(0,), (1,)]
        assert seen[0] is not seen[1]
        assert all(s.is_flushed for s in seen)
        assert airlock.get_current_scope() is None

    def test_exception_discards_and_propagates(self, calls) -> None:  # type: ignore[no-untyped-def]
        @airlock.scoped()
        def handler() -> None:
            airlock.enqueue(calls)
            raise Boom

        with pytest.raises(Boom):
            handler()
        assert calls.calls == []

    def test_arguments_are_passed_to_each_scope(self, calls) -> None:  # type: ignore[no-untyped-def]
        @airlock.scoped(airlock.DropAll())
        def handler() -> Scope:
            airlock.enqueue(calls)
            current = airlock.get_current_scope()
            assert current is not None
            return current

        s = handler()
        assert calls.calls == []
        assert isinstance(s.policy, airlock.DropAll)

    def test_async_function(self, calls) -> None:  # type: ignore[no-untyped-def]
        @airlock.scoped()
        async def handler(n: int) -> int:
            airlock.enqueue(calls, n)
            await asyncio.sleep(0)
            assert calls.calls == []  # still buffered across the await
            return n * 2

        assert inspect.iscoroutinefunction(handler)
        assert handler.__name__ == "handler"
        assert asyncio.run(handler(21)) == 42
        assert calls.args == [(21,)]

    def test_async_exception_discards(self, calls) -> None:  # type: ignore[no-untyped-def]
        @airlock.scoped()
        async def handler() -> None:
            airlock.enqueue(calls)
            raise Boom

        with pytest.raises(Boom):
            asyncio.run(handler())
        assert calls.calls == []

    def test_an_object_with_an_async_call_is_awaited_inside_the_scope(self, calls) -> None:  # type: ignore[no-untyped-def]
        class Handler:
            async def __call__(self, n: int) -> int:
                await asyncio.sleep(0)
                airlock.enqueue(calls, n)  # after the await: still inside the scope
                return n

        handler = airlock.scoped(airlock.DropAll())(Handler())
        assert inspect.iscoroutinefunction(handler)
        assert asyncio.run(handler(1)) == 1
        assert calls.calls == []  # the DropAll scope covered the body

    def test_a_plain_callable_that_returns_a_coroutine_is_refused_when_called(self, calls) -> None:  # type: ignore[no-untyped-def]
        async def body() -> None:
            airlock.enqueue(calls, "lost")

        def hides_it() -> object:  # a decorator's wrapper around an async def, not marked as one
            airlock.enqueue(calls, "before the coroutine")  # discarded with the failed call, not sent
            return body()

        wrapped = airlock.scoped()(hides_it)
        with pytest.raises(TypeError, match=r"'.*hides_it' returned a coroutine, so the scope would end"):
            wrapped()
        policy_error = r"@airlock.policy\(\): .* returned a coroutine, so the policy would end"
        with pytest.raises(TypeError, match=policy_error), airlock.scope():
            airlock.policy(airlock.DropAll())(hides_it)()
        assert calls.calls == []


class TestLifecycle:
    def test_manual_lifecycle(self, calls) -> None:  # type: ignore[no-untyped-def]
        s = Scope(airlock.AllowAll())
        assert s.enter() is s
        assert s.is_active
        airlock.enqueue(calls, 1)
        s.exit()
        assert not s.is_active
        dispatched = s.flush()
        assert [i.args for i in dispatched] == [(1,)]
        assert calls.args == [(1,)]

    def test_flush_returns_only_what_passed_the_policies(self) -> None:
        s = Scope(airlock.BlockTasks({"task"}), executor=lambda intent: None)
        s.enter()
        airlock.enqueue(task, "blocked")
        airlock.enqueue(print, "kept")
        s.exit()
        assert [i.args for i in s.flush()] == [("kept",)]

    def test_discard_returns_what_was_dropped(self, calls) -> None:  # type: ignore[no-untyped-def]
        s = Scope(airlock.AllowAll())
        s.enter()
        airlock.enqueue(calls, 1)
        airlock.enqueue(calls, 2)
        s.exit()
        assert [i.args for i in s.discard()] == [(1,), (2,)]
        assert s.intents == []
        assert calls.calls == []

    def test_intents_is_a_copy(self) -> None:
        with airlock.scope(executor=lambda intent: None) as s:
            airlock.enqueue(task)
            s.intents.clear()
            assert len(s.intents) == 1

    def test_is_active_only_for_the_innermost_scope(self) -> None:
        with airlock.scope() as outer:
            with airlock.scope() as inner:
                assert inner.is_active
                assert not outer.is_active
            assert outer.is_active
        assert not outer.is_active

    def test_enter_twice(self) -> None:
        s = Scope(airlock.AllowAll())
        s.enter()
        try:
            with pytest.raises(ScopeStateError, match="already active"):
                s.enter()
        finally:
            s.exit()

    def test_with_on_an_active_scope(self) -> None:
        with airlock.scope() as s, pytest.raises(ScopeStateError, match="already active"), s:
            pass

    def test_exit_when_not_active(self) -> None:
        with pytest.raises(ScopeStateError, match="not active"):
            Scope(airlock.AllowAll()).exit()

    @pytest.mark.parametrize("action", ["flush", "discard"])
    def test_finish_while_active(self, action: str) -> None:
        s = Scope(airlock.AllowAll())
        s.enter()
        try:
            with pytest.raises(ScopeStateError, match="still active"):
                getattr(s, action)()
        finally:
            s.exit()
        assert not s.is_flushed and not s.is_discarded

    @pytest.mark.parametrize(
        ("first", "second", "match"),
        [
            ("flush", "flush", "already been flushed"),
            ("discard", "discard", "already been discarded"),
            ("flush", "discard", "flushed"),
            ("discard", "flush", "discarded"),
        ],
    )
    def test_finish_twice(self, first: str, second: str, match: str) -> None:
        s = Scope(airlock.AllowAll())
        getattr(s, first)()
        with pytest.raises(ScopeStateError, match=match):
            getattr(s, second)()

    @pytest.mark.parametrize("action", ["flush", "discard"])
    def test_enqueue_into_a_finished_scope(self, action: str) -> None:
        s = Scope(airlock.AllowAll())
        getattr(s, action)()
        s.enter()
        try:
            with pytest.raises(ScopeStateError, match="Cannot add intents"):
                airlock.enqueue(task)
        finally:
            s.exit()

    def test_marked_flushed_before_dispatch_so_a_failure_never_dispatches_twice(self) -> None:
        attempts: list[str] = []

        def flaky(name: str) -> None:
            attempts.append(name)
            if name == "b":
                raise Boom(name)

        s = Scope(airlock.AllowAll())
        s.enter()
        for name in "abc":
            airlock.enqueue(flaky, name)
        s.exit()
        with pytest.raises(Boom):
            s.flush()
        assert s.is_flushed
        with pytest.raises(ScopeStateError, match="already been flushed"):
            s.flush()
        with pytest.raises(ScopeStateError):
            s.discard()
        assert attempts == ["a", "b"]

    def test_executor_failure_inside_with_propagates_and_marks_flushed(self) -> None:
        def failing(intent: airlock.Intent) -> None:
            raise Boom("broker down")

        with pytest.raises(Boom, match="broker down"), airlock.scope(executor=failing) as s:
            airlock.enqueue(task)
        assert s.is_flushed
        with pytest.raises(ScopeStateError):
            s.flush()

    def test_repr_names_state(self) -> None:
        with airlock.scope() as s:
            assert "active" in repr(s)
        assert "flushed" in repr(s)
