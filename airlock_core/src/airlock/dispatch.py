"""The dispatch loop: every intent through ``airlock_execute`` to its executor.

Kept apart from ``scope.py`` because this is the hot path: with no plugin
implementing ``airlock_execute`` and no intent carrying dispatch options, each
intent costs one call of the executor; successes are recorded as slices.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from itertools import islice
from operator import is_not
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from .errors import FlushFailed, add_note
from .executors import resolve_executor
from .executors.sync import refuse_coroutine, sync_executor
from .intent import Buffered, Intent, as_intent, described_some, promote

if TYPE_CHECKING:
    from .report import FlushReport
    from .scope import Scope

logger = logging.getLogger("airlock")

__all__ = ["abandon", "attach_report", "dispatch", "run_before_flush", "run_after_flush"]


class StrippingExecutor:
    """Calls ``executor`` with the plugin-consumed options removed from the intent."""

    __slots__ = ("executor", "consumed")

    def __init__(self, executor: Any, consumed: frozenset[str]) -> None:
        self.executor = executor
        self.consumed = consumed

    def __call__(self, intent: Intent) -> Any:
        opts = intent[4]
        if opts and not self.consumed.isdisjoint(opts):
            kept = {k: v for k, v in opts.items() if k not in self.consumed}
            intent = intent.replace(dispatch_options=kept or None)
        return self.executor(intent)

    def __getattr__(self, name: str) -> Any:  # flush_context and friends
        return getattr(self.executor, name)


def dispatch(
    scope: Scope,
    intents: Sequence[Intent],
    report: FlushReport,
    failure: tuple[int, BaseException] | None = None,
) -> None:
    """Dispatch ``intents`` in order and record each fate in ``report``.

    Fail-fast unless the scope's ``fail_fast`` option is False. The executor's
    exception propagates unchanged in type, carrying ``airlock_report``.
    ``failure`` resumes a plain sync flush that already dispatched the
    intents before position ``failure[0]``, whose task raised ``failure[1]``.
    """
    if not intents:
        run_after_flush(scope, report)
        return
    hooks = scope._hooks
    executor = scope._executor
    fail_fast = scope.option("fail_fast")
    loop = _Loop(scope, executor, hooks.execute, hooks.options.consumed, fail_fast, report)
    try:
        if failure is None:
            loop.run_in_contexts(intents)
        else:
            loop.resume_after(intents, *failure)
    except BaseException as exc:
        failed_on_exit = exc is not loop.error  # a batching context's last write
        if failed_on_exit:  # unless the error says which, none of the flush is known delivered
            report.record_undelivered(getattr(exc, "airlock_undelivered", None) or list(report.dispatched), exc)
        _failed_in_flush_order(report, intents)
        if (
            failed_on_exit
            and not fail_fast
            and isinstance(exc, Exception)
            and all(isinstance(e, Exception) for e in loop.failed)
        ):
            # The loop ran to the end: the last chunk's failure joins the others in FlushFailed.
            loop.failed.append(exc)
            _raise_failed(scope, report, loop.failed, len(intents), cause=exc)
        attach_report(exc, report)
        run_after_flush(scope, report, propagating=exc)
        raise
    failed = loop.failed  # failures an executor reports later (threads) are logged, never raised here
    if not failed:
        run_after_flush(scope, report)
        return
    _failed_in_flush_order(report, intents)
    _raise_failed(scope, report, failed, len(intents))


def _failed_in_flush_order(report: FlushReport, intents: Sequence[Any]) -> None:
    """Sort ``report.failed`` into the flush's (FIFO) order.

    A chunk that could not be delivered is moved to ``failed`` when its
    write fails, after intents later in the flush that failed on their own
    (the one whose publish found the broker gone, say). An intent matches
    its buffered item or a copy made from it (same task, args and kwargs).
    """
    failed = report.failed
    if len(failed) < 2:
        return
    by_identity: dict[int, int] = {}
    by_call: dict[tuple[int, int, int], list[int]] = {}
    for n, item in enumerate(intents):
        by_identity[id(item)] = n
        by_call.setdefault((id(item[0]), id(item[1]), id(item[2])), []).append(n)
    taken: set[int] = set()

    def place(pair: tuple[Intent, BaseException]) -> int:
        intent = pair[0]
        n = by_identity.get(id(intent))
        if n is None:  # a copy: the first place of its call not taken yet
            places = by_call.get((id(intent[0]), id(intent[1]), id(intent[2])), ())
            n = next((p for p in places if p not in taken), len(intents))
        taken.add(n)
        return n

    failed.sort(key=place)  # sort computes the keys first, in list order


def _raise_failed(
    scope: Scope, report: FlushReport, failed: list[BaseException], total: int, cause: BaseException | None = None
) -> None:
    """Complete the report and raise ``failed`` together as ``FlushFailed``."""
    error = FlushFailed(_failed_summary(report, total), failed)
    attach_report(error, report)
    run_after_flush(scope, report, propagating=error)
    if cause is None:
        raise error
    raise error from cause


class _Loop:
    """One flush's dispatch loop; remembers the error it recorded.

    Successes are not appended one by one: the dispatched list is filled
    from slices of ``intents`` between failures, once the loop ends.
    """

    __slots__ = (
        "scope",
        "executor",
        "execute",
        "consumed",
        "fail_fast",
        "report",
        "error",
        "contexts",
        "failed",
        "_entered",
        "_done_upto",
        "_direct",
    )

    def __init__(
        self,
        scope: Scope,
        executor: Any,
        execute: Callable[..., Any] | None,
        consumed: frozenset[str],
        fail_fast: bool,
        report: FlushReport,
    ) -> None:
        self.scope = scope
        self.executor = executor
        self.execute = execute
        self.consumed = consumed
        self.fail_fast = fail_fast
        self.report = report
        self.error: BaseException | None = None
        #: Where the flush contexts of the executors used in this flush are entered.
        self.contexts: ExitStack | None = None
        #: The exceptions this loop recorded, in order (fail_fast=False raises them together).
        self.failed: list[BaseException] = []
        self._entered: set[int] = set()
        self._done_upto = 0
        self._direct = execute is None and executor is sync_executor

    def run(self, intents: Iterable[Intent], whole: Sequence[Intent] | None = None) -> None:
        """Dispatch each of ``intents``, a tail of ``whole`` (default: all of it)."""
        if whole is None:
            whole = intents  # type: ignore[assignment]
        scope, executor, execute = self.scope, self.executor, self.execute
        direct = self._direct
        for intent in intents:
            try:
                if intent[4]:
                    target = self.executor_for(intent)
                    if execute is None:
                        target(intent)
                    else:
                        execute(intent, target, scope)
                elif direct:  # sync_executor, inlined
                    if type(result := intent[0](*intent[1], **intent[2])) is CoroutineType:
                        refuse_coroutine(result, intent[0], "sync")
                elif execute is None:
                    executor(intent)
                else:
                    execute(intent, executor, scope)
            except BaseException as exc:
                self._failed(whole, intent, exc)  # raises when the flush must stop
        self.report._dispatched.extend(whole[self._done_upto :])

    def run_in_contexts(self, intents: Sequence[Intent]) -> None:
        """``run`` inside the flush contexts of the executors it uses, exited at the end.

        If the executor's context fails on entry, nothing was attempted.
        """
        try:
            self.enter_context_of(self.executor)
        except BaseException as exc:
            self.report._not_attempted.extend(intents)
            self.error = exc
            raise
        try:
            self.run(intents)
        except BaseException:
            if self.contexts is not None:
                self.contexts.__exit__(*sys.exc_info())  # may raise its own error instead
            raise
        if self.contexts is not None:
            self.contexts.close()

    def resume_after(self, intents: Sequence[Intent], position: int, exc: BaseException) -> None:
        """Record the error of the intent at ``position`` (everything before it
        was dispatched), then go on unless fail-fast."""
        self._failed_at(intents, position, exc)
        self.run(islice(intents, self._done_upto, None), intents)

    def executor_for(self, intent: Intent) -> Any:
        """The executor for an intent that carries dispatch options.

        Consumed options are stripped before the backend sees them; the core's
        per-intent ``executor`` option routes the intent elsewhere, entering
        that executor's ``flush_context`` on first use in this flush.
        """
        opts = intent[4]
        if self.consumed.isdisjoint(opts):
            return self.executor
        name = opts.get("executor")
        target = self.executor
        if name is not None:
            target = resolve_executor(name)
            self.enter_context_of(target)
        return StrippingExecutor(target, self.consumed)

    def enter_context_of(self, executor: Any) -> None:
        """Enter ``executor.flush_context(report)`` once per flush, if it has one."""
        if id(executor) in self._entered:
            return
        context = getattr(executor, "flush_context", None)
        if context is None:
            return
        if self.contexts is None:
            self.contexts = ExitStack()
        self.contexts.enter_context(context(self.report))
        self._entered.add(id(executor))  # only once entered: a failed entry is tried again for the next intent

    def _failed(self, intents: Sequence[Intent], intent: Intent, exc: BaseException) -> None:
        self._failed_at(intents, _index(intents, intent, self._done_upto), exc)

    def _failed_at(self, intents: Sequence[Intent], position: int, exc: BaseException) -> None:
        report = self.report
        if isinstance(intents, list):
            promote(intents)  # from here on the report slices the list: one Intent per item
        intent = intents[position]
        report._dispatched.extend(intents[self._done_upto : position])
        self._done_upto = position + 1
        report.failed.append((as_intent(intent), exc))
        self.failed.append(exc)
        report.record_undelivered(getattr(exc, "airlock_undelivered", ()), exc)
        if self.fail_fast or not isinstance(exc, Exception):
            report._not_attempted.extend(intents[position + 1 :])
            self.error = exc
            raise exc


def _failed_summary(report: FlushReport, total: int) -> str:
    """``FlushFailed``'s message: how many failed, and which (the first few, as
    calls), so that a log line alone says what to replay."""
    failed = [intent for intent, _ in report.failed]
    return f"{len(failed)} of {total} intents failed to dispatch: {described_some(failed)}"


def _index(intents: Sequence[Intent], intent: Intent, start: int) -> int:
    """Position of this very intent object at or after ``start``."""
    for position in range(start, len(intents)):
        if intents[position] is intent:
            return position
    raise AssertionError("dispatched intent not found in its flush")  # pragma: no cover


def abandon(scope: Scope, error: BaseException) -> None:
    """A flush raised ``error`` before its dispatch could report it (a policy,
    an ``airlock_before_flush`` hook, an ancestor or the timing raised).

    Every intent of the buffer that has no fate yet is recorded as not
    attempted, the report is attached to ``error`` and, unless it finished
    already, completed (``airlock_after_flush`` runs; its failures are logged).
    """
    from .report import FlushReport

    report = scope._report
    if not isinstance(report, FlushReport):
        report = scope._report = FlushReport(scope, "flushed")
    if report._finished:
        attach_report(error, report)
        return
    accounted = {id(fate.intent) for fate in report.fates()}
    for intent in promote(scope._intents):
        while id(intent) in report._replaced:  # a plugin's copy stands for it
            intent = report._replaced[id(intent)]
        if id(intent) not in accounted:
            report._not_attempted.append(intent)
    attach_report(error, report)
    run_after_flush(scope, report, propagating=error)


def attach_report(exc: BaseException, report: FlushReport) -> None:
    """Attach ``report`` to ``exc`` as ``airlock_report``, with a note summing it up."""
    exc.airlock_report = report  # type: ignore[attr-defined]
    add_note(exc, f"airlock flush report: {report.summary()}")


def run_before_flush(scope: Scope, intents: list[Intent], report: FlushReport) -> list[Intent]:
    """Chain the ``airlock_before_flush`` implementations; record what they leave out.

    ``intents`` may still hold buffered plain tuples (see ``intent.as_intent``):
    they become Intents, in place, before an implementation that asks for
    ``intents``; one that asks only for ``buffered`` gets a :class:`Buffered`
    view and builds just the Intents it keeps. Returns Intents only.
    """
    distinct = True  # no object twice in ``intents``: the scope's list never has
    for plugin, hook, wants_intents in scope._hooks.before_flush:
        if wants_intents:
            promote(intents)
        buffered = Buffered(intents)
        merged_before, replaced_before = report._merged_count(), len(report._replaced)
        given = intents.copy()
        result = hook(scope, intents, buffered)
        # Buffered builds Intents in place of tuples: only a length change tells there.
        if len(intents) != len(given) or (wants_intents and any(map(is_not, intents, given))):
            # What it took out would be dispatched by nobody and reported nowhere.
            intents[:] = given  # the scope's own buffer, maybe: the report must see them all
            raise TypeError(
                f"airlock plugin {plugin!r}: airlock_before_flush changed the list it was given in place; "
                "return a new list instead (e.g. [i for i in intents if ...]). Nothing of this flush was dispatched."
            )
        if result is None:
            continue
        if not isinstance(result, list):
            raise TypeError(
                f"airlock plugin {plugin!r}: airlock_before_flush must return a list of intents or None, "
                f"got {type(result).__name__}"
            )
        if tuple in set(map(type, result)):
            raise TypeError(
                f"airlock plugin {plugin!r}: airlock_before_flush returned buffered items, not Intents; "
                "take Intents from buffered (buffered[i], buffered.at(positions))"
            )
        recorded = report._merged_count() - merged_before + len(report._replaced) - replaced_before
        returned = set(map(id, result))
        left_out = _left_out_count(buffered, returned) if distinct else None
        lost = None
        if left_out is None:
            lost = _not_returned(intents, returned)
            left_out = len(lost)
        if left_out and left_out != recorded:
            # The plugin recorded fewer fates than it dropped intents: find the unrecorded ones.
            if lost is None:
                lost = _not_returned(intents, returned)
            accounted = {id(i) for i, _ in report.merged[merged_before:]}
            accounted.update(report._replaced)
            report.removed.extend((i, plugin) for i in lost if id(i) not in accounted)
        intents = result
        distinct = len(returned) == len(result)
    return promote(intents)


def _not_returned(intents: list[Any], returned: set[int]) -> list[Intent]:
    """The Intents of ``intents`` whose ids are not in ``returned`` (builds them all)."""
    return [i for i in promote(intents) if id(i) not in returned]


def _left_out_count(buffered: Buffered, returned: set[int]) -> int | None:
    """How many of ``buffered``'s (distinct) items are not among the ``returned`` ids,
    or None when only a pass over every item can tell.

    Cheap when the implementation took every Intent it returned from
    ``buffered`` by position: an item it was never handed cannot be returned.
    """
    taken = buffered._taken
    if taken is None:
        return None  # it iterated: every item is an Intent now
    items = buffered.items
    if not returned <= set(map(id, map(items.__getitem__, taken))):
        return None  # some came from elsewhere: copies, or Intents read from buffered.items
    return len(items) - len(returned)


def run_after_flush(scope: Scope, report: FlushReport, propagating: BaseException | None = None) -> None:
    """Complete the report; ``airlock_after_flush`` runs when it is complete.

    A hook's exception propagates, unless another exception is on its way
    out (``propagating``, or the ``with`` block's, ``scope._unwinding``):
    then it is logged, so an observer cannot replace the error that matters.
    """
    hooks = scope._hooks.after_flush
    if not hooks:
        report._finish(None)
        return
    propagating = propagating or scope._unwinding

    def after(report: FlushReport) -> None:
        for hook in hooks:
            if propagating is None:
                hook(scope, report)
                continue
            try:
                hook(scope, report)
            except Exception:
                logger.exception("airlock: an airlock_after_flush hook failed while %r propagates", propagating)

    report._finish(after)
