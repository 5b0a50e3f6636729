"""Setups for documentation examples that need an application around them.

A block preceded by ``<!-- test: with NAME -->`` is run by the setup module
``docs_support.<NAME with - as _>``, in a fresh interpreter of its own, by
that module's ``run(code, path, line)``. A setup prepares what the example
assumes (a Celery app on the test Redis, a Django project on SQLite, ...),
runs the block, then checks what the block claims actually happened (a real
worker ran what it published, a commit preceded each side effect, ...), and
raises if not. ``SERVICES`` lists the services it needs, by the names of
:func:`airlock.testing.require_service`; the docs test requires them before
starting the interpreter, so a missing service skips the block, or fails it
under ``CI=true``.

The reader's application that examples import (``from myapp.tasks import
send_email``) is the package ``myapp`` in ``readers_app/``: small stand-ins
with the names the examples use, which record every run in
``myapp.tasks.OUTBOX``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The folder holding the ``myapp`` package; put on ``sys.path`` with this package's parent.
READERS_APP = Path(__file__).resolve().parent / "readers_app"
#: Seconds a setup waits at most for a worker to do what it expects.
WAIT = 20.0


def execute(code: str, path: str, line: int, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``code`` as a script, compiled at ``path:line`` so a traceback points into the page."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    exec(compile("\n" * (line - 1) + code, path, "exec"), namespace)
    return namespace


def wait_until(done: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Return once ``done()`` is true; ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.02)
