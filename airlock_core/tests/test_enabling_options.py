"""Plugins that declare an enabling option cost nothing until it is set."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import airlock
from airlock import Intent, Option


class Tagger:
    """A plugin that sees flushes and dispatches only when ``tagging`` is on."""

    def __init__(self) -> None:
        self.flushes = 0
        self.executions = 0

    @airlock.hookimpl
    def airlock_options(self) -> Sequence[Option]:
        return [Option("tagging", False, "Turn the tagger on.", enables=True)]

    @airlock.hookimpl
    def airlock_before_flush(self, intents: list[Intent]) -> None:
        self.flushes += 1

    @airlock.hookimpl
    def airlock_execute(self, intent: Intent) -> None:
        self.executions += 1


@pytest.fixture
def tagger(airlock_plugin: Any) -> Iterator[Tagger]:
    plugin = Tagger()
    airlock_plugin(plugin, "tagger")
    yield plugin


def run(**scope_options: Any) -> list[int]:
    ran: list[int] = []
    with airlock.scope(**scope_options):
        airlock.enqueue(ran.append, 1)
    return ran


def test_an_installed_plugin_nobody_enabled_is_skipped(tagger: Tagger) -> None:
    assert run() == [1]
    assert (tagger.flushes, tagger.executions) == (0, 0)


def test_enabled_on_the_scope(tagger: Tagger) -> None:
    assert run(tagging=True) == [1]
    assert (tagger.flushes, tagger.executions) == (1, 1)


def test_enabled_globally(tagger: Tagger, airlock_config: Any) -> None:
    airlock_config(tagging=True)
    assert run() == [1]
    assert (tagger.flushes, tagger.executions) == (1, 1)


def test_enabled_by_one_intent(tagger: Tagger) -> None:
    ran: list[int] = []
    with airlock.scope():
        airlock.enqueue(ran.append, 1)
        airlock.enqueue(ran.append, 2, _dispatch_options={"tagging": True})
    assert ran == [1, 2]
    assert (tagger.flushes, tagger.executions) == (1, 2)  # the plugin then sees the whole flush


def test_set_to_its_default_is_not_enabled(tagger: Tagger) -> None:
    assert run(tagging=False) == [1]
    assert (tagger.flushes, tagger.executions) == (0, 0)


def test_enabled_by_the_scope_class_option_defaults(tagger: Tagger) -> None:
    class Tagging(airlock.Scope):
        option_defaults = {"tagging": True}

    class NotTagging(airlock.Scope):
        option_defaults = {"tagging": False, "fail_fast": False}

    assert run(_cls=Tagging) == [1]
    assert (tagger.flushes, tagger.executions) == (1, 1)
    assert run(_cls=NotTagging) == [1]
    assert (tagger.flushes, tagger.executions) == (1, 1)


def test_the_core_option_names_are_those_the_core_declares() -> None:
    """Scope classes skip their option_defaults of core options when looking
    for enabled plugins: the list must match what the core declares."""
    from airlock.scope import CORE_OPTION_NAMES

    core = {info.name: info for info in airlock.plugins.plugin_infos()}[airlock.plugins.CORE_PLUGIN]
    assert {option.name for option in core.options} == CORE_OPTION_NAMES
    assert not any(option.enables for option in core.options)
