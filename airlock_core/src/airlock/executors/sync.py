"""The ``sync`` executor: call the task now, in this thread."""

from __future__ import annotations

from typing import Any

from ..intent import Intent

__all__ = ["sync_executor"]


def sync_executor(intent: Intent) -> Any:
    """Call ``intent.task(*intent.args, **intent.kwargs)``; dispatch options are ignored.

    The default executor. Returns what the task returns.
    """
    # Indexing the record directly keeps this the cheapest possible call.
    return intent[0](*intent[1], **intent[2])
