"""Fixtures for airlock-priority's tests: clean configuration, a switch to run without the plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import airlock


@pytest.fixture(autouse=True)
def _clean_configuration(airlock_config: None) -> None:
    """Every test starts and ends with airlock's default configuration."""


@pytest.fixture
def without_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the rest of the test as if airlock-priority were not installed (``AIRLOCK_DISABLE_PLUGINS``)."""
    monkeypatch.setenv("AIRLOCK_DISABLE_PLUGINS", "priority")
    airlock.plugins.reload()  # entry points are read again on next use
    yield
    monkeypatch.undo()
    airlock.plugins.reload()
