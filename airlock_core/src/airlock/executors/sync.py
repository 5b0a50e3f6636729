"""The ``sync`` executor: call the task now, in this thread."""

from __future__ import annotations

from types import CoroutineType
from typing import Any

from ..intent import Intent

__all__ = ["refuse_coroutine", "sync_executor"]


def sync_executor(intent: Intent) -> Any:
    """Call ``intent.task(*intent.args, **intent.kwargs)``; dispatch options are ignored.

    The default executor. Returns what the task returns. Raises
    ``TypeError`` if that is a coroutine (an ``async def`` task), which
    nothing here would ever run (see :func:`refuse_coroutine`).
    """
    # Indexing the record directly keeps this the cheapest possible call.
    result = intent[0](*intent[1], **intent[2])
    if type(result) is CoroutineType:
        refuse_coroutine(result, intent[0], "sync")
    return result


def refuse_coroutine(coroutine: CoroutineType[Any, Any, Any], task: Any, executor: str) -> None:
    """Raise ``TypeError`` for ``coroutine``, what calling ``task`` returned.

    An ``async def`` task called by an executor that does not await it only
    makes a coroutine: its body never runs. Reporting that call dispatched
    would lose the side effect silently, so it fails instead (the coroutine
    is closed, so Python does not also warn that it was never awaited).
    Other awaitables (an ``asyncio.Task`` a task started) are results like
    any other: their work runs without this executor. Callers check
    ``type(result) is CoroutineType`` first, inline: it costs nothing else.
    """
    coroutine.close()
    name = getattr(task, "__qualname__", None) or repr(task)
    raise TypeError(
        f"{name} returned a coroutine: it is an async function, and the {executor} executor calls tasks "
        "without awaiting them, so its body did not run. Enqueue a synchronous function (one that calls "
        "asyncio.run(...), or your task queue's task), or an executor that awaits coroutines."
    )
