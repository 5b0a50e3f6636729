"""airlock-coalesce: within one flush, merge intents that would do the same thing.

A loop saving 10,000 orders enqueues 10,000 identical "rebuild the cache"
intents; with ``coalesce=True`` the flush dispatches one per distinct key and
the report says how many were merged into which::

    with airlock.scope(coalesce=True) as scope:
        for order in orders:
            airlock.enqueue(rebuild_cache, order.shop_id)
    merge_counts(scope.report)   # [(rebuild_cache(1), 4999), (rebuild_cache(2), 4999)]
"""

from __future__ import annotations

from ._coalesce import coalesce, group, merge_counts
from ._keys import Groups, KeyFunction, default_key
from .plugin import key_function

__all__ = ["Groups", "KeyFunction", "coalesce", "default_key", "group", "key_function", "merge_counts"]
