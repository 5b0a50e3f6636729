"""The ``argsrepr``/``kwargsrepr`` of a task message, made quickly for plain arguments.

Every Celery task message carries a text form of its arguments for logs and
monitoring (Flower, ``celery events``). Celery makes it with its own
``saferepr``, a streaming, truncating formatter that costs about a tenth of
a batched publish. For the arguments most tasks take (ids, names, flags:
a flat tuple of ``int``, ``float``, ``bool``, ``None`` and ``str``, keyword
arguments likewise), the text is simple to write directly, so a flush
passes it to ``apply_async`` as the ``argsrepr``/``kwargsrepr`` options that
Celery documents, and Celery skips ``saferepr``.

The text must be exactly what Celery would have written: a test compares
this module with ``celery.utils.saferepr`` value by value. Anything else
(containers, other types, subclasses of these, a text that would reach
Celery's size limit and be truncated) gives None: Celery then writes it
itself, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ArgumentReprs", "argument_reprs"]

#: Options that, given by the intent, are the caller's own text: left alone.
_REPR_OPTIONS = frozenset({"argsrepr", "kwargsrepr"})


def _text(value: str) -> str:
    """How ``saferepr`` quotes a string it does not truncate."""
    return "'" + value.replace("'", "\\'") + "'"


#: Per exact type, how ``saferepr`` writes a value of it; bool and int are
#: numbers to it (``str()``), None is written with ``repr()``.
_WRITERS: dict[type, Callable[[Any], str]] = {int: str, float: str, bool: str, type(None): repr, str: _text}


def argument_reprs(app: Any) -> ArgumentReprs | None:
    """The writer for ``app``'s messages, or None where Celery would not use
    the text as ``saferepr`` writes it here: task protocol 1 (no such
    field), an ``amqp`` class that makes its own messages, or a
    ``task_repr_maxlevels`` that hides even the outer tuple."""
    from celery.app.amqp import AMQP
    from celery.app.task import Task

    amqp = app.amqp
    if getattr(amqp.create_task_message, "__func__", None) is not AMQP.as_task_v2:
        return None  # protocol 1, or an as_task_v2 (or create_task_message) of the app's own
    levels = app.conf.task_repr_maxlevels
    if levels and not (isinstance(levels, int) and levels > 0):
        return None
    return ArgumentReprs(amqp.argsrepr_maxsize, amqp.kwargsrepr_maxsize, Task.apply_async)


class ArgumentReprs:
    """Writes ``argsrepr`` and ``kwargsrepr`` for one Celery app's messages.

    :param args_limit: the app's ``amqp.argsrepr_maxsize``: a text this
        long or longer is left to Celery, which truncates it.
    :param kwargs_limit: the app's ``amqp.kwargsrepr_maxsize``, likewise.
    :param apply_async: Celery's own ``Task.apply_async``: a task class that
        overrides it may change the arguments on their way, so its
        messages are left to Celery.
    """

    __slots__ = ("args_limit", "kwargs_limit", "apply_async")

    def __init__(self, args_limit: int, kwargs_limit: int, apply_async: Callable[..., Any]) -> None:
        self.args_limit = args_limit
        self.kwargs_limit = kwargs_limit
        self.apply_async = apply_async

    def options_for(
        self, apply_async: Any, args: tuple[Any, ...], kwargs: dict[str, Any], options: Mapping[str, Any] | None
    ) -> dict[str, str] | None:
        """The text options for calling ``apply_async`` (a task's bound method)
        with these arguments and dispatch options, or None: a canvas's or a
        task class's own ``apply_async``, options that bring their own text,
        arguments that are not plain."""
        if getattr(apply_async, "__func__", None) is not self.apply_async or (
            options and not _REPR_OPTIONS.isdisjoint(options)
        ):
            return None
        return self.options(args, kwargs)

    def options(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str] | None:
        """``{"argsrepr": ..., "kwargsrepr": ...}`` as Celery would write them, or None."""
        try:
            args_text = self.args(args)
            kwargs_text = self.kwargs(kwargs) if args_text is not None else None
        except ValueError:  # str() of an int too long to convert: Celery raises it itself
            return None
        if kwargs_text is None:
            return None
        return {"argsrepr": args_text, "kwargsrepr": kwargs_text}

    def args(self, args: tuple[Any, ...]) -> str | None:
        """The positional arguments' text, or None when they are not plain."""
        if type(args) is not tuple:
            return None
        parts = []
        for value in args:
            writer = _WRITERS.get(type(value))
            if writer is None:
                return None
            parts.append(writer(value))
        text = "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
        return text if len(text) < self.args_limit else None

    def kwargs(self, kwargs: dict[str, Any]) -> str | None:
        """The keyword arguments' text, or None when they are not plain."""
        if type(kwargs) is not dict:
            return None
        parts = []
        for name, value in kwargs.items():
            writer = _WRITERS.get(type(value))
            if writer is None or type(name) is not str:
                return None
            parts.append(_text(name) + ": " + writer(value))
        text = "{" + ", ".join(parts) + "}"
        return text if len(text) < self.kwargs_limit else None
