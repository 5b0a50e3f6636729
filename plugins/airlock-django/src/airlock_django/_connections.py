"""This thread's database connection, without paying Django's lookup per request.

``transaction.get_connection(alias)`` goes through asgiref's ``Local``, which
asks ``asyncio`` for a running loop (an exception in synchronous code) on
every call: about ten times the cost of the rest of an empty ``DjangoScope``.
In a synchronous thread Django keeps one connection object per alias for the
thread's whole life (asgiref's thread-critical ``Local`` is then a plain
``threading.local``), so remembering it in our own ``threading.local`` gives
the same object. Inside a running event loop Django's storage follows the
task, not the thread, so there we always ask Django.
"""

from __future__ import annotations

import threading
from asyncio import _get_running_loop
from typing import Any

from django.db import transaction

__all__ = ["thread_connection"]

_remembered = threading.local()


def thread_connection(alias: str) -> Any:
    """``transaction.get_connection(alias)``, remembered per synchronous thread.

    Like Django's, the remembered object is the thread's for its lifetime;
    code that replaces a thread's connection object (``del connections[alias]``)
    is not followed.
    """
    if _get_running_loop() is not None:
        return transaction.get_connection(alias)
    try:
        return _remembered.by_alias[alias]
    except AttributeError:
        _remembered.by_alias = {}
    except KeyError:
        pass
    connection = _remembered.by_alias[alias] = transaction.get_connection(alias)
    return connection
