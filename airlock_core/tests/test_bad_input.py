"""Bad input is refused where it is given, with a message that says what to do,
and nothing already accepted changes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock.executors.threads import ThreadsExecutor


def task(*args: Any) -> None:
    pass


class Watching(airlock.AllowAll):
    """A policy that records every intent it is shown at enqueue."""

    def __init__(self) -> None:
        self.seen: list[Intent] = []

    def on_enqueue(self, intent: Intent) -> None:
        self.seen.append(intent)


@pytest.mark.parametrize(
    ("dispatch_options", "error", "message"),
    [
        ("high", TypeError, r"_dispatch_options must be a dict of options .* got str 'high'"),
        ([("queue", "mail")], TypeError, r"_dispatch_options must be a dict"),
        ({"fail_fast": False}, airlock.UsageError, r"'fail_fast' \(\S+\) cannot be set per intent.*scope\(fail_fast="),
    ],
)
def test_dispatch_options_are_checked_before_any_policy_sees_the_intent(
    dispatch_options: Any, error: type[Exception], message: str
) -> None:
    policy = Watching()
    with airlock.scope(policy) as scope:
        with pytest.raises(error, match=message):
            airlock.enqueue(task, _dispatch_options=dispatch_options)
        assert scope.intents == [] and policy.seen == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: airlock.scope(airlock.DropAll), r"Scope\(\) got the class DropAll; pass an instance: DropAll\(\)"),
        (lambda: airlock.scope("strict"), r"Scope\(\) needs a policy .* got 'strict'"),
        (lambda: airlock.policy(airlock.DropAll), r"airlock.policy\(\) got the class DropAll"),
        (lambda: airlock.configure(policy=airlock.DropAll), r"configure\(policy=...\) got the class DropAll"),
        (lambda: airlock.configure(scope_cls=int), r"configure\(scope_cls=...\) needs a subclass of airlock.Scope"),
        (lambda: airlock.configure(scope_kwargs=[("fail_fast", True)]), r"scope_kwargs=...\) needs a dict"),
        (lambda: airlock.scope(executor=ThreadsExecutor), r"got the class ThreadsExecutor; pass an instance"),
        (lambda: airlock.configure(executor=ThreadsExecutor), r"got the class ThreadsExecutor; pass an instance"),
        (lambda: airlock.scoped(airlock.DropAll), r"@airlock.scoped\(\) got the class DropAll"),
        (lambda: airlock.scoped(executor=ThreadsExecutor), r"got the class ThreadsExecutor; pass an instance"),
    ],
)
def test_a_policy_or_scope_class_that_is_not_one_is_refused_where_it_is_given(make: Any, message: str) -> None:
    before = airlock.get_configuration()
    with pytest.raises(TypeError, match=message):
        make()
    assert airlock.get_configuration() == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: airlock.scope(executer="threads"),
            r"'executer'.*Did you mean the parameter 'executor'\?",
        ),
        (lambda: airlock.configure(polcy=airlock.DropAll()), r"'polcy'.*Did you mean the parameter 'policy'\?"),
        (lambda: airlock.scope(fail_fats=True), r"'fail_fats'.*Did you mean 'fail_fast'\?"),
    ],
)
def test_a_misspelled_parameter_gets_a_suggestion(make: Any, message: str) -> None:
    with pytest.raises(airlock.UnknownOptionError, match=message):
        make()


def test_a_misspelled_option_in_scope_kwargs_is_refused_by_configure() -> None:
    with pytest.raises(airlock.UnknownOptionError, match=r"'fail_fats'.*configure\(scope_kwargs=...\).*'fail_fast'"):
        airlock.configure(scope_kwargs={"fail_fats": False})
    assert airlock.get_configuration()["scope_kwargs"] == {}
    with airlock.scope():  # scopes still work
        airlock.enqueue(task)


@pytest.mark.parametrize("field", ["_name", "_origin"])
def test_name_and_origin_must_be_strings(field: str) -> None:
    with airlock.scope() as scope:
        with pytest.raises(TypeError, match=r"_name and _origin must be strings"):
            airlock.enqueue(task, **{field: 123})
        assert scope.intents == []


def test_an_executor_name_from_the_environment_says_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "thredas")
    airlock.reset_configuration()
    with pytest.raises(airlock.UnknownExecutorError, match="Did you mean 'threads'") as caught:
        airlock.scope()
    assert "The executor name comes from the environment: AIRLOCK_EXECUTOR='thredas'." in caught.value.__notes__
    monkeypatch.delenv("AIRLOCK_EXECUTOR")
    airlock.reset_configuration()


def test_a_local_policy_entered_twice_says_to_make_a_new_one() -> None:
    local = airlock.policy(airlock.DropAll())
    with local:
        with pytest.raises(airlock.ScopeStateError, match=r"already active; use a new airlock.policy\(p\)"):
            with local:
                pass
    with pytest.raises(airlock.ScopeStateError, match="not active"):
        local.__exit__(None, None, None)


def test_scoped_refuses_generator_functions() -> None:
    def numbers() -> Iterator[int]:
        yield 1

    async def more_numbers() -> AsyncIterator[int]:
        yield 1

    for function in (numbers, more_numbers):
        expected = r"cannot wrap the generator function .*numbers.*with airlock.scope\(\.\.\.\):.*not across a yield"
        with pytest.raises(TypeError, match=expected):
            airlock.scoped()(function)


def test_a_local_policy_needs_only_allows() -> None:
    """airlock.policy(p) asks a local policy allows() only, as airlock-py did."""
    ran: list[str] = []

    class OnlyEmails:
        def allows(self, intent: Intent) -> bool:
            return intent.args == ("email",)

    with airlock.scope(), airlock.policy(OnlyEmails()):
        airlock.enqueue(ran.append, "email")
        airlock.enqueue(ran.append, "sms")
    assert ran == ["email"]


def test_scope_kwargs_may_be_parameters_of_a_base_class_of_the_scope_class() -> None:
    class Labelled(airlock.Scope):
        def __init__(self, policy: Any = None, executor: Any = None, *, label: str = "-", **options: Any) -> None:
            super().__init__(policy, executor, **options)
            self.label = label

    class Audited(Labelled):
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # passes everything on
            super().__init__(*args, **kwargs)

    airlock.configure(scope_cls=Audited, scope_kwargs={"label": "billing", "fail_fast": False})
    made = airlock.scope()
    assert isinstance(made, Audited) and made.label == "billing" and made.option("fail_fast") is False
    with pytest.raises(airlock.UnknownOptionError, match="'lable'"):
        airlock.configure(scope_kwargs={"lable": "billing"})
