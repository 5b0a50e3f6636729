"""The plugin manager and each hook, with inline plugins that are always unregistered."""

from __future__ import annotations

import types
from collections.abc import Generator
from typing import Any

import pytest

import airlock
from airlock import FlushReport, Intent, Scope
from airlock.intent import Buffered


def step(label: str) -> None:
    if label.startswith("bad"):
        raise ValueError(label)


def labels(intents: list[Intent]) -> list[str]:
    return [i.args[0] for i in intents]


class TestRegistration:
    def test_registered_unregisters_on_exit_even_after_an_error(self) -> None:
        class Plugin:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                pass

        plugin = Plugin()
        pm = airlock.plugins.get_plugin_manager()
        with pytest.raises(KeyError), airlock.plugins.registered(plugin, name="inline-test") as name:
            assert name == "inline-test"
            assert pm.get_plugin("inline-test") is plugin
            raise KeyError
        assert pm.get_plugin("inline-test") is None

    def test_takes_effect_for_scopes_opened_afterwards_and_stops_after(self) -> None:
        seen: list[str] = []

        class Plugin:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                seen.append(intent.args[0])

        with airlock.plugins.registered(Plugin()), airlock.scope(executor=lambda i: None):
            airlock.enqueue(step, "with plugin")
        with airlock.scope(executor=lambda i: None):
            airlock.enqueue(step, "without")
        assert seen == ["with plugin"]

    def test_module_as_plugin(self) -> None:
        seen: list[str] = []
        module = types.ModuleType("inline_plugin_module")

        @airlock.hookimpl
        def airlock_enqueue(intent: Intent) -> None:
            seen.append(intent.args[0])

        module.airlock_enqueue = airlock_enqueue  # type: ignore[attr-defined]
        with airlock.plugins.registered(module), airlock.scope(executor=lambda i: None):
            airlock.enqueue(step, "a")
        assert seen == ["a"]

    def test_register_and_unregister_by_name(self) -> None:
        class Plugin:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

        name = airlock.plugins.register(Plugin(), name="by-name")
        try:
            assert name == "by-name"
            assert "by-name" in {info.name for info in airlock.plugins.plugin_infos()}
        finally:
            airlock.plugins.unregister(name="by-name")
        assert "by-name" not in {info.name for info in airlock.plugins.plugin_infos()}

    def test_unregister_by_object(self) -> None:
        class Plugin:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

        plugin = Plugin()
        airlock.plugins.register(plugin)
        airlock.plugins.unregister(plugin)
        assert not airlock.plugins.get_plugin_manager().is_registered(plugin)

    def test_registering_twice_is_an_error(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Plugin:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

        plugin = Plugin()
        airlock_plugin(plugin, "once")
        with pytest.raises(airlock.PluginLoadError, match="once"):
            airlock.plugins.register(plugin, "once")

    def test_unknown_hook_name(self) -> None:
        class Typo:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

            @airlock.hookimpl
            def airlock_afterflush(self) -> None:
                pass

        plugin = Typo()
        with pytest.raises(airlock.PluginLoadError) as info:
            airlock.plugins.register(plugin, name="typo-plugin")
        message = str(info.value)
        assert "typo-plugin" in message
        assert "airlock_afterflush" in message
        assert "airlock_after_flush" in message  # the known hooks are listed
        assert not airlock.plugins.get_plugin_manager().is_registered(plugin)

    def test_wrong_argument_names(self) -> None:
        class WrongArgs:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent, buffer: list[Intent]) -> None:
                pass

        plugin = WrongArgs()
        with pytest.raises(airlock.PluginLoadError) as info:
            airlock.plugins.register(plugin, name="wrong-args")
        assert str(info.value) == (  # one line (it is a row of `airlock plugins`), with the arguments to use
            "airlock plugin 'wrong-args' implements airlock_enqueue(intent, buffer), but airlock_enqueue passes "
            "no 'buffer': it passes intent, scope; take any of them, by name."
        )
        assert not airlock.plugins.get_plugin_manager().is_registered(plugin)

    def test_a_plugin_registered_without_a_name_is_named_after_its_class_or_module(self) -> None:
        class Audit:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                pass

        class Broken:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent, scop: Any) -> None:
                pass

        with airlock.plugins.registered(Audit()) as first, airlock.plugins.registered(Audit()) as second:
            assert (first, second) == ("Audit", "Audit#2")
        with airlock.plugins.registered(types.ModuleType("audit_hooks")) as module_name:
            assert module_name == "audit_hooks"
        with pytest.raises(airlock.PluginLoadError, match=r"^airlock plugin 'Broken' implements airlock_enqueue"):
            airlock.plugins.register(Broken())

    def test_registering_the_same_object_twice_names_it_as_registered(self) -> None:
        class Audit:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                pass

        audit = Audit()
        with airlock.plugins.registered(audit):
            with pytest.raises(airlock.PluginLoadError, match=r"^airlock plugin 'Audit' is already registered"):
                airlock.plugins.register(audit)

    def test_wrapper_on_a_plain_only_hook_is_refused_where_it_is_registered(self) -> None:
        class Wrapping:
            @airlock.hookimpl(wrapper=True)
            def airlock_enqueue(self, intent: Intent) -> Generator[None, None, None]:
                yield

        with pytest.raises(airlock.PluginLoadError, match="wrapping"):
            airlock.plugins.register(Wrapping(), name="wrapping")
        assert "wrapping" not in {info.name for info in airlock.plugins.plugin_infos()}
        with airlock.scope():  # every later scope still works
            pass

    def test_an_old_style_hookwrapper_on_execute_is_told_to_use_wrapper_true(self) -> None:
        class OldStyle:
            @airlock.hookimpl(hookwrapper=True)
            def airlock_execute(self, intent: Intent) -> Generator[None, None, None]:
                yield

        with pytest.raises(airlock.PluginLoadError, match=r"use @airlock.hookimpl\(wrapper=True\), not the old"):
            airlock.plugins.register(OldStyle(), name="old-style")

    def test_a_hook_marked_under_another_name_or_defined_unmarked_is_refused(self) -> None:
        class NoPrefix:
            @airlock.hookimpl
            def before_flush(self, intents: list[Intent]) -> None:
                """Marked, but no hook has this name."""

        class Unmarked:
            def airlock_after_flush(self, report: object) -> None:
                """Named like a hook, but never called without the marker."""

        class Helper:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                pass

            def airlock_summary(self) -> str:
                """An ordinary method whose name starts like a hook's."""
                return "fine"

        with pytest.raises(
            airlock.PluginLoadError, match=r"marks unknown hook\(s\) before_flush with @airlock.hookimpl"
        ):
            airlock.plugins.register(NoPrefix(), name="no-prefix")
        with pytest.raises(airlock.PluginLoadError, match=r"defines airlock_after_flush without @airlock.hookimpl"):
            airlock.plugins.register(Unmarked(), name="unmarked")
        with airlock.plugins.registered(Helper(), name="helper"):
            pass

    def test_plugin_infos_lists_hooks(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Plugin:
            @airlock.hookimpl
            def airlock_enqueue(self) -> None:
                pass

            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

        airlock_plugin(Plugin(), "listed")
        infos = {info.name: info for info in airlock.plugins.plugin_infos()}
        assert infos["listed"].hooks == ["airlock_after_flush", "airlock_enqueue"]
        assert infos["listed"].error == ""
        core = infos[airlock.plugins.CORE_PLUGIN]
        assert core.distribution == "airlock-core"
        assert {"airlock_execute", "airlock_options"} <= set(core.hooks)
        assert {o.name for o in core.options} >= {"fail_fast", "executor"}


class TestEnqueueHook:
    def test_called_once_per_enqueue_after_the_policy(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        order: list[str] = []

        class Policy(airlock.AllowAll):
            def on_enqueue(self, intent: Intent) -> None:
                order.append(f"policy:{intent.args[0]}")

        class Plugin:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent, scope: Scope) -> None:
                order.append(f"hook:{intent.args[0]}")
                assert scope is airlock.get_current_scope()
                assert intent not in scope.intents  # not buffered yet

        airlock_plugin(Plugin())
        with airlock.scope(Policy(), executor=lambda i: None):
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
        assert order == ["policy:a", "hook:a", "policy:b", "hook:b"]

    def test_not_called_when_the_policy_rejects(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        seen: list[Intent] = []

        class Plugin:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                seen.append(intent)

        airlock_plugin(Plugin())
        with airlock.scope(airlock.AssertNoEffects()), pytest.raises(airlock.PolicyViolation):
            airlock.enqueue(step, "a")
        assert seen == []

    def test_raising_rejects_the_intent(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Quota:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                if intent.args[0] == "too-many":
                    raise OverflowError("quota exceeded")

        airlock_plugin(Quota())
        with airlock.scope(executor=lambda i: None) as s:
            airlock.enqueue(step, "a")
            with pytest.raises(OverflowError, match="quota"):
                airlock.enqueue(step, "too-many")
            airlock.enqueue(step, "b")
        assert labels(s.intents) == ["a", "b"]

    def test_enqueue_from_the_hook_is_refused(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Echo:
            @airlock.hookimpl
            def airlock_enqueue(self, intent: Intent) -> None:
                airlock.enqueue(step, "echo")

        airlock_plugin(Echo())
        with airlock.scope(executor=lambda i: None) as s, pytest.raises(airlock.PolicyEnqueueError):
            airlock.enqueue(step, "a")
        assert s.intents == []


class TestBeforeFlushHook:
    def test_receives_what_policies_let_through_and_may_reorder(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        received: list[list[str]] = []

        class Reverse:
            @airlock.hookimpl
            def airlock_before_flush(self, scope: Scope, intents: list[Intent]) -> list[Intent]:
                received.append(labels(intents))
                assert scope.report is not None and not scope.report.complete
                return list(reversed(intents))

        airlock_plugin(Reverse())
        with airlock.scope(airlock.BlockTasks({"blocked"}), executor=recording_executor):
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "x", _name="blocked")
            airlock.enqueue(step, "b")
        assert received == [["a", "b"]]
        assert labels(recording_executor.intents) == ["b", "a"]

    def test_chained_in_hook_order(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        received: list[tuple[str, list[str]]] = []

        class DropFirst:
            @airlock.hookimpl(tryfirst=True)
            def airlock_before_flush(self, intents: list[Intent]) -> list[Intent]:
                received.append(("first", labels(intents)))
                return intents[1:]

        class Duplicate:
            @airlock.hookimpl
            def airlock_before_flush(self, intents: list[Intent]) -> list[Intent]:
                received.append(("second", labels(intents)))
                return intents + intents

        airlock_plugin(Duplicate(), "duplicate")
        airlock_plugin(DropFirst(), "drop-first")
        with airlock.scope(executor=recording_executor):
            for label in "abc":
                airlock.enqueue(step, label)
        assert received == [("first", ["a", "b", "c"]), ("second", ["b", "c"])]
        assert labels(recording_executor.intents) == ["b", "c", "b", "c"]

    def test_left_out_intents_are_reported_as_removed_by_the_plugin(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Dedupe:
            @airlock.hookimpl
            def airlock_before_flush(self, scope: Scope, intents: list[Intent]) -> list[Intent]:
                kept: dict[str, Intent] = {}
                result = []
                for intent in intents:
                    if intent.args[0] in kept:
                        scope.report.record_merged(intent, kept[intent.args[0]])  # type: ignore[union-attr]
                    elif intent.args[0] == "skip":
                        continue
                    else:
                        kept[intent.args[0]] = intent
                        result.append(intent)
                return result

        airlock_plugin(Dedupe(), "dedupe")
        with airlock.scope(executor=lambda i: None) as s:
            for label in ("a", "a", "skip", "b"):
                airlock.enqueue(step, label)
        report = s.report
        assert labels(report.dispatched) == ["a", "b"]
        assert [(i.args[0], plugin) for i, plugin in report.removed] == [("skip", "dedupe")]
        assert [(i.args[0], into.args[0]) for i, into in report.merged] == [("a", "a")]
        assert report.merged[0][1] is report.dispatched[0]

    def test_none_keeps_the_list(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        class Observe:
            @airlock.hookimpl
            def airlock_before_flush(self, intents: list[Intent]) -> None:
                return None

        airlock_plugin(Observe())
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(step, "a")
        assert labels(recording_executor.intents) == ["a"]
        assert s.report.removed == []

    def test_non_list_is_a_type_error_naming_the_plugin(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_before_flush(self, intents: list[Intent]) -> tuple[Intent, ...]:
                return tuple(intents)

        airlock_plugin(Broken(), "broken-before-flush")
        with pytest.raises(TypeError, match="broken-before-flush"), airlock.scope():
            airlock.enqueue(step, "a")

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param(lambda intents: intents.pop(), id="pop-then-none"),
            pytest.param(lambda intents: intents.reverse(), id="reverse-then-none"),
            pytest.param(lambda intents: intents.__setitem__(0, intents[1]), id="replace-then-none"),
            pytest.param(lambda intents: intents.pop() and intents, id="pop-then-return-the-same-list"),
        ],
    )
    def test_changing_the_given_list_in_place_is_a_type_error_and_nothing_escapes(self, airlock_plugin, change) -> None:  # type: ignore[no-untyped-def]
        class InPlace:
            @airlock.hookimpl
            def airlock_before_flush(self, intents: list[Intent]) -> Any:
                return change(intents)

        ran: list[str] = []
        airlock_plugin(InPlace(), "in-place")
        with pytest.raises(TypeError, match=r"'in-place'.*in place; return a new list"):
            with airlock.scope(executor=lambda intent: ran.append(intent.args[0])) as s:
                airlock.enqueue(step, "a")
                airlock.enqueue(step, "b")
        assert ran == []
        assert s.report.summary() == "flushed: 2 not_attempted"

    def test_a_buffered_hook_changing_the_items_length_is_a_type_error(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Shrinks:
            @airlock.hookimpl
            def airlock_before_flush(self, buffered: Buffered) -> None:
                buffered.items.pop()

        airlock_plugin(Shrinks(), "shrinks")
        with pytest.raises(TypeError, match=r"'shrinks'.*in place"), airlock.scope(executor=lambda intent: None) as s:
            airlock.enqueue(step, "a")
        assert labels(s.report.not_attempted) == ["a"]

    def test_not_called_for_an_empty_flush(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        called: list[bool] = []

        class Plugin:
            @airlock.hookimpl
            def airlock_before_flush(self) -> None:
                called.append(True)

        airlock_plugin(Plugin())
        with airlock.scope():
            pass
        with airlock.scope(airlock.DropAll()):
            airlock.enqueue(step, "dropped")
        assert called == []


class TestBufferedBeforeFlush:
    """Implementations that ask for ``buffered`` instead of ``intents``.

    Some tests call ``run_before_flush`` with what ``enqueue()`` buffers
    (plain tuples), as a flush hands it over when nothing else looked first.
    """

    @staticmethod
    def buffer(*names: str) -> list[Any]:
        return [(step, (name,), {}, None, None) for name in names]

    def test_builds_only_the_intents_it_keeps_and_merges_are_paired_when_read(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        from airlock.dispatch import run_before_flush

        class KeepEven:
            @airlock.hookimpl
            def airlock_before_flush(self, buffered: Buffered) -> list[Intent]:
                kept = range(0, len(buffered), 2)
                report.record_merged_at(buffered, kept, [p - p % 2 for p in range(len(buffered))])
                return buffered.at(kept)

        airlock_plugin(KeepEven(), "keep-even")
        scope = airlock.scope(executor=lambda intent: None)
        report = FlushReport(scope, "flushed")
        items = self.buffer("a", "b", "c", "d")
        result = run_before_flush(scope, items, report)
        assert labels(result) == ["a", "c"] and result[0] is items[0] and result[1] is items[2]
        assert [type(i) for i in items] == [Intent, tuple, Intent, tuple]  # the merged ones were not built
        assert report.removed == []
        assert [(i.args[0], into.args[0]) for i, into in report.merged] == [("b", "a"), ("d", "c")]
        assert report.merged[0][0] is items[1] and report.merged[0][1] is result[0]

    def test_left_out_and_unrecorded_is_removed_by_the_plugin(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        from airlock.dispatch import run_before_flush

        class KeepFirst:
            @airlock.hookimpl
            def airlock_before_flush(self, buffered: Buffered) -> list[Intent]:
                return buffered.at([0])

        airlock_plugin(KeepFirst(), "keep-first")
        with airlock.scope(executor=recording_executor) as s:
            for label in "abc":
                airlock.enqueue(step, label)
        assert labels(recording_executor.intents) == ["a"]
        assert [(i.args[0], plugin) for i, plugin in s.report.removed] == [("b", "keep-first"), ("c", "keep-first")]
        assert s.report.removed[0][0] is s.intents[1]
        items = self.buffer("a", "b")
        report = FlushReport(s, "flushed")
        run_before_flush(s, items, report)
        assert [(i, plugin) for i, plugin in report.removed] == [(items[1], "keep-first")]

    def test_intents_taken_elsewhere_or_by_iterating_are_accounted_for(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        from airlock.dispatch import run_before_flush

        mode = ["iterate"]

        class KeepNamed:
            @airlock.hookimpl
            def airlock_before_flush(self, buffered: Buffered) -> list[Intent]:
                if mode[0] == "iterate":
                    return [i for i in buffered if i.args[0] == "b"]
                return [i for i in buffered.items if type(i) is Intent]  # read without taking

        airlock_plugin(KeepNamed(), "keep-named")
        scope = airlock.scope(executor=lambda intent: None)
        for mode[0] in ("iterate", "read"):
            named = Intent(step, ("b",), _explicit_name="b")
            items = [*self.buffer("a"), named, *self.buffer("c")]
            report = FlushReport(scope, "flushed")
            assert run_before_flush(scope, items, report) == [named]
            assert [(i.args[0], plugin) for i, plugin in report.removed] == [("a", "keep-named"), ("c", "keep-named")]
            assert report.removed[0][0] is items[0]

    def test_returning_buffered_items_that_are_not_intents_is_a_type_error(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        from airlock.dispatch import run_before_flush

        class Raw:
            @airlock.hookimpl
            def airlock_before_flush(self, buffered: Buffered) -> list[Any]:
                return buffered.items[:1]

        airlock_plugin(Raw(), "raw-items")
        scope = airlock.scope(executor=lambda intent: None)
        with pytest.raises(TypeError, match=r"raw-items.*not Intents"):
            run_before_flush(scope, self.buffer("a", "b"), FlushReport(scope, "flushed"))

    def test_a_hook_asking_for_intents_gets_intents_and_chains_after_a_buffered_one(
        self, airlock_plugin, recording_executor
    ) -> None:  # type: ignore[no-untyped-def]
        from airlock.dispatch import run_before_flush

        received: list[list[type]] = []

        class DropSecond:
            @airlock.hookimpl(tryfirst=True)
            def airlock_before_flush(self, buffered: Buffered) -> list[Intent]:
                return buffered.at([p for p in range(len(buffered)) if p != 1])

        class Reverse:
            @airlock.hookimpl
            def airlock_before_flush(self, intents: list[Intent]) -> list[Intent]:
                received.append([type(i) for i in intents])
                return intents[::-1]

        airlock_plugin(Reverse(), "reverse")
        airlock_plugin(DropSecond(), "drop-second")
        with airlock.scope(executor=recording_executor) as s:
            for label in "abc":
                airlock.enqueue(step, label)
        assert labels(recording_executor.intents) == ["c", "a"]
        assert [i.args[0] for i, _ in s.report.removed] == ["b"]
        result = run_before_flush(s, self.buffer("x", "y", "z"), FlushReport(s, "flushed"))
        assert labels(result) == ["z", "x"]
        assert received == [[Intent, Intent], [Intent, Intent]]


class TestExecuteHook:
    def test_wrapper_sees_each_intent_and_the_core_result(self, airlock_plugin, calls) -> None:  # type: ignore[no-untyped-def]
        events: list[Any] = []

        class Trace:
            @airlock.hookimpl(wrapper=True)
            def airlock_execute(self, intent: Intent, scope: Scope) -> Generator[None, Any, Any]:
                events.append(("before", intent.args[0], scope.is_flushed))
                result = yield
                events.append(("after", intent.args[0], result))
                return result

        airlock_plugin(Trace())
        with airlock.scope():
            airlock.enqueue(calls, "a")
            airlock.enqueue(calls, "b")
        assert events == [("before", "a", True), ("after", "a", True), ("before", "b", True), ("after", "b", True)]
        assert calls.args == [("a",), ("b",)]

    def test_wrapper_sees_the_executor_error_and_may_retry(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        attempts: list[str] = []

        def flaky(label: str) -> None:
            attempts.append(label)
            if attempts.count(label) < 3:
                raise ConnectionError(f"attempt {attempts.count(label)}")

        class Retry:
            @airlock.hookimpl(wrapper=True)
            def airlock_execute(
                self, intent: Intent, executor: airlock.Executor, scope: Scope
            ) -> Generator[None, Any, Any]:
                try:
                    return (yield)
                except ConnectionError as first:
                    scope.report.record_attempt(intent, first)  # type: ignore[union-attr]
                    while True:
                        try:
                            executor(intent)
                            return True
                        except ConnectionError as again:
                            scope.report.record_attempt(intent, again)  # type: ignore[union-attr]

        airlock_plugin(Retry())
        with airlock.scope() as s:
            airlock.enqueue(flaky, "a")
        assert attempts == ["a", "a", "a"]
        (intent,) = s.report.dispatched
        assert [str(e) for e in s.report.attempts(intent)] == ["attempt 1", "attempt 2"]

    def test_wrapper_that_reraises_fails_the_intent(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        seen: list[BaseException] = []

        class Observe:
            @airlock.hookimpl(wrapper=True)
            def airlock_execute(self) -> Generator[None, Any, Any]:
                try:
                    return (yield)
                except ValueError as exc:
                    seen.append(exc)
                    raise

        airlock_plugin(Observe())
        with pytest.raises(ValueError) as info, airlock.scope() as s:
            airlock.enqueue(step, "bad")
        assert seen == [info.value]
        assert [exc for _, exc in s.report.failed] == [info.value]

    def test_returning_non_none_claims_the_intent(self, airlock_plugin, recording_executor) -> None:  # type: ignore[no-untyped-def]
        claimed: list[str] = []

        class Router:
            @airlock.hookimpl
            def airlock_execute(self, intent: Intent) -> bool | None:
                if intent.args[0].startswith("mine"):
                    claimed.append(intent.args[0])
                    return True
                return None

        airlock_plugin(Router())
        with airlock.scope(executor=recording_executor) as s:
            airlock.enqueue(step, "mine-1")
            airlock.enqueue(step, "other")
            airlock.enqueue(step, "mine-2")
        assert claimed == ["mine-1", "mine-2"]
        assert labels(recording_executor.intents) == ["other"]
        assert labels(s.report.dispatched) == ["mine-1", "other", "mine-2"]

    def test_exception_from_an_implementation_fails_the_intent(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_execute(self, intent: Intent) -> None:
                raise RuntimeError(f"cannot route {intent.args[0]}")

        airlock_plugin(Broken())
        with pytest.raises(RuntimeError, match="cannot route a"), airlock.scope() as s:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
        assert labels([i for i, _ in s.report.failed]) == ["a"]
        assert labels(s.report.not_attempted) == ["b"]


class TestAfterFlushHook:
    def test_once_per_finished_scope(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        seen: list[tuple[Scope, str, bool]] = []

        class Plugin:
            @airlock.hookimpl
            def airlock_after_flush(self, scope: Scope, report: FlushReport) -> None:
                seen.append((scope, report.outcome, report.complete))

        airlock_plugin(Plugin())
        with airlock.scope(executor=lambda i: None) as flushed:
            airlock.enqueue(step, "a")
            airlock.enqueue(step, "b")
        with pytest.raises(KeyError), airlock.scope() as discarded:
            airlock.enqueue(step, "c")
            raise KeyError
        assert seen == [(flushed, "flushed", True), (discarded, "discarded", True)]

    def test_only_the_report(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        reports: list[FlushReport] = []

        class Plugin:
            @airlock.hookimpl
            def airlock_after_flush(self, report: FlushReport) -> None:
                reports.append(report)

        airlock_plugin(Plugin())
        with airlock.scope(executor=lambda i: None) as s:
            airlock.enqueue(step, "a")
        assert reports == [s.report]

    def test_its_exception_reaches_the_caller(self, airlock_plugin) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                raise RuntimeError("observer broke")

        airlock_plugin(Broken())
        with pytest.raises(RuntimeError, match="observer broke"), airlock.scope(executor=lambda i: None):
            airlock.enqueue(step, "a")

    def test_dispatch_error_wins_over_an_after_flush_error(self, airlock_plugin, caplog) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                raise RuntimeError("observer broke")

        airlock_plugin(Broken())
        with pytest.raises(ValueError, match="bad"), airlock.scope():
            airlock.enqueue(step, "bad")
        assert any("airlock_after_flush" in r.getMessage() for r in caplog.records)

    @pytest.mark.parametrize("scope_class", [Scope, type("Sub", (Scope,), {})], ids=["Scope", "subclass"])
    def test_the_blocks_error_wins_over_an_after_flush_error(self, airlock_plugin, caplog, scope_class) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                raise RuntimeError("observer broke")

        airlock_plugin(Broken())
        with pytest.raises(KeyError), scope_class() as scope:
            airlock.enqueue(step, "a")
            raise KeyError("the block's own error")
        assert scope.is_discarded and scope.report.complete
        assert any("airlock_after_flush hook failed" in r.getMessage() for r in caplog.records)

    def test_flush_failed_wins_over_an_after_flush_error(self, airlock_plugin, caplog) -> None:  # type: ignore[no-untyped-def]
        class Broken:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                raise RuntimeError("observer broke")

        airlock_plugin(Broken())
        with pytest.raises(airlock.FlushFailed), airlock.scope(fail_fast=False):
            airlock.enqueue(step, "bad")
            airlock.enqueue(step, "good")
        assert any("airlock_after_flush hook failed" in r.getMessage() for r in caplog.records)

    def test_every_after_flush_hook_runs_while_a_dispatch_error_propagates(self, airlock_plugin, caplog) -> None:  # type: ignore[no-untyped-def]
        seen: list[str] = []

        class Broken:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                raise RuntimeError("observer broke")

        class Metrics:
            @airlock.hookimpl
            def airlock_after_flush(self, report: FlushReport) -> None:
                seen.append(report.summary())

        airlock_plugin(Broken())
        airlock_plugin(Metrics())
        with pytest.raises(ValueError, match="bad"), airlock.scope():  # fail_fast: the task's error propagates
            airlock.enqueue(step, "bad")
        assert seen == ["flushed: 1 failed"]
