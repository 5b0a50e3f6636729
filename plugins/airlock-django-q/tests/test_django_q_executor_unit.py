"""Bad input the django_q executor refuses before django-q2 (and Django) is ever imported."""

from __future__ import annotations

import subprocess
import sys

import pytest
from airlock_django_q import ASYNC_TASK_OPTIONS, django_q_executor

import airlock
from airlock import Intent
from airlock.executors import resolve_executor


def send_mail(to, subject=""):
    raise AssertionError("never runs in these tests")


def test_selected_by_name_and_importable_at_the_compatible_path():
    from airlock.integrations.executors.django_q import django_q_executor as compatible

    assert resolve_executor("django_q") is django_q_executor
    assert compatible is django_q_executor


def test_importing_the_plugin_does_not_import_django():
    code = "import airlock_django_q, sys; print('django' in sys.modules, 'django_q' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_unknown_option_is_refused_naming_it_with_a_hint():
    with pytest.raises(TypeError) as raised:
        with airlock.scope(executor="django_q"):
            airlock.enqueue(send_mail, "a@b", _dispatch_options={"countdown": 5, "group": "g"})

    message = str(raised.value)
    assert "does not accept the dispatch option(s) 'countdown' for task 'send_mail'" in message
    assert "django_q.tasks.schedule()" in message
    assert "Accepted: ack_failure, broker, cached, chain, cluster, group, hook" in message
    report = raised.value.airlock_report
    assert [i.task for i, _ in report.failed] == [send_mail]


def test_unknown_option_inside_q_options_is_refused():
    intent = Intent(task=send_mail, args=("a@b",), kwargs={}, dispatch_options={"q_options": {"queue": "x"}})
    with pytest.raises(TypeError, match=r"q_options\['queue'\].*For 'queue': use 'cluster'"):
        django_q_executor(intent)


def test_q_options_must_be_a_dict():
    intent = Intent(task=send_mail, args=(), kwargs={}, dispatch_options={"q_options": [("group", "g")]})
    with pytest.raises(TypeError, match="'q_options' of task 'send_mail' must be a dict"):
        django_q_executor(intent)


@pytest.mark.parametrize("name", sorted(ASYNC_TASK_OPTIONS))
def test_task_kwarg_that_django_q_would_take_as_an_option_is_refused(name):
    intent = Intent(task=send_mail, args=("a@b",), kwargs={name: 1, "subject": "hi"})
    with pytest.raises(TypeError, match=rf"keyword argument\(s\) '{name}'.*would never receive them"):
        django_q_executor(intent)


@pytest.fixture
def async_task_calls(monkeypatch):
    """django-q2's async_task replaced by a recorder (these tests never import django-q2)."""
    import airlock_django_q._executor as executor_module

    calls = []
    monkeypatch.setattr(executor_module, "_async_task", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def test_options_go_in_q_options_so_task_kwargs_named_like_options_reach_the_task(async_task_calls):
    options = {"group": "g", "task_name": "welcome", "q_options": {"timeout": 5}}
    django_q_executor(Intent(task=send_mail, args=("a@b",), kwargs={"timeout": 3}, dispatch_options=options))
    [(args, kwargs)] = async_task_calls
    assert args == (send_mail, "a@b")
    # django-q2 takes q_options' timeout (5) as its option and hands timeout=3 to the task
    assert kwargs == {"timeout": 3, "task_name": "welcome", "q_options": {"group": "g", "timeout": 5}}
    assert options == {"group": "g", "task_name": "welcome", "q_options": {"timeout": 5}}  # the intent's, untouched


def test_an_option_given_twice_with_different_values_is_refused(async_task_calls):
    intent = Intent(task=send_mail, args=(), kwargs={}, dispatch_options={"timeout": 10, "q_options": {"timeout": 5}})
    with pytest.raises(TypeError, match=r"'timeout' both directly and in q_options, with different values"):
        django_q_executor(intent)
    assert async_task_calls == []


def test_a_task_kwarg_named_like_an_option_the_intent_does_not_set_is_refused(async_task_calls):
    """django-q2 takes every option q_options lacks from the keyword arguments."""
    intent = Intent(task=send_mail, args=(), kwargs={"timeout": 600}, dispatch_options={"group": "g"})
    with pytest.raises(TypeError, match=r"keyword argument\(s\) 'timeout'.*set that option in the intent's"):
        django_q_executor(intent)
    assert async_task_calls == []


@pytest.mark.parametrize("name", ["func", "task_name", "q_options"])
def test_a_task_kwarg_django_q_always_takes_is_refused_even_with_options(name, async_task_calls):
    intent = Intent(task=send_mail, args=(), kwargs={name: "x"}, dispatch_options={"group": "g"})
    with pytest.raises(TypeError, match=rf"keyword argument\(s\) '{name}'.*would never receive them"):
        django_q_executor(intent)
    assert async_task_calls == []


def test_priority_is_refused_with_a_hint_to_route_it_elsewhere(async_task_calls):
    intent = Intent(task=send_mail, args=(1,), dispatch_options={"priority": 9})
    with pytest.raises(TypeError, match=r"'priority'.*django-q2 has no task priorities.*priority_routes"):
        django_q_executor(intent)
    assert async_task_calls == []
