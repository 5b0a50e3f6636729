"""airlock's pytest plugin (entry point ``pytest11``), for airlock's users.

Fixtures:

- ``airlock_config``: restores ``airlock.configure()`` state after the test.
- ``airlock_plugin``: registers an inline hook plugin, always unregistered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import airlock


@pytest.fixture
def airlock_config() -> Iterator[None]:
    """Reset airlock's global configuration before and after the test."""
    airlock.reset_configuration()
    yield
    airlock.reset_configuration()


@pytest.fixture
def airlock_plugin() -> Iterator[Callable[..., str]]:
    """``airlock_plugin(obj)`` registers a hook plugin for this test only; returns its name."""
    from airlock import plugins

    names: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        registered = plugins.register(plugin, name)
        names.append(registered)
        return registered

    yield register
    for name in reversed(names):
        plugins.unregister(name=name)
