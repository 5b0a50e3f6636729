"""The huey executor against an in-memory Huey (no consumer): what lands on the queue, and bad input."""

from __future__ import annotations

import datetime
import inspect

import pytest
from airlock_huey import huey_executor
from huey import MemoryHuey

import airlock
from airlock import Intent
from airlock.executors import resolve_executor


@pytest.fixture
def huey():
    return MemoryHuey(name="airlock_unit", results=False)


@pytest.fixture
def add(huey):
    @huey.task()
    def add(a, b=0, **extra):
        return a + b

    return add


def test_selected_by_name_and_importable_at_the_compatible_path():
    from airlock.integrations.executors.huey import huey_executor as compatible

    assert resolve_executor("huey") is huey_executor
    assert compatible is huey_executor


def test_no_options_enqueues_for_immediate_execution(huey, add):
    huey_executor(Intent(task=add, args=(1,), kwargs={"b": 2, "priority": "kw"}))

    [task] = huey.pending()
    assert (task.args, task.kwargs) == ((1,), {"b": 2, "priority": "kw"})
    assert task.eta is None and task.priority is None
    assert huey.execute(task) == 3


def test_options_without_eta_or_delay_are_applied_to_an_immediate_task(huey, add):
    options = {"priority": 7, "retries": 2, "retry_delay": 3, "id": "fixed", "delay": None}
    has_timeout = "timeout" in inspect.signature(add.schedule).parameters  # Huey releases after 2.5.0
    if has_timeout:
        options["timeout"] = 9
    huey_executor(Intent(task=add, args=(1, 2), kwargs={}, dispatch_options=options))

    [task] = huey.pending()
    assert (task.id, task.priority, task.retries, task.retry_delay, task.eta) == ("fixed", 7, 2, 3, None)
    assert getattr(task, "timeout", None) == (9 if has_timeout else None)


def test_delay_goes_through_schedule_and_sets_the_eta(huey, add):
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    huey_executor(Intent(task=add, args=(1, 2), kwargs={}, dispatch_options={"delay": 60, "priority": 1}))

    [task] = huey.pending()
    assert task.eta >= before + datetime.timedelta(seconds=60)
    assert task.priority == 1


def test_both_eta_and_delay_is_huey_own_error(huey, add):
    options = {"delay": 5, "eta": datetime.datetime.now()}
    with pytest.raises(ValueError, match="either an eta"):
        huey_executor(Intent(task=add, args=(1,), kwargs={}, dispatch_options=options))
    assert len(huey) == 0


def test_unknown_option_fails_before_enqueue_naming_it_and_the_accepted_ones(huey, add):
    with pytest.raises(TypeError) as raised:
        with airlock.scope(executor="huey"):
            airlock.enqueue(add, 1, _dispatch_options={"countdown": 5, "queue": "mail"})

    message = str(raised.value)
    assert "'countdown', 'queue'" in message and "task 'add'" in message
    assert "Accepted: delay, eta, expires, id, priority" in message
    assert "For 'countdown' use delay" in message
    assert len(huey) == 0
    assert [i.task for i, _ in raised.value.airlock_report.failed] == [add]


def test_plain_callable_is_called_and_its_result_returned():
    calls = []

    def task(*args, **kwargs):
        calls.append((args, kwargs))
        return "done"

    assert huey_executor(Intent(task=task, args=(1,), kwargs={"k": 2}, dispatch_options={"ignored": 1})) == "done"
    assert calls == [((1,), {"k": 2})]


class ScheduleOnly:
    """Not a Huey task, but schedules like one: gets airlock-py's call."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        raise AssertionError("a task with schedule() is never called directly")

    def schedule(self, args=None, kwargs=None, delay=None, priority=None):
        self.calls.append((args, kwargs, delay, priority))


def test_object_with_schedule_but_not_a_huey_task_gets_schedule_unchanged():
    task = ScheduleOnly()
    huey_executor(Intent(task=task, args=(1,), kwargs={"k": 2}, dispatch_options={"priority": 4}))
    assert task.calls == [((1,), {"k": 2}, None, 4)]

    with pytest.raises(TypeError, match="'eta'"):
        huey_executor(Intent(task=task, args=(), kwargs={}, dispatch_options={"eta": 1}))


def test_immediate_mode_runs_the_task_inline():
    huey = MemoryHuey(name="airlock_immediate", immediate=True)
    ran = []

    @huey.task()
    def remember(value):
        ran.append(value)

    with airlock.scope(executor="huey"):
        airlock.enqueue(remember, 1)
        airlock.enqueue(remember, 2, _dispatch_options={"priority": 3})
    assert ran == [1, 2]


def test_capture_matches_a_huey_task_s_arguments_by_parameter_name(huey):
    """airlock.testing binds arguments to the function a Huey task wraps, not to the wrapper's *args."""
    from airlock.testing import capture

    @huey.task()
    def send_email(user_id, template="welcome"):
        pass

    with capture() as captured:
        airlock.enqueue(send_email, 1)
    captured.assert_enqueued(send_email, user_id=1, template="welcome")
    with pytest.raises(AssertionError, match="user_id=1, expected 2"):
        captured.assert_enqueued(send_email, user_id=2)
