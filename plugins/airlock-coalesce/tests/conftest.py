"""Fixtures for airlock-coalesce's tests: clean configuration, a switch to run without the plugin."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture(autouse=True)
def _clean_configuration(airlock_config: None) -> None:
    """Every test starts and ends with airlock's default configuration."""


@pytest.fixture
def without_plugin(airlock_disable_plugins: Callable[..., None]) -> None:
    """Run the rest of the test as if airlock-coalesce were not installed."""
    airlock_disable_plugins("coalesce")
