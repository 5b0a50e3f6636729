"""The hook plugin (entry point ``airlock: priority``): options and the before-flush pass.

Reads each intent's ``dispatch_options["priority"]`` (a number, higher is
more urgent), which it never consumes: backends such as Celery and Django
tasks understand ``priority`` too, and executors written for airlock-py read
it. Inert until ``priority_routes`` or ``priority_order`` is set for a scope
or globally. Runs last among ``airlock_before_flush`` implementations
(``trylast``), so coalescing has already merged the list it routes and sorts.

Routing sets the core's per-intent ``executor`` option on a copy of the
intent, so the core resolves the executor, strips consumed options, and any
``airlock_execute`` middleware (retry) receives, and re-calls, the routed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import airlock
from airlock.options import boolean

from ._routes import Routes, is_priority

if TYPE_CHECKING:
    from airlock import Intent, Option, Scope

__all__ = ["airlock_options", "airlock_before_flush", "prioritize"]

logger = logging.getLogger("airlock.priority")


def _routes_option(value: Any) -> Routes | None:
    if value is None or isinstance(value, Routes):
        return value
    return Routes(value)


def _number(value: Any) -> float:
    if not is_priority(value):
        raise ValueError("expected a number (higher is more urgent)")
    return value


@airlock.hookimpl
def airlock_options() -> Sequence[Option]:
    """``priority_routes`` and ``priority_order`` enable the plugin; ``priority_default`` shapes it."""
    scope_or_global = frozenset({"scope", "global"})
    return [
        airlock.Option(
            "priority_routes",
            None,
            "Route by dispatch_options['priority']: {lowest priority of the band: executor name}, "
            "e.g. {8: 'sync'}; intents below every band stay with the scope's executor.",
            validate=_routes_option,
            where=scope_or_global,
            enables=True,
        ),
        airlock.Option(
            "priority_order",
            False,
            "Dispatch higher priority first within a flush (stable: FIFO within equal priority).",
            validate=boolean,
            where=scope_or_global,
            enables=True,
        ),
        airlock.Option(
            "priority_default",
            0,
            "The priority of an intent whose dispatch_options carry none.",
            validate=_number,
            where=scope_or_global,
        ),
    ]


def prioritize(
    intents: Sequence[Intent],
    *,
    routes: Routes | None = None,
    order: bool = False,
    default: float = 0,
    on_route: Callable[[Intent, Intent], object] | None = None,
) -> list[Intent]:
    """``intents`` sorted by priority (if ``order``) and routed (if ``routes``).

    The sort is stable, highest first. A routed intent is a copy whose
    ``dispatch_options`` add ``executor``; an intent that already names an
    ``executor`` keeps it. A priority that is not a number is treated as
    ``default``, with a warning on logger ``airlock.priority``.
    ``on_route(original, routed_copy)`` is called for each routed intent.
    """
    priorities = [_priority_of(intent, default) for intent in intents]
    positions = range(len(intents))
    if order:
        positions = sorted(positions, key=lambda index: -priorities[index])  # type: ignore[assignment]
    if routes is None:
        return [intents[index] for index in positions]
    result = []
    for index in positions:
        intent = intents[index]
        target = routes.executor_for(priorities[index])
        opts = intent[4]
        if target is not None and not (opts and "executor" in opts):
            routed = intent.replace(dispatch_options={**(opts or {}), "executor": target})
            if on_route is not None:
                on_route(intent, routed)
            intent = routed
        result.append(intent)
    return result


def _priority_of(intent: Intent, default: float) -> float:
    opts = intent[4]
    if not opts or "priority" not in opts:
        return default
    value = opts["priority"]
    if is_priority(value):
        return value
    logger.warning("airlock: %r has a priority that is not a number (%r); using %r", intent, value, default)
    return default


@airlock.hookimpl(trylast=True)
def airlock_before_flush(scope: Scope, intents: list[Intent]) -> list[Intent] | None:
    """Sort and route per the scope's options; None when neither is on."""
    routes = scope.option("priority_routes")
    order = scope.option("priority_order")
    if routes is None and not order:
        return None
    # A routed intent is a copy: recorded as replacing the original, so the report
    # does not count the original as removed and fate_of(original) follows the copy.
    report = scope.report
    on_route = None if report is None else report.record_replaced
    return prioritize(intents, routes=routes, order=order, default=scope.option("priority_default"), on_route=on_route)
