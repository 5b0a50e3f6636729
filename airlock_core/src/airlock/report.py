"""``FlushReport``: what happened to every intent of a finished scope."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from operator import ne
from typing import TYPE_CHECKING, Any, NamedTuple

from .intent import Buffered, Intent, promote, same_call

if TYPE_CHECKING:
    from .scope import Scope

__all__ = ["FlushReport", "Fate"]

#: Held while a report pairs up the merges recorded by position (rare: once per report read).
_PAIRING = threading.Lock()


class Fate(NamedTuple):
    """One intent's fate: ``status`` and the detail that goes with it.

    ``status`` is one of ``dispatched``, ``failed`` (detail: the exception),
    ``not_attempted``, ``dropped`` (detail: the policy), ``discarded``,
    ``captured`` (detail: the ancestor scope that took it), ``merged``
    (detail: the intent it was merged into) or ``removed`` (detail: the
    plugin whose ``airlock_before_flush`` left it out).
    """

    intent: Intent
    status: str
    detail: Any = None


class FlushReport:
    """Every intent's fate in one finished scope, flushed or discarded.

    Lists are in dispatch (FIFO) order. ``failed`` holds ``(intent,
    exception)`` pairs, ``dropped`` ``(intent, policy)``, ``captured``
    ``(intent, ancestor_scope)``, ``merged`` ``(intent, kept_intent)`` and
    ``removed`` ``(intent, plugin_name)``. Middleware add per-intent
    attempts with :meth:`record_attempt`.

    A report is *complete* once every dispatch it covers has finished. For
    most executors that is the end of ``flush()``; an executor that runs work
    later (``threads``) holds the report open with :meth:`hold` and the
    ``airlock_after_flush`` hook fires when the last held dispatch is done.
    """

    __slots__ = (
        "_scope",
        "outcome",
        "_dispatched",
        "failed",
        "_not_attempted",
        "dropped",
        "discarded",
        "captured",
        "_merged",
        "_merged_later",
        "removed",
        "_replaced",
        "_attempts",
        "_holds",
        "_late_failures",
        "_lock",
        "_on_complete",
        "_finished",
        "complete",
    )

    def __init__(self, scope: Scope, outcome: str) -> None:
        # A weak reference: the scope holds its report, and a cycle would leave
        # every flushed scope to the garbage collector.
        self._scope = weakref.ref(scope)
        #: ``"flushed"`` or ``"discarded"``.
        self.outcome = outcome
        # May hold the buffer's plain tuples until read (see intent.as_intent).
        self._dispatched: list[Intent] = []
        self.failed: list[tuple[Intent, BaseException]] = []
        self._not_attempted: list[Intent] = []
        self.dropped: list[tuple[Intent, Any]] = []
        self.discarded: list[Intent] = []
        self.captured: list[tuple[Intent, Scope]] = []
        self._merged: list[tuple[Intent, Intent]] = []
        # Merges recorded by position (record_merged_at), paired up when read:
        # (index in _merged, the flush's list, into, how many).
        self._merged_later: list[tuple[int, list[Any], Sequence[int], int]] = []
        self.removed: list[tuple[Intent, str]] = []
        self._replaced: dict[int, Intent] = {}
        self._attempts: dict[int, tuple[Intent, list[BaseException]]] | None = None
        self._holds = 0
        self._late_failures: list[tuple[Intent, BaseException]] = []
        self._lock: threading.Lock | None = None
        self._on_complete: Callable[[FlushReport], None] | None = None
        self._finished = False  # dispatch returned; the last release completes the report
        #: True once every dispatch has finished and after-flush hooks ran.
        self.complete = False

    @property
    def scope(self) -> Scope | None:
        """The scope this report is about (None once that scope was garbage-collected)."""
        return self._scope()

    @property
    def dispatched(self) -> list[Intent]:
        """Intents handed to their executor without error, FIFO (the report's own list)."""
        return promote(self._dispatched)

    @dispatched.setter
    def dispatched(self, intents: list[Intent]) -> None:
        self._dispatched = intents

    @property
    def merged(self) -> list[tuple[Intent, Intent]]:
        """``(intent, kept_intent)`` for each intent merged into another, FIFO (the report's own list)."""
        if self._merged_later:
            with _PAIRING:  # once, even if two threads read it at the same time
                if self._merged_later:
                    self._pair_merged_later()
        return self._merged

    @merged.setter
    def merged(self, pairs: list[tuple[Intent, Intent]]) -> None:
        self._merged_later.clear()
        self._merged = pairs

    def _pair_merged_later(self) -> None:
        """Turn the merges recorded by position into pairs of Intents, in recording order."""
        merged = self._merged
        for at, items, into, _ in reversed(self._merged_later):  # back to front: earlier indexes stay valid
            promote(items)
            was_merged = list(map(ne, into, range(len(into))))
            kept = map(items.__getitem__, compress(into, was_merged))
            merged[at:at] = zip(compress(items, was_merged), kept, strict=True)
        self._merged_later.clear()

    def _merged_count(self) -> int:
        """``len(self.merged)`` without pairing the merges recorded by position."""
        return len(self._merged) + sum(entry[3] for entry in self._merged_later)

    @property
    def not_attempted(self) -> list[Intent]:
        """Intents never handed to an executor: an earlier one failed, or the
        flush raised before dispatch (a policy, plugin hook or ancestor)."""
        return promote(self._not_attempted)

    @not_attempted.setter
    def not_attempted(self, intents: list[Intent]) -> None:
        self._not_attempted = intents

    # -- queries ---------------------------------------------------------
    def fates(self) -> Iterator[Fate]:
        """Every intent's fate, grouped by status."""
        for intent in self.dispatched:
            yield Fate(intent, "dispatched")
        for intent, exc in self.failed:
            yield Fate(intent, "failed", exc)
        for intent in self.not_attempted:
            yield Fate(intent, "not_attempted")
        for intent, policy in self.dropped:
            yield Fate(intent, "dropped", policy)
        for intent in self.discarded:
            yield Fate(intent, "discarded")
        for intent, ancestor in self.captured:
            yield Fate(intent, "captured", ancestor)
        for intent, kept in self.merged:
            yield Fate(intent, "merged", kept)
        for intent, plugin in self.removed:
            yield Fate(intent, "removed", plugin)

    def fate_of(self, intent: Intent) -> Fate | None:
        """The fate of this very intent object, or None if the report lacks it.

        An intent a plugin replaced (``record_replaced``) has its copy's fate.
        """
        while id(intent) in self._replaced:
            intent = self._replaced[id(intent)]
        for fate in self.fates():
            if fate.intent is intent:
                return fate
        return None

    def attempts(self, intent: Intent) -> list[BaseException]:
        """Exceptions of the failed attempts recorded for this intent, oldest first.

        Like :meth:`fate_of`, it follows a plugin's copy (``record_replaced``),
        and finds attempts recorded against a copy an executor received
        (consumed options stripped: same task, args and kwargs objects).
        """
        attempts = self._attempts
        if attempts is None:
            return []
        entry = attempts.get(id(intent))
        while entry is None and id(intent) in self._replaced:
            intent = self._replaced[id(intent)]
            entry = attempts.get(id(intent))
        if entry is None:
            same = (id(intent[0]), id(intent[1]), id(intent[2]))
            entry = next((e for e in attempts.values() if (id(e[0][0]), id(e[0][1]), id(e[0][2])) == same), None)
        return list(entry[1]) if entry else []

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was left unattempted."""
        return not self.failed and not self.not_attempted

    # -- recording (for the core, executors and middleware) --------------
    def record_attempt(self, intent: Intent, error: BaseException) -> None:
        """Record one failed attempt at dispatching ``intent`` (retry middleware)."""
        if self._attempts is None:
            self._attempts = {}
        self._attempts.setdefault(id(intent), (intent, []))[1].append(error)

    def record_merged(self, intent: Intent, into: Intent) -> None:
        """Record that ``intent`` was merged into ``into`` (coalescing middleware)."""
        self.merged.append((intent, into))

    def record_merged_at(self, intents: Buffered | list[Intent], kept: Sequence[int], into: Sequence[int]) -> None:
        """Record merges by position, without building an Intent for each merged one.

        ``kept`` lists the positions in ``intents`` of the intents kept;
        ``into[p]`` is the position of the kept intent that ``intents[p]``
        was merged into, or ``p`` itself when it was kept. ``merged`` pairs
        them up, in position order, when first read. The flush's list must
        not change afterwards (the core never changes it).
        """
        if len(into) != len(intents):
            raise ValueError(f"record_merged_at: {len(into)} positions for {len(intents)} intents")
        count = len(into) - len(kept)
        if count:
            items = intents.items if isinstance(intents, Buffered) else intents
            self._merged_later.append((len(self._merged), items, into, count))

    def record_undelivered(self, intents: Iterable[Intent], error: BaseException) -> None:
        """Move ``intents`` from dispatched to failed with ``error``: a batching
        executor accepted them but could not deliver them.

        An intent matches itself or a copy derived from it (the executor may
        have received a copy with plugin options stripped: same task, args
        and kwargs objects).
        """
        lost = list(intents)
        if not lost:
            return
        ids = {id(i) for i in lost}
        derived = {(id(i[0]), id(i[1]), id(i[2])) for i in lost}
        dispatched = self.dispatched
        kept = []
        for item in dispatched:
            if id(item) in ids or (id(item[0]), id(item[1]), id(item[2])) in derived:
                self.failed.append((item, error))
            else:
                kept.append(item)
        dispatched[:] = kept

    def record_merged_many(self, pairs: Iterable[tuple[Intent, Intent]]) -> None:
        """``record_merged`` for many ``(intent, into)`` pairs at once."""
        self.merged.extend(pairs)

    def record_replaced(self, intent: Intent, by: Intent) -> None:
        """Record that a plugin replaced ``intent`` with a derived copy ``by``
        (e.g. routing added dispatch options): ``fate_of(intent)`` follows it."""
        self._replaced[id(intent)] = by

    def hold(self) -> Callable[[Intent, BaseException | None], None]:
        """Keep the report open until the returned ``release`` is called.

        ``release(intent, error)`` marks a later failure of an intent that was
        counted as dispatched (``error`` not None) and, for the last hold,
        completes the report. Thread-safe.
        """
        if self._lock is None:
            self._lock = threading.Lock()
        with self._lock:
            self._holds += 1
        released = False

        def release(intent: Intent, error: BaseException | None = None) -> None:
            nonlocal released
            assert self._lock is not None
            with self._lock:
                if released:
                    raise RuntimeError("FlushReport.hold(): release called twice")
                released = True
                if error is not None:
                    self._late_failures.append((intent, error))
                self._holds -= 1
                fire = self._holds == 0 and self._finished
            if fire:
                self._complete()

        return release

    def _finish(self, on_complete: Callable[[FlushReport], None] | None) -> None:
        """Called by the core when dispatch returns; completes unless held."""
        if self._lock is None:
            self._on_complete = on_complete
            self._finished = True
            self._complete()
            return
        with self._lock:
            self._on_complete = on_complete
            self._finished = True
            fire = self._holds == 0
        if fire:
            self._complete()

    def _complete(self) -> None:
        for intent, error in self._late_failures:
            original = _remove_identity(self.dispatched, intent)
            self.failed.append((original or intent, error))
        self._late_failures.clear()
        callback, self._on_complete = self._on_complete, None
        self.complete = True
        if callback is not None:
            callback(self)

    def summary(self) -> str:
        """One line: how many intents met each fate."""
        counts = {}
        for fate in self.fates():
            counts[fate.status] = counts.get(fate.status, 0) + 1
        body = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no intents"
        return f"{self.outcome}: {body}"

    def __repr__(self) -> str:
        return f"<FlushReport {self.summary()}>"


def _remove_identity(items: list[Intent], intent: Intent) -> Intent | None:
    """Remove ``intent`` itself, or else a copy derived from it (:func:`same_call`)."""
    for index, item in enumerate(items):
        if item is intent:
            del items[index]
            return item
    for index, item in enumerate(items):
        if same_call(item, intent):
            del items[index]
            return item
    return None
