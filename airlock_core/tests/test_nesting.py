"""Nested scopes: ancestors decide what a nested scope may flush; the rest is captured."""

from __future__ import annotations

import pytest

import airlock
from airlock import Intent, Scope


def task(label: str) -> None:
    pass


class Independent(Scope):
    """Lets nested scopes flush on their own."""

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        return intents


class KeepsRisky(Scope):
    """Captures intents whose first argument starts with "risky"; lets the rest through."""

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        return [i for i in intents if not str(i.args[0]).startswith("risky")]


class Recording(Scope):
    """Captures everything and records who asked."""

    asked: list[tuple[Scope, list[str]]]

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        self.__dict__.setdefault("asked", []).append((exiting_scope, [i.args[0] for i in intents]))
        return []


def labels(intents: list[Intent]) -> list[str]:
    return [i.args[0] for i in intents]


def test_default_outer_scope_captures_everything(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(executor=recording_executor) as outer:
        airlock.enqueue(task, "a")
        with airlock.scope(executor=recording_executor) as inner:
            airlock.enqueue(task, "b")
        assert recording_executor.intents == []  # the inner exit dispatched nothing
        assert inner.is_flushed
        airlock.enqueue(task, "c")
        assert labels(outer.intents) == ["a", "b", "c"]
        assert labels(outer.captured_intents) == ["b"]
        assert labels(outer.own_intents) == ["a", "c"]
    assert labels(recording_executor.intents) == ["a", "b", "c"]


def test_inner_flush_returns_nothing_when_everything_is_captured() -> None:
    with airlock.scope(executor=lambda intent: None):
        inner = Scope(airlock.AllowAll())
        inner.enter()
        airlock.enqueue(task, "b")
        inner.exit()
        assert inner.flush() == []


def test_independent_ancestor_lets_nested_scopes_flush(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(_cls=Independent, executor=recording_executor) as outer:
        with airlock.scope(executor=recording_executor):
            airlock.enqueue(task, "b")
        assert labels(recording_executor.intents) == ["b"]
        assert outer.captured_intents == []
        assert outer.intents == []


def test_filtering_ancestor_captures_what_it_leaves_out(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(_cls=KeepsRisky, executor=recording_executor) as outer:
        with airlock.scope(executor=recording_executor) as inner:
            airlock.enqueue(task, "safe-1")
            airlock.enqueue(task, "risky-1")
            airlock.enqueue(task, "safe-2")
        assert labels(recording_executor.intents) == ["safe-1", "safe-2"]
        assert labels(outer.captured_intents) == ["risky-1"]
        assert [(i.args[0], ancestor) for i, ancestor in inner.report.captured] == [("risky-1", outer)]
    assert labels(recording_executor.intents) == ["safe-1", "safe-2", "risky-1"]


@pytest.mark.parametrize("returned", [None, (), "nope"], ids=["None", "tuple", "str"])
def test_non_list_return_is_a_type_error(returned: object) -> None:
    class Broken(Scope):
        def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
            return returned  # type: ignore[return-value]

    with airlock.scope(_cls=Broken, executor=lambda intent: None):
        with pytest.raises(TypeError, match="must return a list"), airlock.scope():
            airlock.enqueue(task, "x")


def test_inner_discard_is_not_captured(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(executor=recording_executor) as outer:
        with pytest.raises(ValueError), airlock.scope():
            airlock.enqueue(task, "lost")
            raise ValueError
        assert outer.captured_intents == []
    assert recording_executor.intents == []


def test_outer_discard_drops_what_it_captured(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError), airlock.scope(executor=recording_executor) as outer:
        with airlock.scope():
            airlock.enqueue(task, "b")
        raise ValueError
    assert recording_executor.intents == []
    assert labels(outer.report.discarded) == ["b"]


def test_outer_policy_judges_captured_intents(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(airlock.DropAll(), executor=recording_executor) as outer:
        with airlock.scope(executor=recording_executor):
            airlock.enqueue(task, "b")
    assert recording_executor.intents == []
    assert [(i.args[0], p) for i, p in outer.report.dropped] == [("b", outer.policy)]


def test_local_policies_travel_with_captured_intents(recording_executor) -> None:  # type: ignore[no-untyped-def]
    with airlock.scope(executor=recording_executor):
        with airlock.scope():
            with airlock.policy(airlock.DropAll()):
                airlock.enqueue(task, "dropped")
            airlock.enqueue(task, "kept")
    assert labels(recording_executor.intents) == ["kept"]


class TestThreeLevels:
    def test_each_level_captures_from_the_next(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(_cls=Recording, executor=recording_executor) as outer:
            airlock.enqueue(task, "outer-1")
            with airlock.scope(_cls=Recording) as middle:
                airlock.enqueue(task, "middle-1")
                with airlock.scope() as inner:
                    airlock.enqueue(task, "inner-1")
                # the nearest ancestor captured everything, so the outer one was not asked
                assert middle.asked == [(inner, ["inner-1"])]
                assert "asked" not in outer.__dict__
                airlock.enqueue(task, "middle-2")
                assert labels(middle.own_intents) == ["middle-1", "middle-2"]
                assert labels(middle.captured_intents) == ["inner-1"]
                assert labels(middle.intents) == ["middle-1", "inner-1", "middle-2"]
            assert outer.asked == [(middle, ["middle-1", "inner-1", "middle-2"])]
            airlock.enqueue(task, "outer-2")
            assert labels(outer.own_intents) == ["outer-1", "outer-2"]
            assert labels(outer.captured_intents) == ["middle-1", "inner-1", "middle-2"]
            assert labels(outer.intents) == ["outer-1", "middle-1", "inner-1", "middle-2", "outer-2"]
            assert recording_executor.intents == []
        assert labels(recording_executor.intents) == ["outer-1", "middle-1", "inner-1", "middle-2", "outer-2"]

    def test_exiting_scope_is_the_innermost_when_a_middle_scope_lets_through(
        self,
        recording_executor,  # type: ignore[no-untyped-def]
    ) -> None:
        with airlock.scope(_cls=Recording, executor=recording_executor) as outer:
            with airlock.scope(_cls=Independent) as middle:
                with airlock.scope() as inner:
                    airlock.enqueue(task, "inner-1")
                assert middle.captured_intents == []
                assert outer.asked == [(inner, ["inner-1"])]
                assert labels(outer.captured_intents) == ["inner-1"]
            assert labels(outer.own_intents) == []
        assert labels(recording_executor.intents) == ["inner-1"]

    def test_all_independent_flushes_at_the_innermost_exit(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(_cls=Independent):
            with airlock.scope(_cls=Independent):
                with airlock.scope(executor=recording_executor):
                    airlock.enqueue(task, "inner-1")
                assert labels(recording_executor.intents) == ["inner-1"]


def test_a_late_nested_flush_under_a_discarded_ancestor_dispatches_nothing() -> None:
    """An asyncio task started in a scope that is then discarded flushes later:
    the ancestor's verdict stands, and the report says discarded."""
    import asyncio

    sent: list[str] = []
    reports: list[airlock.FlushReport] = []

    async def send_welcome() -> None:
        await asyncio.sleep(0)  # the enclosing scope ends meanwhile
        with airlock.scope() as nested:
            airlock.enqueue(sent.append, "welcome")
        reports.append(nested.report)

    async def main() -> None:
        with pytest.raises(RuntimeError), airlock.scope() as outer:
            task = asyncio.ensure_future(send_welcome())
            raise RuntimeError("the view failed")
        assert outer.is_discarded
        await task

    asyncio.run(main())
    assert sent == []
    [report] = reports
    assert [(fate.intent.args, fate.status) for fate in report.fates()] == [(("welcome",), "discarded")]


def test_a_late_nested_flush_passes_by_a_flushed_ancestor() -> None:
    import asyncio

    sent: list[str] = []

    async def send_welcome() -> None:
        await asyncio.sleep(0)  # the enclosing scope flushes meanwhile
        with airlock.scope():
            airlock.enqueue(sent.append, "welcome")

    async def main() -> None:
        with airlock.scope() as outer:
            task = asyncio.ensure_future(send_welcome())
        assert outer.is_flushed
        await task

    asyncio.run(main())
    assert sent == ["welcome"]
