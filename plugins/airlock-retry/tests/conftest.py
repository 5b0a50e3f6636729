"""Fixtures for airlock-retry's tests: clean configuration, a real Redis list, plugin switches."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from airlock.testing import require_service


@pytest.fixture(autouse=True)
def _clean_configuration(airlock_config: None) -> None:
    """Every test starts and ends with airlock's default configuration."""


@pytest.fixture
def redis_target() -> tuple[str, int]:
    """(host, port) of the real Redis; skipped (failed under CI=true) if unreachable."""
    parts = urlsplit(require_service("redis"))
    return parts.hostname or "127.0.0.1", parts.port or 6379


@pytest.fixture
def redis_list(redis_target: tuple[str, int]) -> Iterator[tuple[Any, str]]:
    """A direct Redis client and a list key unique to this test, deleted afterwards."""
    import redis

    client = redis.Redis(*redis_target, socket_timeout=5)
    key = f"airlock-retry-test:{uuid.uuid4().hex}"
    yield client, key
    client.delete(key)
    client.close()


@pytest.fixture
def without_plugin(airlock_disable_plugins: Callable[..., None]) -> None:
    """Run the test as if airlock-retry were not installed."""
    airlock_disable_plugins("retry")
