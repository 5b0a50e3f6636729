"""The ``sync`` executor: call the task now, in this thread."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from ..intent import Intent

__all__ = ["refuse_awaitable", "sync_executor"]


def sync_executor(intent: Intent) -> Any:
    """Call ``intent.task(*intent.args, **intent.kwargs)``; dispatch options are ignored.

    The default executor. Returns what the task returns. Raises
    ``TypeError`` if that is a coroutine (an ``async def`` task), which
    nothing here would ever run (see :func:`refuse_awaitable`).
    """
    # Indexing the record directly keeps this the cheapest possible call.
    result = intent[0](*intent[1], **intent[2])
    if result is not None:
        refuse_awaitable(result, intent[0], "sync")
    return result


def refuse_awaitable(result: Any, task: Any, executor: str) -> None:
    """Raise ``TypeError`` if ``result``, what calling ``task`` returned, is awaitable.

    An ``async def`` task called by an executor that does not await it only
    makes a coroutine: its body never runs. Reporting that call dispatched
    would lose the side effect silently, so it fails instead (the coroutine
    is closed, so Python does not also warn that it was never awaited).
    """
    if not isinstance(result, Awaitable):  # coroutines, asyncio futures, anything with __await__
        return
    close = getattr(result, "close", None)
    if close is not None:
        close()
    name = getattr(task, "__qualname__", None) or repr(task)
    raise TypeError(
        f"{name} returned {type(result).__name__} {result!r}: it is an async function, and the {executor} "
        "executor calls tasks without awaiting them, so its body did not run. Enqueue a synchronous function "
        "(one that calls asyncio.run(...), or your task queue's task), or an executor that awaits coroutines."
    )
