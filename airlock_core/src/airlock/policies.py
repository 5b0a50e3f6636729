"""Policies: per-intent yes/no gates. They filter; they never reorder."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from .errors import PolicyViolation
from .intent import Intent

__all__ = ["Policy", "AllowAll", "DropAll", "AssertNoEffects", "BlockTasks", "LogOnFlush"]


@runtime_checkable
class Policy(Protocol):
    """What a policy implements.

    ``on_enqueue(intent)`` runs when an intent is enqueued: observe it, or
    raise (``PolicyViolation``) to reject it, and it is not buffered.
    ``allows(intent)`` runs at flush: False drops the intent (the flush report
    records which policy dropped it). Neither may call ``airlock.enqueue``.
    """

    def on_enqueue(self, intent: Intent) -> None: ...

    def allows(self, intent: Intent) -> bool: ...


def check_policy(policy: object, where: str, needs: tuple[str, ...] = ("on_enqueue", "allows")) -> None:
    """Raise ``TypeError`` at ``where`` unless ``policy`` is an instance with
    the methods ``needs`` (a local policy, ``airlock.policy(p)``, is only asked ``allows``)."""
    if isinstance(policy, type):
        raise TypeError(f"{where} got the class {policy.__name__}; pass an instance: {policy.__name__}().")
    if not all(callable(getattr(policy, method, None)) for method in needs):
        methods = " and ".join(f"{method}(intent)" for method in needs)
        raise TypeError(
            f"{where} needs a policy (an object with {methods}, e.g. airlock.BlockTasks(...)), got {policy!r}."
        )


class AllowAll:
    """Every intent escapes. The default policy."""

    def on_enqueue(self, intent: Intent) -> None:
        pass

    def allows(self, intent: Intent) -> bool:
        return True

    def __repr__(self) -> str:
        return "AllowAll()"


class DropAll:
    """Nothing escapes; intents are still buffered and inspectable."""

    def on_enqueue(self, intent: Intent) -> None:
        pass

    def allows(self, intent: Intent) -> bool:
        return False

    def __repr__(self) -> str:
        return "DropAll()"


class AssertNoEffects:
    """Any enqueue raises ``PolicyViolation`` naming the task."""

    def on_enqueue(self, intent: Intent) -> None:
        raise PolicyViolation(f"Unexpected side effect: {intent.name}. No side effects are allowed in this scope.")

    def allows(self, intent: Intent) -> bool:
        return False

    def __repr__(self) -> str:
        return "AssertNoEffects()"


class BlockTasks:
    """Drops intents whose ``name`` is in ``names``.

    With ``raise_on_enqueue=True`` a blocked task raises ``PolicyViolation``
    at enqueue instead of being dropped at flush.
    """

    def __init__(self, names: Iterable[str], *, raise_on_enqueue: bool = False) -> None:
        if isinstance(names, str):
            raise TypeError(
                f"BlockTasks expects a collection of task names, got the string {names!r}; "
                f"write BlockTasks({{{names!r}}})."
            )
        self._blocked = frozenset(names)
        self._raise_on_enqueue = raise_on_enqueue

    def on_enqueue(self, intent: Intent) -> None:
        if self._raise_on_enqueue and intent.name in self._blocked:
            raise PolicyViolation(f"Task '{intent.name}' is blocked and cannot be enqueued.")

    def allows(self, intent: Intent) -> bool:
        return intent.name not in self._blocked

    def __repr__(self) -> str:
        flag = ", raise_on_enqueue=True" if self._raise_on_enqueue else ""
        return f"BlockTasks({set(self._blocked)!r}{flag})"


class LogOnFlush:
    """Allows everything and logs each intent at flush (logger ``airlock``)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("airlock")

    def on_enqueue(self, intent: Intent) -> None:
        pass

    def allows(self, intent: Intent) -> bool:
        self._logger.info("Flushing intent: %s(args=%r, kwargs=%r)", intent.name, intent.args, intent.kwargs)
        return True

    def __repr__(self) -> str:
        return f"LogOnFlush(logger={self._logger.name!r})"
