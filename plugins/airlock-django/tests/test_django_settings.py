"""The app found through "airlock.integrations.django", and settings.AIRLOCK validation."""

from __future__ import annotations

import inspect

import pytest
from airlock_django import DjangoScope, get_executor, get_policy, get_scope_class, get_setting
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

import airlock
from airlock.executors.sync import sync_executor
from airlock.integrations.django.apps import AirlockConfig


@pytest.fixture
def fresh_configuration() -> None:
    """Apply settings.AIRLOCK from scratch (conftest's airlock_from_settings resets afterwards)."""
    airlock.reset_configuration()


def apply(value: object) -> None:
    with override_settings(AIRLOCK=value):
        apps.get_app_config("airlock").ready()


def test_django_finds_the_app_through_the_compatible_path(fresh_configuration):
    config = apps.get_app_config("airlock")
    assert type(config) is AirlockConfig
    assert config.name == "airlock.integrations.django"
    config.ready()
    assert airlock.get_configuration()["scope_cls"] is DjangoScope


def test_defaults():
    assert get_setting("SCOPE_KWARGS") == {}
    assert isinstance(get_policy(), airlock.AllowAll)
    assert get_scope_class() is DjangoScope
    assert get_executor() is sync_executor
    with pytest.raises(KeyError, match="valid: POLICY"):
        get_setting("EXECUTER")


def test_full_settings_are_applied(fresh_configuration):
    apply(
        {
            "POLICY": "airlock.LogOnFlush",
            "EXECUTOR": "threads",
            "SCOPE": "airlock_django.DjangoScope",
            "SCOPE_KWARGS": {"using": "other"},
            "OPTIONS": {"fail_fast": True},
        }
    )
    config = airlock.get_configuration()
    assert isinstance(config["policy"], airlock.LogOnFlush)
    assert config["executor"] is airlock.resolve_executor("threads")
    assert config["scope_kwargs"] == {"using": "other"}
    assert config["options"] == {"fail_fast": True}
    scope = airlock.scope()
    assert isinstance(scope, DjangoScope) and scope.using == "other" and scope.option("fail_fast") is True


def test_executor_as_dotted_path_and_policy_as_instance(fresh_configuration):
    policy = airlock.BlockTasks({"x"})
    apply({"EXECUTOR": "airlock_django.django_tasks_executor", "POLICY": policy})
    config = airlock.get_configuration()
    assert config["policy"] is policy
    assert config["executor"] is airlock.resolve_executor("django_tasks")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"EXECUTER": "sync"}, r"Unknown key 'EXECUTER' in settings\.AIRLOCK\. Did you mean 'EXECUTOR'\?.*POLICY"),
        ({"executor": "sync"}, r"Unknown key 'executor'.*Did you mean 'EXECUTOR'\?"),
        ({"fail_fast": True}, r"Unknown key 'fail_fast'.*AIRLOCK\['OPTIONS'\]"),
        ({"EXECUTOR": "celeri"}, r"AIRLOCK\['EXECUTOR'\]: Unknown airlock executor 'celeri'.*Installed.*sync"),
        ({"EXECUTOR": "threds"}, r"Did you mean 'threads'\?"),
        ({"EXECUTOR": "myapp.nowhere.run"}, r"AIRLOCK\['EXECUTOR'\] = 'myapp.nowhere.run' cannot be imported"),
        ({"EXECUTOR": 42}, r"AIRLOCK\['EXECUTOR'\]"),
        ({"POLICY": "airlock.NoSuchPolicy"}, r"AIRLOCK\['POLICY'\] = 'airlock.NoSuchPolicy' cannot be imported"),
        ({"POLICY": 3}, r"AIRLOCK\['POLICY'\] must give a policy"),
        ({"SCOPE": "airlock.AllowAll"}, r"AIRLOCK\['SCOPE'\] must be a subclass of airlock.Scope"),
        ({"SCOPE_KWARGS": {"usin": "default"}}, r"AIRLOCK\['SCOPE_KWARGS'\].*not accepted by DjangoScope.*'usin'"),
        ({"SCOPE_KWARGS": ["using"]}, r"AIRLOCK\['SCOPE_KWARGS'\] must be a dict"),
        (
            {"SCOPE_KWARGS": {"using": "defualt"}},
            r"AIRLOCK\['SCOPE_KWARGS'\].*DjangoScope\(using='defualt'\): no such database; DATABASES has default",
        ),
        (
            {"EXECUTOR": "threads", "SCOPE_KWARGS": {"executor": "sync"}},
            r"^'executor' in settings\.AIRLOCK\['SCOPE_KWARGS'\] would bypass settings\.AIRLOCK\['EXECUTOR'\]: "
            r"set it as settings\.AIRLOCK\['EXECUTOR'\]\.$",
        ),
        ({"SCOPE_KWARGS": {"policy": "x"}}, r"'policy' in .*'SCOPE_KWARGS'\] would bypass .*\['POLICY'\]"),
        (
            {"SCOPE_KWARGS": {"robust": "no"}},
            r"not accepted by DjangoScope: DjangoScope\(robust=\.\.\.\) must be True, False or None, got 'no'",
        ),
        ({"OPTIONS": {"fail_fats": True}}, r"AIRLOCK\['OPTIONS'\].*Unknown airlock option 'fail_fats'.*'fail_fast'"),
        ({"OPTIONS": {"fail_fast": "yes"}}, r"AIRLOCK\['OPTIONS'\].*Invalid value 'yes' for .* 'fail_fast'"),
        ({"OPTIONS": {1: True}}, r"AIRLOCK\['OPTIONS'\] has the key 1: option names are strings"),
        (["EXECUTOR"], r"settings\.AIRLOCK must be a dict"),
    ],
)
def test_mistakes_are_improperly_configured(fresh_configuration, value, expected):
    with pytest.raises(ImproperlyConfigured, match=expected):
        apply(value)


#: The AIRLOCK key that sets each of airlock.configure()'s own parameters.
KEY_OF_PARAMETER = {"policy": "POLICY", "executor": "EXECUTOR", "scope_cls": "SCOPE", "scope_kwargs": "SCOPE_KWARGS"}


@pytest.mark.parametrize(
    "name",
    [p.name for p in inspect.signature(airlock.configure).parameters.values() if p.kind is p.KEYWORD_ONLY],
)
def test_options_naming_a_parameter_of_configure_point_to_its_key(fresh_configuration, name):
    """OPTIONS go to airlock.configure(**options), next to the parameters the other keys set."""
    key = KEY_OF_PARAMETER[name]  # a new parameter of configure(): which key sets it?
    with pytest.raises(ImproperlyConfigured) as raised:
        apply({"EXECUTOR": "sync", "OPTIONS": {name: "sync"}})
    assert str(raised.value) == (
        f"{name!r} in settings.AIRLOCK['OPTIONS'] is not an option: set it as settings.AIRLOCK[{key!r}]."
    )


def test_the_executor_setting_wins_over_the_environment_at_start_up(fresh_configuration, monkeypatch):
    """The start-up check builds its trial scope with AIRLOCK["EXECUTOR"], not
    with the AIRLOCK_EXECUTOR the setting overrides."""
    monkeypatch.setenv("AIRLOCK_EXECUTOR", "celry")
    apply({"EXECUTOR": "threads"})
    assert airlock.scope().executor is airlock.resolve_executor("threads")


def test_a_misspelt_airlock_setting_name_is_refused_rather_than_ignored(fresh_configuration):
    """AIRLOK = {...} with no AIRLOCK would leave every default in force: the
    sync executor would run Celery tasks inside the request."""
    from django.conf import settings

    saved = settings.AIRLOCK
    del settings.AIRLOCK
    try:
        for typo in ("AIRLOK", "AIRLOCKK"):
            expected = rf"settings\.{typo} looks like a misspelt settings\.AIRLOCK"
            with override_settings(**{typo: {"EXECUTOR": "celery"}}):
                with pytest.raises(ImproperlyConfigured, match=expected):
                    apps.get_app_config("airlock").ready()
        apps.get_app_config("airlock").ready()  # no AIRLOCK and nothing like it: the defaults, quietly
    finally:
        settings.AIRLOCK = saved


@pytest.mark.parametrize(
    ("name", "value"),
    [("AIRLOCKS", ["a"]), ("AIRLOCK_DB", {"a": 1}), ("WARLOCK", "game"), ("AIRLOCK_ON", True), ("LOCK", {})],
)
def test_settings_that_are_not_a_misspelt_airlock_are_left_alone(fresh_configuration, name, value):
    from django.conf import settings

    saved = settings.AIRLOCK
    del settings.AIRLOCK
    try:
        with override_settings(**{name: value}):
            apps.get_app_config("airlock").ready()
    finally:
        settings.AIRLOCK = saved
