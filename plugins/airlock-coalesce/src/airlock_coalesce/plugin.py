"""The hook plugin (entry point ``airlock: coalesce``): options and the before-flush merge.

Inert until ``coalesce`` is True for a scope, globally, or for an intent.
Runs first among ``airlock_before_flush`` implementations (``tryfirst``),
so routing and ordering middleware see the merged list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import airlock
from airlock.options import boolean, one_of

from ._coalesce import _group
from ._keys import KeyFunction, default_key

if TYPE_CHECKING:
    from airlock import Intent, Option, Scope
    from airlock.intent import Buffered

__all__ = ["airlock_options", "airlock_before_flush", "key_function"]

logger = logging.getLogger("airlock.coalesce")

#: An intent's dispatch options (field 4), read at C speed.
_OPTIONS = itemgetter(4)


def _key_option(value: Any) -> Any:
    if value is None or callable(value):
        return value
    if isinstance(value, Mapping) and all(isinstance(k, str) and callable(f) for k, f in value.items()):
        return dict(value)
    raise ValueError(
        "expected None (task and arguments), a function taking an Intent, "
        "or a mapping {task name: function taking an Intent}"
    )


@airlock.hookimpl
def airlock_options() -> Sequence[Option]:
    """``coalesce`` enables merging; ``coalesce_keep`` and ``coalesce_key`` shape it."""
    return [
        airlock.Option(
            "coalesce",
            False,
            "Merge intents with the same key within one flush (True), per intent, scope or globally.",
            validate=boolean,
            enables=True,
        ),
        airlock.Option(
            "coalesce_keep",
            "first",
            "Which intent of a group survives: 'first' (at its place) or 'last' (at its place).",
            validate=one_of("first", "last"),
            where=frozenset({"scope", "global"}),
        ),
        airlock.Option(
            "coalesce_key",
            None,
            "What makes intents the same: None (task, arguments, dispatch options), a function of "
            "the intent, or {task name: function} for some tasks.",
            validate=_key_option,
            where=frozenset({"scope", "global"}),
        ),
    ]


def key_function(spec: KeyFunction | Mapping[str, KeyFunction] | None) -> KeyFunction:
    """The key function for a ``coalesce_key`` value.

    A custom key is combined with the task, so different tasks never merge.
    A mapping is looked up by the intent's ``name`` and then by the task's
    :attr:`~airlock.Intent.registered_name` (a Celery task's ``name``,
    ``"shop.tasks.reindex"``; a Dramatiq actor's ``actor_name``);
    tasks named by neither use :func:`default_key`.
    """
    if spec is None:
        return default_key
    if callable(spec):
        custom = spec
        return lambda intent: (intent[0], custom(intent))
    by_name = dict(spec)

    def per_task(intent: Intent) -> Any:
        custom = by_name.get(intent.name)
        if custom is None:
            registered = intent.registered_name
            custom = by_name.get(registered) if registered is not None else None
        return default_key(intent) if custom is None else (intent[0], custom(intent))

    return per_task


@airlock.hookimpl(tryfirst=True)
def airlock_before_flush(scope: Scope, buffered: Buffered) -> list[Intent] | None:
    """Merge equal-key intents among those with ``coalesce`` on; None when nothing merges.

    Works on the buffered items by position: only the kept intents become
    Intent objects, and the merges are recorded by position
    (``record_merged_at``), so a bulk flush of N intents over K keys builds
    K Intents, not N. A custom key is a function of Intents: it gets them all.
    """
    items = buffered.items
    everywhere = scope.option("coalesce")
    has_options = any(map(_OPTIONS, items))
    per_intent = has_options and any(o and "coalesce" in o for o in map(_OPTIONS, items))
    if not everywhere and not per_intent:
        return None

    def enabled(item: Any) -> bool:
        opts = item[4]
        return opts["coalesce"] if opts and "coalesce" in opts else everywhere

    key = key_function(scope.option("coalesce_key"))
    kept, into = _group(
        items if key is default_key else list(buffered),
        scope.option("coalesce_keep"),
        key,
        enabled if per_intent else None,
        has_options,
    )
    if len(kept) == len(items):
        return None
    report = scope.report
    if report is not None:
        report.record_merged_at(buffered, kept, into)
    logger.debug("airlock: coalesced %d intents into %d", len(items), len(kept))
    return buffered.at(kept)
