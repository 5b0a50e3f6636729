"""Helpers for tests that need a real service (Redis, RabbitMQ, PostgreSQL).

Addresses come from environment variables with loopback defaults. When a
service cannot be reached the test is skipped with the reason, except under
``CI=true``, where it fails: CI can never go green by skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

__all__ = ["SERVICES", "service_url", "require_service", "reachable"]

#: kind -> (environment variable, default URL)
SERVICES: dict[str, tuple[str, str]] = {
    "redis": ("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "amqp": ("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "postgres": ("AIRLOCK_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
}

_DEFAULT_PORTS = {"redis": 6379, "amqp": 5672, "postgres": 5432}


def service_url(kind: str) -> str:
    """The URL for ``kind`` ("redis", "amqp", "postgres") from its environment variable or default."""
    try:
        variable, default = SERVICES[kind]
    except KeyError:
        raise ValueError(f"unknown service {kind!r}; known: {', '.join(SERVICES)}") from None
    return os.environ.get(variable) or default


def reachable(url: str, default_port: int, timeout: float = 2.0) -> str | None:
    """None if a TCP connection to the URL's host and port succeeds, else the reason."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc})"


def require_service(kind: str) -> str:
    """The service's URL; skip the calling test if unreachable (fail under CI=true)."""
    import pytest

    url = service_url(kind)
    problem = reachable(url, _DEFAULT_PORTS[kind])
    if problem is not None:
        variable = SERVICES[kind][0]
        message = f"{kind} service needed: {problem}; set {variable} to point at one"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: a missing service fails the run)")
        pytest.skip(message)
    return url
