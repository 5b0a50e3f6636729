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

__all__ = ["NOT_LOOKED_UP", "ThreadConnection", "thread_connection", "thread_state"]


class _NotLookedUp:
    """Stands for a connection this thread has not looked up yet.

    It claims to be inside a transaction, so a ``DjangoScope`` enqueue guard
    reading it sends the intent through ``_add()``, which looks it up.
    """

    in_atomic_block = True


NOT_LOOKED_UP = _NotLookedUp()


class ThreadConnection(threading.local):
    """One alias's connection in each synchronous thread, once looked up.

    ``connection`` is this thread's connection object, or a stand-in whose
    ``in_atomic_block`` is True until :func:`thread_connection` looked it up
    here (it never does inside a running event loop).
    """

    connection: Any = NOT_LOOKED_UP


_states: dict[str, ThreadConnection] = {}


def thread_state(alias: str) -> ThreadConnection:
    """The :class:`ThreadConnection` of ``alias`` (one object for all threads).

    Asked inside a running event loop, it first forgets the connection this
    thread remembered before the loop started: there Django's connection
    follows the task, so the remembered one no longer answers for it.
    """
    state = _states.get(alias) or _state_of(alias)
    if _get_running_loop() is not None and "connection" in state.__dict__:
        del state.connection
    return state


def _state_of(alias: str) -> ThreadConnection:
    """Made on the first ask for ``alias``; ``setdefault`` keeps one per alias across threads."""
    return _states.setdefault(alias, ThreadConnection())


def thread_connection(alias: str) -> Any:
    """``transaction.get_connection(alias)``, remembered per synchronous thread.

    Like Django's, the remembered object is the thread's for its lifetime;
    code that replaces a thread's connection object (``del connections[alias]``)
    is not followed.
    """
    if _get_running_loop() is not None:
        return transaction.get_connection(alias)
    state = _states.get(alias) or _state_of(alias)  # thread_state() minus its loop check, just made
    connection = state.connection
    if connection is NOT_LOOKED_UP:
        connection = state.connection = transaction.get_connection(alias)
    return connection
