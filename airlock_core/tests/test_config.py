"""``configure``, ``reset_configuration``, ``get_configuration`` and executor selection."""

from __future__ import annotations

import threading

import pytest

import airlock
from airlock import Scope
from airlock.executors.sync import sync_executor
from airlock.executors.threads import threads_executor


def task() -> None:
    pass


class Labelled:
    """An executor that records its label for every intent it receives."""

    def __init__(self, label: str, log: list[str]) -> None:
        self.label, self.log = label, log

    def __call__(self, intent: airlock.Intent) -> None:
        self.log.append(self.label)


class TaggedScope(Scope):
    def __init__(self, policy: airlock.Policy, *, tag: str = "none", **kwargs: object) -> None:
        super().__init__(policy, **kwargs)
        self.tag = tag


def test_defaults() -> None:
    config = airlock.get_configuration()
    assert config["scope_cls"] is None
    assert config["policy"] is None
    assert config["executor"] is None
    assert config["scope_kwargs"] == {}


def test_get_configuration_returns_a_copy() -> None:
    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "a"})
    config = airlock.get_configuration()
    config["policy"] = airlock.DropAll()
    config["scope_kwargs"]["tag"] = "changed"
    assert airlock.get_configuration()["policy"] is None
    assert airlock.get_configuration()["scope_kwargs"] == {"tag": "a"}


def test_configured_policy_and_explicit_override(calls) -> None:  # type: ignore[no-untyped-def]
    airlock.configure(policy=airlock.DropAll())
    with airlock.scope() as s:
        airlock.enqueue(calls, "dropped")
    assert isinstance(s.policy, airlock.DropAll)
    with airlock.scope(airlock.AllowAll()):
        airlock.enqueue(calls, "explicit")
    assert calls.args == [("explicit",)]


def test_configured_scope_class_kwargs_and_overrides() -> None:
    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "configured"})
    with airlock.scope() as s:
        pass
    assert type(s) is TaggedScope and s.tag == "configured"
    with airlock.scope(tag="explicit") as s:
        pass
    assert s.tag == "explicit"


def test_explicit_scope_class_beats_configured() -> None:
    class Other(TaggedScope):
        pass

    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "configured"})
    with airlock.scope(_cls=Other) as s:
        pass
    assert type(s) is Other
    assert s.tag == "configured"


def test_scoped_uses_configuration_at_call_time(calls) -> None:  # type: ignore[no-untyped-def]
    @airlock.scoped()
    def handler() -> None:
        airlock.enqueue(calls)

    airlock.configure(policy=airlock.DropAll())
    handler()
    assert calls.calls == []
    airlock.reset_configuration()
    handler()
    assert len(calls.calls) == 1


def test_none_arguments_keep_what_was_configured() -> None:
    policy = airlock.DropAll()
    airlock.configure(policy=policy)
    airlock.configure(scope_cls=TaggedScope)
    config = airlock.get_configuration()
    assert config["policy"] is policy
    assert config["scope_cls"] is TaggedScope
    with airlock.scope() as s:
        pass
    assert type(s) is TaggedScope and s.policy is policy


def test_configure_takes_scope_kwargs_as_they_are_then() -> None:
    """scope() with no arguments uses what configure() was given, bound once: a
    caller changing its dict afterwards changes neither the configuration nor
    the scopes made from it."""
    kwargs = {"tag": "configured"}
    airlock.configure(scope_cls=TaggedScope, scope_kwargs=kwargs)
    kwargs["tag"] = "changed later"
    with airlock.scope() as s:
        pass
    assert s.tag == "configured"
    assert airlock.get_configuration()["scope_kwargs"] == {"tag": "configured"}


def test_scope_kwargs_that_would_fail_every_scope_are_refused_with_nothing_changed() -> None:
    """configure(policy=...) is the way to give a policy; an executor among them
    is checked like configure(executor=...); switching scope_cls re-checks the
    scope_kwargs configured before."""
    airlock.configure(scope_cls=TaggedScope, scope_kwargs={"tag": "acme"})
    before = airlock.get_configuration()
    for bad, message in [
        ({"scope_kwargs": {"policy": airlock.DropAll()}}, r"'policy' cannot be a scope argument.*configure\(policy="),
        ({"scope_kwargs": {"executor": "threadz"}}, "Unknown airlock executor 'threadz'"),
        ({"scope_kwargs": {"executor": 42}}, "executor must be a callable"),
        ({"scope_cls": airlock.Scope}, r"configure\(scope_cls=Scope\) with the scope_kwargs configured before"),
    ]:
        with pytest.raises((TypeError, airlock.UsageError), match=message):
            airlock.configure(**bad)
        assert airlock.get_configuration() == before
    with airlock.scope() as scope:
        pass
    assert type(scope) is TaggedScope and scope.tag == "acme"


def test_reset_configuration_forgets_everything() -> None:
    airlock.configure(policy=airlock.DropAll(), executor="threads", scope_cls=TaggedScope, fail_fast=False)
    airlock.reset_configuration()
    config = airlock.get_configuration()
    assert (config["policy"], config["executor"], config["scope_cls"], config["scope_kwargs"]) == (None, None, None, {})
    with airlock.scope() as s:
        pass
    assert s.executor is sync_executor
    assert s.option("fail_fast") is True


class TestExecutorPrecedence:
    """explicit argument > configure() > AIRLOCK_EXECUTOR > sync."""

    def test_sync_by_default_runs_inline(self) -> None:
        ran_on: list[threading.Thread] = []
        with airlock.scope() as s:
            airlock.enqueue(lambda: ran_on.append(threading.current_thread()))
        assert s.executor is sync_executor
        assert ran_on == [threading.current_thread()]

    def test_environment(self, monkeypatch, executor_named) -> None:  # type: ignore[no-untyped-def]
        log: list[str] = []
        executor_named("from-env", Labelled("env", log))
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "from-env")
        with airlock.scope():
            airlock.enqueue(task)
        assert log == ["env"]

    def test_configure_beats_environment(self, monkeypatch, executor_named) -> None:  # type: ignore[no-untyped-def]
        log: list[str] = []
        executor_named("from-env", Labelled("env", log))
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "from-env")
        airlock.configure(executor=Labelled("configured", log))
        with airlock.scope():
            airlock.enqueue(task)
        assert log == ["configured"]

    def test_explicit_beats_configure(self, monkeypatch, executor_named) -> None:  # type: ignore[no-untyped-def]
        log: list[str] = []
        executor_named("from-env", Labelled("env", log))
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "from-env")
        airlock.configure(executor=Labelled("configured", log))
        with airlock.scope(executor=Labelled("explicit", log)):
            airlock.enqueue(task)
        assert log == ["explicit"]

    def test_environment_is_read_again_after_reset(self, monkeypatch, executor_named) -> None:  # type: ignore[no-untyped-def]
        log: list[str] = []
        executor_named("first", Labelled("first", log))
        executor_named("second", Labelled("second", log))
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "first")
        with airlock.scope():
            airlock.enqueue(task)
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "second")
        airlock.reset_configuration()
        with airlock.scope():
            airlock.enqueue(task)
        assert log == ["first", "second"]

    def test_unknown_environment_name_fails_at_the_first_scope(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("AIRLOCK_EXECUTOR", "no_such_executor")
        with pytest.raises(airlock.UnknownExecutorError, match="no_such_executor"):
            airlock.scope()


class TestExecutorNames:
    def test_builtins_by_name(self) -> None:
        assert airlock.resolve_executor("sync") is sync_executor
        assert airlock.resolve_executor("threads") is threads_executor
        with airlock.scope(executor="sync") as s:
            pass
        assert s.executor is sync_executor

    def test_configure_accepts_a_name(self) -> None:
        airlock.configure(executor="threads")
        assert airlock.get_configuration()["executor"] == "threads"
        with airlock.scope() as s:
            pass
        assert s.executor is threads_executor

    def test_callable_is_itself(self) -> None:
        def mine(intent: airlock.Intent) -> None:
            pass

        assert airlock.resolve_executor(mine) is mine

    def test_register_executor(self, executor_named) -> None:  # type: ignore[no-untyped-def]
        log: list[str] = []
        executor_named("mine", Labelled("mine", log))
        with airlock.scope(executor="mine"):
            airlock.enqueue(task)
        assert log == ["mine"]
        airlock.unregister_executor("mine")
        with pytest.raises(airlock.UnknownExecutorError):
            airlock.scope(executor="mine")

    def test_register_executor_rejects_bad_input(self) -> None:
        with pytest.raises(TypeError, match="callable"):
            airlock.register_executor("bad", "not callable")  # type: ignore[arg-type]
        with pytest.raises(airlock.UsageError, match="name"):
            airlock.register_executor("", sync_executor)

    def test_register_executor_refuses_a_class(self) -> None:
        """A class would be called with each intent and only build an instance: nothing sent, all 'dispatched'."""

        class Outbox:
            def __call__(self, intent: airlock.Intent) -> None:
                """Would send."""

        with pytest.raises(TypeError, match=r"a class: register an instance of it"):
            airlock.register_executor("outbox", Outbox)  # type: ignore[arg-type]
        assert "outbox" not in airlock.executors.executor_names()

    def test_neither_name_nor_callable(self) -> None:
        with pytest.raises(TypeError, match="executor"):
            airlock.resolve_executor(42)  # type: ignore[arg-type]

    @pytest.mark.parametrize("where", ["scope", "configure"])
    def test_unknown_name_lists_installed_and_suggests(self, where: str) -> None:
        with pytest.raises(airlock.UnknownExecutorError) as info:
            if where == "scope":
                airlock.scope(executor="thread")
            else:
                airlock.configure(executor="thread")
        error = info.value
        assert isinstance(error, airlock.UsageError)
        assert error.name == "thread"
        assert {"sync", "threads"} <= set(error.known)
        message = str(error)
        assert "'thread'" in message
        assert "Did you mean 'threads'?" in message
        assert "sync" in message
        assert airlock.get_configuration()["executor"] is None  # a typo configures nothing

    def test_unknown_name_invents_no_distribution_to_install(self) -> None:
        """A guessed package name could be a typosquatter's: only airlock's own are named."""
        with pytest.raises(airlock.UnknownExecutorError) as info:
            airlock.scope(executor="rabbit_mq")
        assert "pip install" not in str(info.value)
        assert "install that plugin's distribution, or register it with airlock.register_executor(" in str(info.value)
        assert "pip install" not in str(airlock.UnknownExecutorError("thread", ["sync", "threads"]))

    @pytest.mark.parametrize(
        ("name", "distribution"), [("django_tasks", "airlock-django"), ("django_q", "airlock-django-q")]
    )
    def test_an_executor_of_airlock_s_own_plugins_names_its_distribution(self, name: str, distribution: str) -> None:
        message = str(airlock.UnknownExecutorError(name, ["sync", "threads"]))
        assert f"It is provided by the distribution {distribution}: `pip install {distribution}`." in message


class TestOptionsInConfigure:
    def test_core_option_is_validated_and_stored(self) -> None:
        airlock.configure(fail_fast=False)
        assert airlock.get_configuration()["options"] == {"fail_fast": False}
        with airlock.scope() as s:
            pass
        assert s.option("fail_fast") is False
        with airlock.scope(fail_fast=True) as s:
            pass
        assert s.option("fail_fast") is True

    def test_invalid_value(self) -> None:
        with pytest.raises(airlock.UsageError, match="fail_fast"):
            airlock.configure(fail_fast="no")

    def test_misspelled_option_suggests_the_closest(self) -> None:
        with pytest.raises(airlock.UnknownOptionError) as info:
            airlock.configure(fail_fsat=False)
        assert "Did you mean 'fail_fast'?" in str(info.value)
        assert "fail_fast" in info.value.known
        assert airlock.get_configuration()["options"] == {}


def test_scopes_made_while_another_thread_resets_the_configuration_lose_nothing() -> None:
    """reset_configuration() never leaves a half-empty configuration for a
    scope or a flush running meanwhile in another thread."""
    import sys
    import time

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = {"enqueued": 0, "ran": 0}

    def ran() -> None:
        counts["ran"] += 1

    def resetting() -> None:
        while not stop.is_set():
            airlock.reset_configuration()

    def flushing() -> None:
        while not stop.is_set():
            try:
                with airlock.scope(fail_fast=True):
                    counts["enqueued"] += 1
                    airlock.enqueue(ran)
            except BaseException as error:  # collected, asserted below
                errors.append(error)

    threads = [threading.Thread(target=resetting), threading.Thread(target=flushing)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(switch)
    assert errors == []
    assert counts["enqueued"] > 0 and counts["ran"] == counts["enqueued"]
