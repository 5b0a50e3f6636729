"""Fast callers for hook implementations, built once per plugin change.

pluggy stays the registry and the validator; these functions call the same
cached implementations directly, because a ``pm.hook.name(...)`` call costs
close to a microsecond even when nobody implements the hook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pluggy import HookImpl

Call = Callable[..., Any]


def positional(impl: HookImpl, spec_args: Sequence[str]) -> Call:
    """``impl.function`` adapted to take every spec argument positionally.

    pluggy lets an implementation accept any subset of the hook's arguments,
    by name; the adapter passes just the ones it asked for.
    """
    function = impl.function
    wanted = tuple(impl.argnames)
    if wanted == tuple(spec_args):
        return function
    index = tuple(spec_args.index(name) for name in wanted)
    if not index:
        return lambda *args: function()
    if len(index) == 1:
        (only,) = index
        return lambda *args: function(args[only])
    return lambda *args: function(*[args[i] for i in index])


def call_order(impls: Sequence[HookImpl]) -> list[HookImpl]:
    """Implementations in the order pluggy would call them (tryfirst first)."""
    return list(reversed(impls))


def first_result(calls: Sequence[Call]) -> Call:
    """Call each in turn; return the first non-None result."""
    if len(calls) == 1:
        return calls[0]

    def call(*args: Any) -> Any:
        for function in calls:
            result = function(*args)
            if result is not None:
                return result
        return None

    return call


def wrap(wrapper: Call, inner: Call, name: str) -> Call:
    """Drive a new-style (``wrapper=True``) generator implementation around ``inner``.

    Same contract as pluggy: the wrapper yields once and receives the inner
    result; an inner exception is thrown in at the ``yield``; what the
    generator returns is the result.
    """

    def call(*args: Any) -> Any:
        gen = wrapper(*args)
        try:
            next(gen)
        except StopIteration:
            raise RuntimeError(f"hook wrapper {name} did not yield") from None
        try:
            result = inner(*args)
        except BaseException as exc:
            try:
                gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            gen.close()
            raise RuntimeError(f"hook wrapper {name} has a second yield") from None
        try:
            gen.send(result)
        except StopIteration as stop:
            return stop.value
        gen.close()
        raise RuntimeError(f"hook wrapper {name} has a second yield")

    return call
