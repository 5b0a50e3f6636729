"""Tasks the test project enqueues; each records what it saw."""

from __future__ import annotations

import sqlite3

from django.db import connections

#: (name, whether a separate connection saw the committed Thing row), in run order.
RESULTS: list[tuple[str, bool]] = []


class DispatchBroke(RuntimeError):
    """Raised by :func:`broken` to fail one dispatch."""


def committed_row_exists(alias: str, name: str) -> bool:
    """Whether a NEW database connection (not Django's) sees Thing ``name``.

    It sees only committed data, so True proves the transaction committed.
    """
    params = connections[alias].settings_dict
    query = "SELECT 1 FROM airlock_django_testproject_thing WHERE name = "
    if connections[alias].vendor == "sqlite":
        with sqlite3.connect(params["NAME"], timeout=5) as conn:
            return conn.execute(query + "?", (name,)).fetchone() is not None
    import psycopg

    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        connect_timeout=5,
    ) as conn:
        return conn.execute(query + "%s", (name,)).fetchone() is not None


def record_visible(alias: str, name: str) -> None:
    """Record whether Thing ``name`` is committed, seen from a separate connection."""
    RESULTS.append((name, committed_row_exists(alias, name)))


def note(name: str) -> None:
    """Record that it ran (no database involved)."""
    RESULTS.append((name, True))


def broken(name: str) -> None:
    raise DispatchBroke(f"dispatch of {name} failed")
