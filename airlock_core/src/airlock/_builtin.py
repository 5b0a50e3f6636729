"""airlock-core as its own first plugin: the default hook implementations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .intent import Intent
from .markers import hookimpl
from .options import Option, boolean


@hookimpl(trylast=True)
def airlock_execute(intent: Intent, executor: Any, scope: Any) -> Any:
    """Dispatch through the chosen executor; True marks the intent handled."""
    executor(intent)
    return True


def _executor_name(value: Any) -> Any:
    if not isinstance(value, str) and not callable(value):
        raise TypeError("expected an executor name or a callable taking an Intent")
    if isinstance(value, str):
        from .executors import resolve_executor

        resolve_executor(value)
    return value


@hookimpl
def airlock_options() -> Sequence[Option]:
    """The core's own options."""
    return [
        Option(
            "fail_fast",
            True,
            "Stop a flush at the first executor error (True, the default), or dispatch "
            "the rest and raise every failure together as airlock.FlushFailed (False).",
            validate=boolean,
            where=frozenset({"scope", "global"}),
        ),
        Option(
            "executor",
            None,
            "Per intent: dispatch this intent through another executor (a name or a callable).",
            validate=_executor_name,
            where=frozenset({"intent"}),
        ),
    ]
