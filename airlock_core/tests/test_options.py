"""Options declared by plugins: validation, levels, suggestions, consumption, per-intent routing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

import airlock
from airlock import Intent, Option
from airlock.options import positive_int


def step(label: str) -> None:
    pass


class Priority:
    """Declares ``priority`` (anywhere, consumed) and ``audit_tag`` (intent only, not consumed)."""

    @airlock.hookimpl
    def airlock_options(self) -> Sequence[Option]:
        return [
            Option("priority", 5, "How urgent, 1 (most) to 9.", validate=positive_int),
            Option("audit_tag", "", "Passed on to the backend.", where=frozenset({"intent"}), consumed=False),
            Option("scope_only", False, "Only for scopes.", where=frozenset({"scope"})),
        ]


@pytest.fixture
def priority(airlock_plugin) -> None:  # type: ignore[no-untyped-def]
    airlock_plugin(Priority(), "priority-plugin")


@pytest.mark.usefixtures("priority")
class TestDeclaredOptions:
    def test_default(self) -> None:
        with airlock.scope() as s:
            assert s.option("priority") == 5

    def test_intent_beats_scope_beats_configure_beats_default(self) -> None:
        airlock.configure(priority=3)
        with airlock.scope(executor=lambda i: None) as s:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b", _dispatch_options={"priority": 1})
        a, b = s.intents
        assert s.option("priority") == 3
        assert s.option("priority", a) == 3
        assert s.option("priority", b) == 1
        with airlock.scope(priority=2) as s:
            pass
        assert s.option("priority") == 2

    def test_invalid_value_at_each_level(self) -> None:
        with pytest.raises(airlock.UsageError, match="priority"):
            airlock.scope(priority=0)
        with pytest.raises(airlock.UsageError, match="priority"):
            airlock.configure(priority="high")
        with airlock.scope() as s:
            with pytest.raises(airlock.UsageError, match="priority"):
                airlock.enqueue(step, "a", _dispatch_options={"priority": -1})
            assert s.intents == []

    def test_misspelled_option_suggests_the_closest_and_lists_the_known(self) -> None:
        with pytest.raises(airlock.UnknownOptionError) as info:
            airlock.scope(prority=1)
        error = info.value
        assert error.name == "prority"
        assert "Did you mean 'priority'?" in str(error)
        assert {"priority", "fail_fast", "scope_only"} <= set(error.known)

    def test_option_not_allowed_at_a_level_says_where_it_may_be_set(self) -> None:
        """Not "unknown": it is declared, just not for there."""
        with pytest.raises(airlock.UsageError) as at_scope:
            airlock.scope(audit_tag="x")
        assert not isinstance(at_scope.value, airlock.UnknownOptionError)
        assert str(at_scope.value) == (
            "airlock option 'audit_tag' (priority-plugin) cannot be set on a scope (airlock.scope(audit_tag=...)) "
            "(Scope()); it may be set per intent (_dispatch_options)."
        )
        with pytest.raises(airlock.UsageError, match=r"'scope_only' .* cannot be set in configure\(\) .* on a scope"):
            airlock.configure(scope_only=True)
        with airlock.scope(), pytest.raises(airlock.UsageError) as per_intent:
            airlock.enqueue(step, "a", _dispatch_options={"scope_only": True})
        assert str(per_intent.value) == (  # names only where it may be set: not configure(), which refuses it too
            "airlock option 'scope_only' (priority-plugin) cannot be set per intent (_dispatch_options); "
            "it may be set on a scope (airlock.scope(scope_only=...))."
        )

    @pytest.mark.parametrize("where", [frozenset({"scopes"}), "scope", frozenset(), ["scope"]])
    def test_where_must_be_a_set_of_the_known_levels(self, where: object) -> None:
        with pytest.raises(ValueError, match=r"where must be a non-empty set of 'global', 'intent', 'scope'"):
            Option("sample_rate", 1.0, "How many.", where=where)  # type: ignore[arg-type]

    def test_undeclared_name_in_scope_option(self) -> None:
        with airlock.scope() as s, pytest.raises(airlock.UnknownOptionError):
            s.option("nope")

    def test_consumed_option_is_stripped_before_the_executor_sees_it(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(executor=recording_executor):
            airlock.enqueue(step, "a", _dispatch_options={"priority": 1, "queue": "mail", "audit_tag": "t"})
            airlock.enqueue(step, "b", _dispatch_options={"priority": 1})
            airlock.enqueue(step, "c", _dispatch_options={"queue": "mail"})
        assert [i.dispatch_options for i in recording_executor.intents] == [
            {"queue": "mail", "audit_tag": "t"},
            None,
            {"queue": "mail"},
        ]

    def test_hooks_see_the_option_the_executor_does_not(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        seen: list[object] = []

        class Observe:
            @airlock.hookimpl(wrapper=True)
            def airlock_execute(self, intent: Intent, scope: airlock.Scope):  # type: ignore[no-untyped-def]
                seen.append(scope.option("priority", intent))
                return (yield)

        airlock_plugin(Observe())
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(step, "a", _dispatch_options={"priority": 1})
        assert seen == [1]
        assert s.intents[0].dispatch_options == {"priority": 1}
        assert recording_executor.intents[0].dispatch_options is None

    def test_options_are_listed_with_their_plugin(self) -> None:
        infos = {info.name: info for info in airlock.plugins.plugin_infos()}
        assert {o.name for o in infos["priority-plugin"].options} == {"priority", "audit_tag", "scope_only"}
        assert all(o.plugin == "priority-plugin" for o in infos["priority-plugin"].options)

    def test_undeclared_backend_options_pass_through_untouched(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        with airlock.scope(executor=recording_executor):
            airlock.enqueue(step, "a", _dispatch_options={"countdown": 10})
        assert recording_executor.intents[0].dispatch_options == {"countdown": 10}


def test_options_vanish_with_their_plugin() -> None:
    with airlock.plugins.registered(Priority()), airlock.scope(priority=1):
        pass
    with pytest.raises(airlock.UnknownOptionError, match="priority"):
        airlock.scope(priority=1)


def test_option_declared_twice_names_both_plugins() -> None:
    class Again:
        @airlock.hookimpl
        def airlock_options(self) -> Sequence[Option]:
            return [Option("priority", 1, "Clash.")]

    with airlock.plugins.registered(Priority(), "first"):
        with pytest.raises(airlock.UsageError) as info:  # refused where it is registered, not at every later scope
            airlock.plugins.register(Again(), "second")
        assert "first" in str(info.value) and "second" in str(info.value)
        with airlock.scope():  # the first one still works
            pass


def test_options_hook_must_return_option_objects() -> None:
    class Sloppy:
        @airlock.hookimpl
        def airlock_options(self) -> Sequence[object]:
            return [{"name": "priority"}]

    with pytest.raises(airlock.PluginLoadError, match="sloppy"):
        airlock.plugins.register(Sloppy(), "sloppy")
    with airlock.scope():  # refused, so not registered
        pass


@pytest.mark.parametrize(
    ("returned", "shown"),
    [("priority", "got str 'priority'"), (Option("priority", 0, "How urgent."), "got Option Option(")],
)
def test_options_hook_returning_one_thing_instead_of_a_list_is_named_whole(returned: object, shown: str) -> None:
    """Not read item by item: a str was reported by its first letter ("got 'p'")."""

    class OneThing:
        @airlock.hookimpl
        def airlock_options(self) -> object:
            return returned

    with pytest.raises(airlock.PluginLoadError, match=r"must return a list of airlock\.Option objects") as info:
        airlock.plugins.register(OneThing(), "one-thing")
    assert shown in str(info.value)


def test_options_hook_may_yield_its_options() -> None:
    class Yielding:
        @airlock.hookimpl
        def airlock_options(self) -> Iterator[Option]:
            yield Option("yielded_level", 0, "A level.")

    with airlock.plugins.registered(Yielding(), "yielding"), airlock.scope(yielded_level=2) as s:
        assert s.option("yielded_level") == 2


class TestExecutorOption:
    def test_routes_one_intent_to_another_executor(self, executor_named, recording_executor) -> None:  # type: ignore[no-untyped-def]
        routed: list[Intent] = []
        executor_named("side", routed.append)
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b", _dispatch_options={"executor": "side", "queue": "q"})
            airlock.enqueue(step, "c")
        assert [i.args[0] for i in recording_executor.intents] == ["a", "c"]
        assert [(i.args[0], i.dispatch_options) for i in routed] == [("b", {"queue": "q"})]
        assert [i.args[0] for i in s.report.dispatched] == ["a", "b", "c"]

    def test_accepts_a_callable(self, recording_executor) -> None:  # type: ignore[no-untyped-def]
        routed: list[Intent] = []
        with airlock.scope(executor=recording_executor):
            airlock.enqueue(step, "b", _dispatch_options={"executor": routed.append})
        assert [i.args[0] for i in routed] == ["b"]
        assert recording_executor.intents == []

    def test_unknown_name_fails_at_enqueue(self) -> None:
        with airlock.scope() as s:
            with pytest.raises(airlock.UnknownExecutorError, match="nowhere"):
                airlock.enqueue(step, "a", _dispatch_options={"executor": "nowhere"})
            assert s.intents == []

    def test_wrong_type_fails_at_enqueue(self) -> None:
        with airlock.scope(), pytest.raises(airlock.UsageError, match="executor"):
            airlock.enqueue(step, "a", _dispatch_options={"executor": 42})
