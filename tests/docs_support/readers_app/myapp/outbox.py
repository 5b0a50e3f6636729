"""Where the stand-in tasks record each run, for the docs setups to check."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple


class Run(NamedTuple):
    """One run of a stand-in task: its name, arguments, and whether a database transaction was open."""

    task: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    in_transaction: bool


#: Every run, in order (tasks may run in a worker thread).
OUTBOX: list[Run] = []
_lock = threading.Lock()


def record(task: str, *args: Any, **kwargs: Any) -> None:
    with _lock:
        OUTBOX.append(Run(task, args, kwargs, _in_transaction()))


def _in_transaction() -> bool:
    """True inside ``atomic()`` on this thread's default connection, when Django is configured."""
    from django.conf import settings

    if not settings.configured:
        return False
    from django.db import connection

    return connection.in_atomic_block
