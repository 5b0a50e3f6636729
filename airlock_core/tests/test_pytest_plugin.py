"""airlock's pytest plugin and ``airlock.testing``'s capture helpers, as users see them.

Each test writes a small test file and runs pytest on it with pytester (in
process), then checks the outcome and the report users would read, failure
messages included.
"""

from __future__ import annotations

import pytest

import airlock
from airlock.testing import Match, capture, current_capture, no_effects

pytest_plugins = ["pytester"]

#: Tasks and helpers every generated test file starts with.
PRELUDE = """
import pytest
import airlock
from airlock.testing import Match

calls = []

def send_email(user_id, template="welcome"):
    calls.append(("send_email", user_id, template))

def charge_card(order_id, *, amount):
    calls.append(("charge_card", order_id, amount))

def audit(event, **details):
    calls.append(("audit", event, details))
"""


@pytest.fixture
def run_tests(pytester: pytest.Pytester):  # type: ignore[no-untyped-def]
    """``run_tests(body)`` writes PRELUDE + body as a test file and runs pytest on it."""

    def run(body: str, *args: str) -> pytest.RunResult:
        pytester.makepyfile(test_generated=PRELUDE + body)
        return pytester.runpytest("-p", "no:cacheprovider", *args)

    return run


class TestCaptureFixture:
    def test_holds_intents_and_dispatches_nothing(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_capture(airlock_capture):
    airlock.enqueue(send_email, 1)
    airlock.enqueue(audit, "signup", user=1)
    assert airlock_capture.names == ["send_email", "audit"]
    assert len(airlock_capture) == 2
    assert airlock_capture[1].kwargs == {"user": 1}
    assert calls == []

def test_nothing_ran_after_the_test():
    assert calls == []
""")
        result.assert_outcomes(passed=2)

    def test_captures_what_nested_scopes_flush_not_what_they_discard(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
class OnCommitScope(airlock.Scope):
    '''Defers dispatch, like DjangoScope does until the transaction commits.'''
    def _dispatch_all(self, intents):
        assert intents == [], "the capturing scope should have taken every intent"

def test_nested(airlock_capture):
    with airlock.scope():
        airlock.enqueue(send_email, 1)
    with airlock.scope(_cls=OnCommitScope):
        with airlock.scope():
            airlock.enqueue(send_email, 2)
    with pytest.raises(RuntimeError):
        with airlock.scope():
            airlock.enqueue(send_email, 3)
            raise RuntimeError("request failed")
    assert [i.args for i in airlock_capture.intents] == [(1,), (2,)]
    assert calls == []
""")
        result.assert_outcomes(passed=1)

    def test_the_capture_ends_with_the_test(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_a(airlock_capture):
    airlock.enqueue(send_email, 1)

def test_b():
    assert airlock.get_current_scope() is None
""")
        result.assert_outcomes(passed=2)


class TestAssertions:
    def test_arguments_match_by_parameter_name_with_defaults(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
from unittest.mock import ANY

def test_match(airlock_capture):
    airlock.enqueue(send_email, 1)
    airlock.enqueue(charge_card, 7, amount=30)
    airlock.enqueue(audit, "signup", user=1, source="web")
    intent = airlock_capture.assert_enqueued(send_email, user_id=1)
    assert intent.args == (1,)
    airlock_capture.assert_enqueued(send_email, 1, template="welcome")
    airlock_capture.assert_enqueued("send_email", user_id=ANY)
    airlock_capture.assert_enqueued(charge_card, order_id=7, amount=30, times=1)
    airlock_capture.assert_enqueued(audit, "signup", user=1)
    airlock_capture.assert_enqueued(Match(audit, source="web"))
    airlock_capture.assert_not_enqueued(send_email, user_id=2)
    airlock_capture.assert_not_enqueued(audit, user=2)
    airlock_capture.assert_enqueued_in_order(send_email, Match(charge_card, 7), "audit")
    assert airlock_capture.count(send_email) == 1
    assert airlock_capture.matching(audit, "signup") == [airlock_capture[2]]
""")
        result.assert_outcomes(passed=1)

    def test_missing_intent_lists_what_was_enqueued_and_why_each_differs(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_missing(airlock_capture):
    airlock.enqueue(send_email, 2)
    airlock.enqueue(audit, "signup")
    airlock.enqueue(send_email, 1, template="reset")
    airlock_capture.assert_enqueued(send_email, user_id=1, template="welcome")
""")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E*AssertionError: expected send_email(user_id=1, template='welcome') to be enqueued, but it was not.",
                "E*Enqueued (3):",
                "E*1. send_email(2)  <- user_id=2, expected 1",
                "E*2. audit('signup')",
                "E*3. send_email(1, template='reset')  <- template='reset', expected 'welcome'",
            ]
        )
        # The failure points at the test's line, not into airlock's helpers.
        result.stdout.no_fnmatch_line("*airlock/testing.py*")

    def test_nothing_enqueued_says_so(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
from airlock.testing import assert_enqueued

def test_missing(airlock_capture):
    assert_enqueued(send_email)
""")
        result.stdout.fnmatch_lines(
            [
                "E*AssertionError: expected send_email to be enqueued, but it was not.",
                "E*Nothing was enqueued.",
            ]
        )

    def test_wrong_count(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_count(airlock_capture):
    airlock.enqueue(send_email, 1)
    airlock.enqueue(send_email, 1)
    airlock_capture.assert_enqueued(send_email, 1, times=1)
""")
        result.stdout.fnmatch_lines(
            [
                "E*AssertionError: expected send_email(1) to be enqueued once, but it was enqueued 2 times.",
                "E*1. send_email(1)  <- matches",
                "E*2. send_email(1)  <- matches",
            ]
        )

    def test_unexpected_intent(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_unexpected(airlock_capture):
    airlock.enqueue(charge_card, 7, amount=30)
    airlock_capture.assert_not_enqueued(charge_card)

def test_anything(airlock_capture):
    airlock.enqueue(audit, "login")
    airlock_capture.assert_nothing_enqueued()
""")
        result.assert_outcomes(failed=2)
        result.stdout.fnmatch_lines(
            [
                "E*AssertionError: expected charge_card not to be enqueued, but it was enqueued once.",
                "E*1. charge_card(7, amount=30)  <- matches",
                "*",
                "E*AssertionError: expected nothing to be enqueued.",
                "E*1. audit('login')",
            ]
        )

    def test_wrong_order(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
from airlock.testing import assert_enqueued_in_order

def test_order(airlock_capture):
    airlock.enqueue(send_email, 1)
    airlock.enqueue(charge_card, 7, amount=30)
    assert_enqueued_in_order(charge_card, send_email)
""")
        result.stdout.fnmatch_lines(
            [
                "E*AssertionError: expected intents in this order: charge_card, send_email; "
                "but send_email was not enqueued after charge_card.",
                "E*1. send_email(1)  <- matches",
                "E*2. charge_card(7, amount=30)",
            ]
        )


class TestRun:
    def test_runs_pending_in_order_with_the_chosen_executor(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def test_sync(airlock_capture):
    airlock.enqueue(send_email, 1)
    airlock.enqueue(charge_card, 7, amount=30)
    report = airlock_capture.run()
    assert calls == [("send_email", 1, "welcome"), ("charge_card", 7, 30)]
    assert [i.name for i in report.dispatched] == ["send_email", "charge_card"]
    assert airlock_capture.pending == []
    assert len(airlock_capture) == 2
    assert airlock_capture.run().dispatched == []  # nothing runs twice

def test_named_and_callable(airlock_capture, airlock_executor):
    seen = []
    airlock_executor("recorder", lambda intent: seen.append(("named", intent.name)))
    airlock.enqueue(send_email, 1)
    airlock_capture.run("recorder")
    airlock.enqueue(audit, "x")
    airlock_capture.run(lambda intent: seen.append(("callable", intent.name)))
    assert seen == [("named", "send_email"), ("callable", "audit")]
    calls.clear()
""")
        result.assert_outcomes(passed=2)

    def test_cascade_and_local_policies(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def welcome(user_id):
    airlock.enqueue(send_email, user_id)

def test_cascade(airlock_capture):
    airlock.enqueue(welcome, 1)
    with airlock.policy(airlock.DropAll()):
        airlock.enqueue(audit, "dropped")
    first = airlock_capture.run()
    assert [i.name for i in first.dispatched] == ["welcome"]
    assert [i.name for i, _ in first.dropped] == ["audit"]
    assert airlock_capture.names == ["welcome", "audit", "send_email"]
    while airlock_capture.pending:
        airlock_capture.run()
    assert calls == [("send_email", 1, "welcome")]
    calls.clear()
""")
        result.assert_outcomes(passed=1)

    def test_failure_propagates_with_report_and_is_not_retried(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
def broken(n):
    raise ValueError(f"broken {n}")

def test_failure(airlock_capture):
    airlock.enqueue(broken, 1)
    airlock.enqueue(send_email, 1)
    with pytest.raises(ValueError, match="broken 1") as info:
        airlock_capture.run()
    report = info.value.airlock_report
    assert [i.name for i in report.not_attempted] == ["send_email"]
    assert airlock_capture.pending == []
    assert calls == []

def test_fail_fast_option(airlock_capture):
    airlock.enqueue(broken, 1)
    airlock.enqueue(broken, 2)
    with pytest.raises(airlock.FlushFailed) as info:
        airlock_capture.run(fail_fast=False)
    assert len(info.value.exceptions) == 2
""")
        result.assert_outcomes(passed=2)


class TestNoEffectsMarker:
    def test_marker_is_registered(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("", "--markers")
        result.stdout.fnmatch_lines(["@pytest.mark.airlock_no_effects: fail the test if its code enqueues*"])

    def test_direct_and_nested_effects_fail_the_test(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests(
            """
@pytest.mark.airlock_no_effects
def test_direct():
    airlock.enqueue(send_email, 1)

@pytest.mark.airlock_no_effects
def test_nested():
    with airlock.scope():
        airlock.enqueue(charge_card, 7, amount=30)

@pytest.mark.airlock_no_effects
def test_clean():
    with airlock.scope():
        pass

def test_unmarked_tests_are_unaffected():
    with airlock.scope():
        airlock.enqueue(audit, "ok")
    assert calls[-1][0] == "audit"
""",
            "--strict-markers",
        )
        result.assert_outcomes(failed=2, passed=2)
        result.stdout.fnmatch_lines(
            [
                "E*airlock.errors.PolicyViolation: Unexpected side effect: send_email(1). "
                "No side effects are allowed in a test marked airlock_no_effects.",
                "*",
                "E*airlock.errors.PolicyViolation: Unexpected side effect: charge_card(7, amount=30), "
                "flushed by a nested Scope. No side effects are allowed in a test marked airlock_no_effects.",
            ]
        )

    def test_a_swallowed_violation_still_fails(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
pytestmark = pytest.mark.airlock_no_effects

def best_effort_notify():
    try:
        airlock.enqueue(send_email, 1)
    except Exception:
        pass

def test_swallowed():
    best_effort_notify()
""")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "1 side effect(s) attempted in a test marked airlock_no_effects, "
                "and the PolicyViolation was caught by the code under test:",
                "  send_email(1)",
            ]
        )


class TestIsolationFixtures:
    def test_plugin_and_executor_are_removed_even_when_the_test_fails(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
from airlock import executors

class Seen:
    intents = []

    @airlock.hookimpl
    def airlock_enqueue(self, intent):
        self.intents.append(intent.name)

def test_uses_them(airlock_plugin, airlock_executor):
    assert airlock_plugin(Seen(), "seen") == "seen"
    airlock_executor("sync", lambda intent: None)  # shadows the built-in for this test
    with airlock.scope(executor="sync"):
        airlock.enqueue(send_email, 1)
    assert Seen.intents == ["send_email"] and calls == []
    raise RuntimeError("fail on purpose")

def test_they_are_gone():
    names = [name for name, _ in airlock.plugins.get_plugin_manager().list_name_plugin()]
    assert "seen" not in names
    assert "sync" not in executors._registered
    with airlock.scope(executor="sync"):
        airlock.enqueue(send_email, 1)
    assert calls == [("send_email", 1, "welcome")]
    calls.clear()
""")
        result.assert_outcomes(failed=1, passed=1)

    def test_disabling_plugins_keeps_plugins_registered_at_run_time(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
class Audit:
    seen = []

    @airlock.hookimpl
    def airlock_after_flush(self, report):
        Audit.seen.extend(i.name for i in report.dispatched)

@pytest.fixture(scope="module", autouse=True)
def audit():
    name = airlock.plugins.register(Audit(), "audit")
    yield
    airlock.plugins.unregister(name=name)

def flush_one():
    Audit.seen.clear()
    with airlock.scope():
        airlock.enqueue(send_email, 1)
    return Audit.seen

def test_during(airlock_disable_plugins):
    airlock_disable_plugins("retry")
    assert flush_one() == ["send_email"]

def test_after():
    assert flush_one() == ["send_email"]
""")
        result.assert_outcomes(passed=2)

    def test_config_is_restored_to_what_it_was(self, run_tests) -> None:  # type: ignore[no-untyped-def]
        result = run_tests("""
@pytest.fixture(scope="module", autouse=True)
def project_defaults():
    airlock.configure(policy=airlock.LogOnFlush(), fail_fast=False)
    yield
    airlock.reset_configuration()

def test_changes(airlock_config):
    airlock_config(executor="threads", policy=airlock.DropAll())
    airlock.configure(scope_kwargs={"fail_fast": True})
    assert airlock.get_configuration()["executor"] == "threads"

def test_restored():
    config = airlock.get_configuration()
    assert isinstance(config["policy"], airlock.LogOnFlush)
    assert config["executor"] is None and config["scope_kwargs"] == {}
    assert config["options"] == {"fail_fast": False}
""")
        result.assert_outcomes(passed=2)


class TestWithoutPytest:
    """``airlock.testing`` works in any test framework; these run directly."""

    def test_capture_context_manager_and_current_capture(self, calls) -> None:  # type: ignore[no-untyped-def]
        with capture() as captured:
            airlock.enqueue(calls, 1)
            assert current_capture().intents == captured.intents
        assert captured.names == ["calls"]
        assert calls.calls == []
        with pytest.raises(airlock.ScopeStateError, match="capture has ended"):
            captured.run()

    def test_run_honours_each_intent_s_dispatch_options(self, executor_named) -> None:  # type: ignore[no-untyped-def]
        """As any flush does: an intent routed to another executor goes there, not to run()'s."""
        routed: list[object] = []
        executor_named("recording", lambda intent: routed.append(intent.args))
        with capture() as captured:
            airlock.enqueue(print, "routed", _dispatch_options={"executor": "recording"})
            report = captured.run()  # sync, but this intent says otherwise
        assert routed == [("routed",)] and len(report.dispatched) == 1

    def test_current_capture_without_one_says_what_to_do(self) -> None:
        with pytest.raises(airlock.UsageError, match="airlock_capture fixture"):
            current_capture()

    def test_match_arguments_by_signature(self) -> None:
        def show(*args: object, sep: str = " ", end: str = "\n") -> None:
            """A print-like task whose signature every Python version can read."""

        intent = airlock.Intent(task=show, args=(1, 2), kwargs={"sep": "-"})
        assert Match(show, 1, sep="-").matches(intent)  # *args: the leading ones
        assert Match("show").matches(intent)
        assert Match(show, 1, 3).mismatch(intent) == "args=(1, 2), expected (1, 3)"
        assert Match(show, end="").mismatch(intent) == "end='\\n', expected ''"
        assert Match(len).mismatch(intent) == "another task"
        assert str(Match(show, 1, sep="-")) == "show(1, sep='-')"

    def test_match_arguments_of_the_function_a_task_object_keeps_as_func(self) -> None:
        """Task objects that only pass ``*args, **kwargs`` on (Huey's) bind to their ``.func``;
        a ``functools.partial`` keeps its own signature (its ``.func`` lacks what it binds)."""
        import functools

        def send(user_id: int, template: str = "welcome") -> None:
            pass

        class TaskObject:
            func = staticmethod(send)

            def __call__(self, *args: object, **kwargs: object) -> None:
                send(*args, **kwargs)  # type: ignore[arg-type]

        task = TaskObject()
        intent = airlock.Intent(task=task, args=(1,), kwargs={})
        assert Match(task, user_id=1, template="welcome").matches(intent)
        assert Match(task, user_id=2).mismatch(intent) == "user_id=1, expected 2"
        bound = functools.partial(send, template="digest")
        assert Match(bound, user_id=3).matches(airlock.Intent(task=bound, args=(3,), kwargs={}))

    def test_a_dramatiq_actor_matches_by_its_names_and_its_function_s_signature(self) -> None:
        def send(user_id: int, template: str = "welcome") -> None:
            pass

        class ActorLike:
            """Like a Dramatiq actor: ``*args, **kwargs`` passed on to ``fn``, named by ``actor_name``."""

            actor_name = "send_email"
            fn = staticmethod(send)

            def __call__(self, *args: object, **kwargs: object) -> None:
                send(*args, **kwargs)  # type: ignore[arg-type]

        actor = ActorLike()
        intent = airlock.Intent(task=actor, args=(1,), kwargs={})
        assert Match("send_email", user_id=1).matches(intent)
        assert Match(f"{send.__module__}.{send.__qualname__}").matches(intent)
        assert Match(actor, user_id=1, template="welcome").matches(intent)
        assert Match(actor, user_id=2).mismatch(intent) == "user_id=1, expected 2"

    def test_match_arguments_without_a_signature(self) -> None:
        intent = airlock.Intent(task=max, args=(1, 2), kwargs={"default": 0})  # max has no signature
        assert Match(max, 1, default=0).matches(intent)
        assert Match(max, 1, 3).mismatch(intent) == "argument 2 is 2, expected 3"
        assert Match(max, 1, 2, 3).mismatch(intent) == "no argument 3, expected 3"
        assert Match(max, key=abs).mismatch(intent) == "no argument key, expected <built-in function abs>"

    def test_bad_calls_fail_at_the_call_site(self) -> None:
        with capture() as captured:
            with pytest.raises(TypeError, match="needs a task"):
                Match(42)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="either to Match"):
                captured.assert_enqueued(Match(print), 1)
            with pytest.raises(TypeError, match="assert_not_enqueued"):
                captured.assert_enqueued(print, times=0)

    def test_no_effects_context_manager(self, calls) -> None:  # type: ignore[no-untyped-def]
        with no_effects("in this block"):
            with airlock.scope():
                pass
        with pytest.raises(airlock.PolicyViolation, match=r"calls\(1\)\. No side effects are allowed here"):
            with no_effects("here"):
                airlock.enqueue(calls, 1)
        with pytest.raises(AssertionError, match=r"caught by the code under test:\n  calls\(2\)") as info:
            with no_effects() as guard:
                with pytest.raises(airlock.PolicyViolation):  # code that swallows the violation
                    airlock.enqueue(calls, 2)
        assert info.value is guard.error
        assert [i.args for i in guard.violations] == [(2,)]
        assert calls.calls == []
