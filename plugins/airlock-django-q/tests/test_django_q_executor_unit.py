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
