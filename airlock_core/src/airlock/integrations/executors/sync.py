"""``sync_executor``: call the task in this thread (airlock-core)."""

from airlock.executors.sync import sync_executor

__all__ = ["sync_executor"]
