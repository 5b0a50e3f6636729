"""airlock-priority: route intents to executors by priority band; dispatch urgent ones first.

High priority runs inline, the rest goes to Celery::

    airlock.configure(executor="celery", priority_routes={8: "sync"}, priority_order=True)
    airlock.enqueue(charge_card, order.id, _dispatch_options={"priority": 9})   # inline, first
    airlock.enqueue(send_receipt, order.id)                                     # Celery
"""

from __future__ import annotations

from ._routes import Routes
from .plugin import prioritize

__all__ = ["Routes", "prioritize"]
