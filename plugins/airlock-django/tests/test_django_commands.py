"""A management command under @airlock.scoped(): its side effect runs after its commit."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

import airlock

pytestmark = pytest.mark.usefixtures("real_commits")


def test_command_enqueues_and_the_task_sees_the_committed_row(alias, probe):
    call_command("make_thing", alias, "from-command")

    assert probe == [("from-command", True)]
    assert airlock.get_current_scope() is None


def test_command_failure_dispatches_nothing(alias, probe):
    with pytest.raises(CommandError, match="failing after enqueueing"):
        call_command("make_thing", alias, "doomed", "--fail")

    assert probe == []
