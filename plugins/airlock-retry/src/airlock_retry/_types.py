"""Turn what users write for ``retry_on`` into a tuple of exception classes."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module
from typing import Any

__all__ = ["ExceptionSpec", "exception_types"]

#: One retryable type: the class itself, a builtin's name (``"TimeoutError"``)
#: or a dotted path (``"redis.ConnectionError"``).
ExceptionSpec = type[BaseException] | str


def exception_types(spec: ExceptionSpec | Iterable[ExceptionSpec]) -> tuple[type[BaseException], ...]:
    """The exception classes ``spec`` names, imported now.

    Raises ``ValueError`` (naming the entry and what is accepted) when an
    entry is neither an exception class nor the importable name of one.
    """
    if isinstance(spec, (str, type)):
        spec = (spec,)
    try:
        entries = tuple(spec)
    except TypeError:
        raise ValueError(
            f"expected an exception class, a dotted path such as 'redis.ConnectionError', "
            f"or a list of those; got {spec!r}"
        ) from None
    if not entries:
        raise ValueError("expected at least one exception type; set retry_attempts=1 to disable retries instead")
    return tuple(_resolve(entry) for entry in entries)


def _resolve(entry: Any) -> type[BaseException]:
    if isinstance(entry, str):
        return _import(entry)
    if isinstance(entry, type) and issubclass(entry, BaseException):
        return entry
    raise ValueError(f"{entry!r} is not an exception class or the dotted path of one")


@lru_cache(maxsize=64)
def _import(path: str) -> type[BaseException]:
    module_name, _, attr = path.rpartition(".")
    if module_name:
        try:
            found = getattr(import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import {path!r} ({type(exc).__name__}: {exc})") from None
    else:
        found = getattr(builtins, attr, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise ValueError(
            f"{path!r} does not name an exception class; use a builtin name such as 'TimeoutError' "
            "or a dotted path such as 'redis.ConnectionError'"
        )
    return found
