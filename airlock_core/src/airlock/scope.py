"""Scopes: where intents wait, and the boundary that decides their fate.

``enqueue()`` buffers an intent in the innermost active scope. When a scope
ends it flushes (policies filter, plugins shape, the executor dispatches) or
discards. A nested scope's intents are offered to its ancestors first, and
by default the outermost scope captures them: the outer boundary has the
final word.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator, Mapping
from contextlib import AbstractContextManager
from contextvars import Token
from operator import length_hint
from types import CoroutineType, MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from . import _context, _state
from .config import _config, _configured_scope, _default, default_executor
from .dispatch import abandon, attach_report, dispatch, run_after_flush, run_before_flush
from .errors import NoScopeError, PolicyEnqueueError, ScopeStateError
from .executors import resolve_executor
from .executors.sync import refuse_coroutine, sync_executor
from .intent import Intent, promote
from .policies import AllowAll, Policy, check_policy
from .report import FlushReport

__all__ = ["Scope", "scope", "scoped", "policy", "enqueue", "get_current_scope"]

F = TypeVar("F", bound=Callable[..., Any])

_ALLOW_ALL = AllowAll()
#: The options airlock-core itself declares (``_builtin.airlock_options``; a
#: test keeps the two alike); none of them enables a plugin. Not imported from
#: ``options``, which ``import airlock`` does not load.
CORE_OPTION_NAMES = frozenset({"fail_fast", "executor"})
#: Policy classes whose instances passed check_policy() (a class's instances look alike).
_checked_policy_types: set[type] = set()
_NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})
_new_intent = tuple.__new__
_get_scope = _context.current_scope.get
_set_scope = _context.current_scope.set
_reset_scope = _context.current_scope.reset
_MISSING = Token.MISSING


class _Pending:
    """Marks a scope whose plain sync flush is running (its report is not decided)."""


_PLAIN_FLUSH_RUNNING = _Pending()
_get_in_policy = _context.in_policy.get
_get_policy_stack = _context.policy_stack.get
#: False until an ``airlock.policy(...)`` is first entered in this process: until
#: then no context holds a local policy, and ``enqueue()`` need not read
#: ``policy_stack``. Never reset, since a context copied inside a ``with
#: airlock.policy(p):`` block (an asyncio task, a thread) keeps ``p`` after it ends.
_local_policies_entered = False
_in_policy = _context.in_policy


class Scope:
    """A buffer of intents with a lifecycle: enter, exit, then flush or discard.

    :param policy: decides per intent at enqueue (``on_enqueue``) and at flush
        (``allows``); default ``AllowAll()``.
    :param executor: a callable taking an Intent, or an installed executor's
        name (``"threads"``, ``"celery"``); default from ``configure()``, then
        ``AIRLOCK_EXECUTOR``, then ``sync``.
    :param options: options declared by the core (``fail_fast``) or by
        installed plugins; unknown names raise ``UnknownOptionError``.

    Use it through ``airlock.scope()`` (a context manager) or drive it by
    hand: ``enter()``, ``exit()``, then ``flush()`` or ``discard()``.

    Subclasses customise ``should_flush(error)``,
    ``before_descendant_flushes(exiting_scope, intents)``,
    ``_dispatch_all(intents)`` (with ``_dispatches_immediately()``),
    ``_enqueue_guard`` (with ``_before_guarded_append()``) and
    :attr:`option_defaults`.
    """

    # Every scope sets these; the rarely-changed state below lives as class
    # defaults until a scope changes it (empty scopes are most scopes).
    __slots__ = (
        "_hooks",
        "_policy",
        "_executor",
        "_intents",
        "_token",
        "_parent",
        "_flushed",
        "_discarded",
        "_plain_add",
        "_report",
        "__dict__",
        "__weakref__",
    )
    _options: dict[str, Any] | None = None
    _captured_intents: list[Intent] = []  # replaced by a fresh list on first capture
    _has_local_policies = False
    _has_dispatch_options = False
    #: For subclasses whose ``_add`` must see some intents: None, or a callable
    #: taking the scope, asked on each fast-path ``enqueue()`` (so make it cheap,
    #: e.g. an ``operator.attrgetter``). A true result calls
    #: :meth:`_before_guarded_append` before the intent is appended.
    #: ``DjangoScope`` asks whether a transaction is open. A scope in use keeps
    #: its guard in ``_plain_add``, where it may replace it.
    _enqueue_guard: Callable[[Scope], object] | None = None
    #: Option values this scope class uses where neither the scope nor
    #: ``configure()`` sets one (``DjangoScope``: ``{"fail_fast": False}``).
    #: They must be valid values of declared options.
    option_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: The names in :attr:`option_defaults` that could enable a plugin (the
    #: core's options never do), made per class, read per flush.
    _option_default_names: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, policy: Policy | None = None, executor: Any = None, **options: Any) -> None:
        self._hooks = hooks = _state.hooks or _state.load_hooks()
        # _plain_add: enqueue() may append directly (no policy callback, no
        # enqueue hook, not finished): True, or the guard to ask first; else False.
        if policy is None:
            self._policy = _ALLOW_ALL
            self._plain_add = not hooks.enqueue and self._appends_plainly
        elif type(policy) is AllowAll:
            self._policy = policy
            self._plain_add = not hooks.enqueue and self._appends_plainly
        else:
            if type(policy) not in _checked_policy_types:  # once per policy class: this runs for every scope
                check_policy(policy, f"{type(self).__name__}()")
                _checked_policy_types.add(type(policy))
            self._policy = policy
            self._plain_add = False
        if executor is None:  # default_executor()'s cache, read inline: this runs for every scope
            self._executor = _default[0] or default_executor()
        else:
            self._executor = resolve_executor(executor)
        if options:
            self._options = hooks.options.validate(options, f"{type(self).__name__}()", "scope", type(self))
        self._intents: list[Intent] = []
        self._flushed = False
        self._discarded = False
        self._report: FlushReport | _Pending | None = None
        self._token: Token[Scope | None] | None = None
        self._parent: Scope | None = None

    # -- state ---------------------------------------------------------------
    @property
    def intents(self) -> list[Intent]:
        """A copy of the buffer: own and captured intents, FIFO."""
        return list(promote(self._intents))

    @property
    def captured_intents(self) -> list[Intent]:
        """The intents this scope captured from nested scopes."""
        return list(self._captured_intents)

    @property
    def own_intents(self) -> list[Intent]:
        """The intents enqueued directly in this scope."""
        captured = {id(i) for i in self._captured_intents}
        return [i for i in promote(self._intents) if id(i) not in captured]

    @property
    def is_flushed(self) -> bool:
        return self._flushed

    @property
    def is_discarded(self) -> bool:
        return self._discarded

    @property
    def is_active(self) -> bool:
        """True while this scope is the innermost active one."""
        return self._token is not None and _get_scope() is self

    @property
    def _plain_policy(self) -> bool:
        """True when the policy is ``AllowAll``: no callback needs to run."""
        return type(self._policy) is AllowAll

    @property
    def policy(self) -> Policy:
        """The scope's policy."""
        return self._policy

    @property
    def executor(self) -> Any:
        """The resolved executor callable."""
        return self._executor

    @property
    def parent(self) -> Scope | None:
        """The scope that was active when this one was entered."""
        return self._parent

    @property
    def report(self) -> FlushReport | None:
        """The flush report once the scope is flushed or discarded, else None."""
        report = self._report
        if report is _PLAIN_FLUSH_RUNNING:
            return None  # a task asked while the plain sync flush runs: not decided yet
        if report is None and (self._flushed or self._discarded):
            report = self._report = FlushReport(self, "flushed" if self._flushed else "discarded")
            if self._flushed:  # the plain sync flush dispatched the whole buffer
                report._dispatched = list(promote(self._intents))
            report.complete = True
        return report  # type: ignore[return-value]

    def option(self, name: str, intent: Intent | None = None) -> Any:
        """An option's value for this scope (and intent): the intent's
        ``dispatch_options``, else this scope's, else ``configure()``'s, else
        the scope class's :attr:`option_defaults`, else the declared default.
        Raises ``UnknownOptionError`` for undeclared names.
        """
        registry = self._hooks.options
        declared = registry.by_name.get(name)
        if declared is None:
            from .errors import UnknownOptionError

            raise UnknownOptionError(name, list(registry.by_name), "Scope.option()")
        if intent is not None:
            opts = intent[4]
            if opts and name in opts and "intent" in declared.where:
                return opts[name]
        if self._options and name in self._options:
            return self._options[name]
        return _config["options"].get(name, self.option_defaults.get(name, declared.default))

    # -- lifecycle -------------------------------------------------------------
    def enter(self) -> Scope:
        """Make this the active scope. Raises ``ScopeStateError`` if already active."""
        if self._token is not None:
            raise ScopeStateError("Scope is already active.")
        self._parent = _get_scope()
        self._token = _context.current_scope.set(self)
        return self

    def exit(self) -> None:
        """Deactivate; the previous scope becomes active. Call before flush/discard."""
        if self._token is None:
            raise ScopeStateError("Scope is not active.")
        token, self._token = self._token, None
        try:
            _context.current_scope.reset(token)
        except ValueError:
            raise _exited_elsewhere(self) from None

    #: Whether ``enqueue()`` may skip ``_add``: True when the subclass keeps the
    #: base one, its ``_enqueue_guard`` when that says when its own must run, else False.
    _appends_plainly: bool | Callable[[Scope], object] = True
    #: Only the base class takes the inlined ``with`` path; see __init_subclass__.
    _inline_lifecycle = True
    #: The exception leaving the ``with`` block while :meth:`_end` runs, else None.
    _unwinding: BaseException | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._inline_lifecycle = False
        cls._option_default_names = frozenset(cls.option_defaults) - CORE_OPTION_NAMES
        # A subclass goes through the methods it may customise (enter, exit,
        # should_flush, flush, discard), unless it writes its own dunders.
        if "__enter__" not in cls.__dict__:
            cls.__enter__ = Scope._enter_via_methods  # type: ignore[method-assign]
        if "__exit__" not in cls.__dict__:
            cls.__exit__ = Scope._exit_via_methods  # type: ignore[method-assign]
        # A guard speaks for the ``_add`` of its own class or an ancestor's,
        # not for one a further subclass writes.
        add_owner = _defining_class(cls, "_add")
        if add_owner is Scope:
            cls._appends_plainly = True
        elif cls._enqueue_guard is not None and issubclass(_defining_class(cls, "_enqueue_guard"), add_owner):
            cls._appends_plainly = staticmethod(cls._enqueue_guard)  # read from a scope, not bound to it
        else:
            cls._appends_plainly = False

    def _enter_via_methods(self) -> Scope:
        """``__enter__`` of subclasses: through ``enter()``."""
        return self.enter()

    def _exit_via_methods(self, exc_type: Any, error: BaseException | None, tb: Any) -> None:
        """``__exit__`` of subclasses: ``exit()``, then ``flush()`` if ``should_flush(error)`` else ``discard()``."""
        self.exit()
        if self._flushed or self._discarded:
            return
        if error is not None:
            self._end(error)
        elif self._should_flush_or_discard(None):  # _end(None), inlined: this runs for every DjangoScope request
            self.flush()
        else:
            self.discard()

    def _end(self, error: BaseException | None) -> None:
        """``flush()`` if ``should_flush(error)`` else ``discard()``.

        While ``error`` (the block's exception) propagates, a failing
        ``airlock_after_flush`` hook is logged rather than raised, so it
        cannot replace that exception.
        """
        if error is None:
            if self._should_flush_or_discard(None):
                self.flush()
            else:
                self.discard()
            return
        self._unwinding = error
        try:
            if self._should_flush_or_discard(error):
                self.flush()
            else:
                self.discard()
        finally:
            del self._unwinding  # back to the class's None; no cycle through the traceback

    def _should_flush_or_discard(self, error: BaseException | None) -> bool:
        """``should_flush(error)``; if that raises, the scope is discarded (no
        decision, no dispatch: the report says discarded) and its error
        propagates, carrying the report as ``airlock_report``."""
        try:
            return self.should_flush(error)
        except BaseException as decision_error:
            if self._unwinding is None:
                self._discard_while(decision_error)
            else:  # _end is unwinding the block's error already
                self.discard()
            report = self.report
            if report is not None:
                attach_report(decision_error, report)
            raise

    def _discard_while(self, error: BaseException) -> list[Intent]:
        """``discard()`` while ``error`` propagates (an integration ending a scope
        on an exception): a failing after-flush hook is logged, not raised."""
        self._unwinding = error
        try:
            return self.discard()
        finally:
            del self._unwinding

    def __enter__(self) -> Scope:
        # ``enter()``, inlined: this is the cost of every request.
        if self._token is not None:
            raise ScopeStateError("Scope is already active.")
        self._token = token = _set_scope(self)
        parent = token.old_value  # what _get_scope() returned a moment ago, without the call
        self._parent = None if parent is _MISSING else parent
        return self

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> None:
        """``_exit_via_methods``, inlined for the base class.

        A subclass that writes its own ``__exit__`` and calls this one gets its
        ``should_flush``/``flush``/``discard`` called whenever the scope holds
        intents or the block raised; an empty scope that ends normally is
        marked flushed directly.
        """
        token = self._token
        if token is None:
            raise ScopeStateError("Scope is not active.")
        self._token = None
        try:
            _reset_scope(token)
        except ValueError:
            raise _exited_elsewhere(self) from None
        if self._flushed or self._discarded:
            return
        if error is None and not self._intents:
            self._flushed = True
            self._plain_add = False
        elif (
            error is None
            and self._inline_lifecycle
            # should_flush and flush as written here, not patched in later on the class or
            # the instance (mock.patch.object in a test); read without making an instance dict
            and getattr(self.flush, "__func__", None) is _base_flush
            and getattr(self.should_flush, "__func__", None) is _base_should_flush
        ):
            self._flush()
        else:
            self._end(error)

    def __call__(self, func: F) -> F:
        """``@airlock.scope(...)`` as a decorator, as airlock-py allowed.

        Each call of ``func`` runs in a fresh scope of the same class, policy,
        executor and options (``@airlock.scoped(...)`` says the same thing
        more plainly). A subclass whose constructor needs more arguments
        should be used through ``scoped(..., _cls=...)`` instead.
        """
        return scoped(self._policy, _cls=type(self), executor=self._executor, **(self._options or {}))(func)

    def should_flush(self, error: BaseException | None) -> bool:
        """Flush (True) or discard (False) when the ``with`` block ends.

        ``error`` is the exception leaving the block, or None. Default: flush
        iff there is no error.
        """
        return error is None

    def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[Intent]:
        """Which of a nested scope's intents it may flush itself.

        Called on each active ancestor, nearest first, when a nested scope
        flushes. Must return a list (else ``TypeError``); what is left out is
        captured into this scope's buffer. Default ``[]``: capture everything.
        Return ``intents`` to let nested scopes flush independently.
        """
        return []

    def _add(self, intent: Intent) -> None:
        """Buffer one intent: policy ``on_enqueue``, plugins' ``airlock_enqueue``, append."""
        if self._flushed or self._discarded:
            state = "flushed" if self._flushed else "discarded"
            raise ScopeStateError(f"Cannot add intents to a scope that has been {state}.")
        hooks = self._hooks
        if intent[4]:  # checked before any policy or hook sees the intent
            hooks.options.validate_intent(intent[4])
        if not self._plain_policy or hooks.enqueue:
            token = _in_policy.set(True)
            try:
                self._policy.on_enqueue(intent)
                for hook in hooks.enqueue:
                    hook(intent, self)
            finally:
                _in_policy.reset(token)
            if self._flushed or self._discarded:  # it ended meanwhile (exited in another thread)
                state = "flushed" if self._flushed else "discarded"
                raise ScopeStateError(
                    f"The scope was {state} while this intent's policy or enqueue hooks ran (it ended in "
                    "another thread); the intent was not added."
                )
        if intent[4]:
            self._has_dispatch_options = True
        if intent[5]:
            self._has_local_policies = True
        self._intents.append(intent)

    def _before_guarded_append(self) -> None:
        """Called by ``enqueue()`` when the scope's enqueue guard returned true,
        right before it appends the intent to the buffer as is. Subclasses
        that set a guard override this (``_add`` should do the same first)."""

    def flush(self) -> list[Intent]:
        """Dispatch the buffer; returns the intents that passed the policies.

        Ancestors capture what they do not let through; local policies
        (innermost first) and then the scope's policy drop intents; plugins'
        ``airlock_before_flush`` may reshape the list; ``_dispatch_all`` sends
        the rest in FIFO order. The scope is marked flushed first, so nothing
        is ever dispatched twice. An executor's exception propagates with the
        flush report attached as ``airlock_report``.
        """
        dispatched = self._flush()
        promote(self._intents)
        return list(promote(dispatched))

    def _flush(self) -> list[Intent]:
        """``flush()`` minus building Intents for the buffer's plain tuples."""
        if self._flushed:
            raise ScopeStateError("Scope has already been flushed.")
        if self._discarded:
            raise ScopeStateError("Cannot flush a discarded scope.")
        if self._token is not None:
            raise ScopeStateError("Cannot flush() while scope is still active. Call exit() first.")
        self._flushed = True
        self._plain_add = False
        intents = self._intents
        if not intents:
            return intents
        try:
            hooks = self._hooks
            gates = hooks.gates
            if gates and not (
                (
                    _config["options"]
                    or self._options
                    or self._has_dispatch_options
                    or (self._option_default_names and not gates.keys().isdisjoint(self._option_default_names))
                )
                and self._plugins_enabled(gates)
            ):
                hooks = self._hooks = hooks.idle  # installed plugins nobody enabled: skip them
            plain_policy = type(self._policy) is AllowAll
            if (
                self._parent is None
                and plain_policy
                and not self._has_local_policies
                and not self._has_dispatch_options
                and not hooks.before_flush
                and not hooks.after_flush
                and hooks.execute is None
                and self._executor is sync_executor
                # asked per flush, so a _dispatch_all patched in later (a test's mock) is called
                and (type(self)._dispatch_all is _base_dispatch_all or self._dispatches_immediately())
            ):
                self._dispatch_inline(intents)
                return intents
            report = self._report = FlushReport(self, "flushed")
            if not hooks.before_flush or self._parent is not None or self._has_local_policies or not plain_policy:
                promote(intents)  # else run_before_flush builds the Intents hooks ask for, and those it returns
            if self._parent is not None:
                intents = self._walk_parent_chain_for_approval(intents)
            if intents and (self._has_local_policies or not plain_policy):
                intents = self._filter(intents, report)
            if intents and hooks.before_flush:
                intents = run_before_flush(self, intents, report)
            self._dispatch_all(intents)
            return intents
        except BaseException as exc:
            if getattr(exc, "airlock_report", None) is not self._report:  # not already reported by dispatch
                abandon(self, exc)
            raise

    def _dispatches_immediately(self) -> bool:
        """Whether an overridden ``_dispatch_all`` would, right now, just call
        ``_dispatch`` in this thread.

        Subclasses that defer dispatch (``DjangoScope`` waits for a commit)
        return True when there is nothing to wait for, so a flush with no
        plugins, policies or options to apply takes the plain sync path of
        ``_flush`` (see :meth:`_dispatch_inline`). Default: False.
        """
        return False

    def _dispatch_inline(self, intents: list[Intent]) -> None:
        """The plain sync flush: call each buffered task in order, nothing else.

        Only ``_flush`` calls this, when nobody but the ``sync`` executor
        would see the intents: no Intent objects are built, and the report is
        built only if someone asks for it. A failing task resumes the flush in
        :func:`dispatch`, which records every fate and honours ``fail_fast``.
        """
        self._report = _PLAIN_FLUSH_RUNNING
        remaining = iter(intents)
        try:
            for item in remaining:
                if item[2]:
                    result = item[0](*item[1], **item[2])
                else:
                    result = item[0](*item[1])  # cheaper without an empty ** dict
                if result is not None and type(result) is CoroutineType:  # an async def task: it would never run
                    refuse_coroutine(result, item[0], "sync")
        except BaseException as exc:
            # By position: a task that read scope.intents replaced the buffered tuples by Intents.
            self._inline_failed(intents, len(intents) - length_hint(remaining) - 1, exc)
        else:
            self._report = None  # built on demand by the report property

    def _inline_failed(self, intents: list[Intent], position: int, error: BaseException) -> None:
        """The task at ``position`` of the plain sync flush raised ``error``:
        resume the flush in :func:`dispatch`, which records every fate,
        honours ``fail_fast`` and raises at the end."""
        self._report = FlushReport(self, "flushed")
        dispatch(self, intents, self._report, failure=(position, error))

    def _plugins_enabled(self, gates: dict[str, Any]) -> bool:
        """True if an enabling option (name: default) is set away from its
        default here: globally, on this scope, by the scope class's
        :attr:`option_defaults`, or on any buffered intent."""
        for layer in (_config["options"], self._options or _NO_OPTIONS, self.option_defaults):
            for name, value in layer.items():  # the layers are small; gates may not be
                if name in gates and value != gates[name]:
                    return True
        if self._has_dispatch_options:
            return any(item[4] and not gates.keys().isdisjoint(item[4]) for item in self._intents)
        return False

    def _walk_parent_chain_for_approval(self, intents: list[Intent]) -> list[Intent]:
        """Offer ``intents`` to each ancestor, nearest first; return what all let through.

        An ancestor that already flushed can capture nothing more and is
        passed by. One that was discarded decided that nothing enqueued under
        it escapes: every intent still on its way is reported ``discarded``.
        """
        report = self._report
        assert report is not None  # _flush creates it before walking
        parent = self._parent
        while parent is not None and intents:
            if parent._discarded:
                report.discarded.extend(intents)
                return []
            if parent._flushed:
                parent = parent._parent
                continue
            allowed = parent.before_descendant_flushes(self, intents)
            if not isinstance(allowed, list):
                raise TypeError(
                    f"{type(parent).__name__}.before_descendant_flushes() must return a list, "
                    f"got {type(allowed).__name__}"
                )
            if allowed is not intents:
                if allowed:
                    kept = {id(i) for i in allowed}
                    captured = [i for i in intents if id(i) not in kept]
                else:
                    captured = list(intents)  # the default: the ancestor takes everything
                if captured:
                    if parent._captured_intents is Scope._captured_intents:
                        parent._captured_intents = []
                    parent._captured_intents.extend(captured)
                    parent._intents.extend(captured)
                    if self._has_local_policies:
                        parent._has_local_policies = True
                    if self._has_dispatch_options:
                        parent._has_dispatch_options = True
                    report.captured.extend((i, parent) for i in captured)
            intents = allowed
            parent = parent._parent
        return intents

    def _filter(self, intents: list[Intent], report: FlushReport) -> list[Intent]:
        """Local policies (innermost first), then the scope's; drops go to the report."""
        policy = self._policy
        check_scope = not self._plain_policy
        kept = []
        dropped = report.dropped
        token = _in_policy.set(True)
        try:
            for intent in intents:
                for local in reversed(intent[5]):
                    if not local.allows(intent):
                        dropped.append((intent, local))
                        break
                else:
                    if check_scope and not policy.allows(intent):
                        dropped.append((intent, policy))
                    else:
                        kept.append(intent)
        finally:
            _in_policy.reset(token)
        return kept

    def _dispatch_all(self, intents: list[Intent]) -> None:
        """Send ``intents`` now, FIFO, through plugins and the executor.

        Override to change *when* dispatch happens (``DjangoScope`` defers it
        to ``transaction.on_commit``) and call :meth:`_dispatch` when the time
        comes. Fail-fast by default: the first error stops the flush and
        propagates; the rest are reported as not attempted.
        """
        self._dispatch(intents)

    def _dispatch(self, intents: list[Intent]) -> FlushReport:
        """Dispatch now, record every fate, run ``airlock_after_flush``."""
        report = self._report
        if not isinstance(report, FlushReport):
            report = self._report = FlushReport(self, "flushed")
        dispatch(self, intents, report)
        return report

    def discard(self) -> list[Intent]:
        """Drop the buffer without dispatching; returns what was dropped."""
        if self._discarded:
            raise ScopeStateError("Scope has already been discarded.")
        if self._flushed:
            raise ScopeStateError("Cannot discard a flushed scope.")
        if self._token is not None:
            raise ScopeStateError("Cannot discard() while scope is still active. Call exit() first.")
        self._discarded = True
        self._plain_add = False
        discarded = list(promote(self._intents))
        self._intents.clear()
        if discarded:
            report = self._report = FlushReport(self, "discarded")
            report.discarded = discarded
            run_after_flush(self, report)
        return discarded

    def __repr__(self) -> str:
        state = (
            "flushed"
            if self._flushed
            else "discarded"
            if self._discarded
            else ("active" if self.is_active else "inactive")
        )
        return f"<{type(self).__name__} {state} intents={len(self._intents)} policy={self._policy!r}>"


_base_dispatch_all = Scope._dispatch_all
_base_flush = Scope.flush
_base_should_flush = Scope.should_flush


def _exited_elsewhere(scope: Scope) -> ScopeStateError:
    """The error for exiting ``scope`` in another context than the one that entered it."""
    return ScopeStateError(
        f"{scope!r} was exited in another context than the one that entered it (another asyncio task or "
        "thread, e.g. an async fixture's setup and teardown): that context still sees it as active. "
        "Enter and exit a scope in the same task; it is now inactive here, and flush() or discard() still work."
    )


def _defining_class(cls: type, name: str) -> type:
    """The class in ``cls``'s MRO whose body defines ``name``."""
    return next(klass for klass in cls.__mro__ if name in klass.__dict__)


def scope(policy: Policy | None = None, *, _cls: type[Scope] | None = None, **kwargs: Any) -> Scope:
    """A new scope, used as a context manager: ``with airlock.scope() as s: ...``.

    On a normal exit it flushes if ``should_flush(None)``; on an exception
    it flushes if ``should_flush(error)`` and discards otherwise, then the
    exception propagates. Defaults come from ``configure()``; explicit
    arguments win. ``kwargs`` go to the scope class: ``executor`` (a callable
    or a name), options declared by the core or plugins, and whatever a
    Scope subclass accepts.
    """
    if _cls is None and not kwargs:  # the common cases, fast
        configured = _configured_scope[0]
        if configured is None:
            return Scope(policy)  # nothing configured
        if policy is None:
            return configured()  # what configure() set, merged once there
    config = _config
    cls = _cls or config["scope_cls"] or Scope
    if policy is None:
        policy = config["policy"] or _ALLOW_ALL
    defaults = config["scope_kwargs"]
    if defaults:
        kwargs = {**defaults, **kwargs}
    if "executor" not in kwargs and config["executor"] is not None:
        kwargs["executor"] = config["executor"]
    if not kwargs and cls is Scope:
        return Scope(policy)  # the common case, without keyword-argument plumbing
    return cls(policy=policy, **kwargs)


def scoped(policy: Policy | None = None, *, _cls: type[Scope] | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Decorator: each call of the function runs in a fresh ``airlock.scope(...)``.

    Works on plain and ``async`` callables (an ``async def``, or an object
    whose ``__call__`` is one, is awaited inside the scope); ``functools.wraps``
    metadata is kept. Generator functions are refused, and so is a call that
    returns a coroutine from a plain callable: the scope would end before
    their body runs.
    """

    # What can be checked without plugins or registrations (which may come later than
    # the decoration, at import time): the policy, and that an executor is not a class.
    if policy is not None:
        check_policy(policy, "@airlock.scoped()")
    executor = kwargs.get("executor")
    if executor is not None and not isinstance(executor, str):
        resolve_executor(executor)

    def decorator(func: F) -> F:
        return _run_each_call_in(func, lambda: scope(policy, _cls=_cls, **kwargs), "@airlock.scoped()", "scope")

    return decorator


def _run_each_call_in(func: F, context: Callable[[], AbstractContextManager[Any]], where: str, what: str) -> F:
    """``func`` wrapped so that each call runs inside a fresh ``context()``.

    An async callable (an ``async def``, or an object whose ``__call__`` is
    one) is awaited inside it. Generator functions are refused here, and a
    plain callable that returns a coroutine (a decorator around an
    ``async def`` that hides it) when it is called: the context would end
    before their body runs.
    """
    from inspect import isasyncgenfunction, iscoroutinefunction, isgeneratorfunction

    if isgeneratorfunction(func) or isasyncgenfunction(func):
        raise TypeError(
            f"{where} cannot wrap the generator function {func.__qualname__}: calling it only makes "
            f"a generator, so the {what} would end before its body runs. Open `with airlock.{what}(...):` "
            "inside it, around the code that enqueues and not across a yield (while the generator is "
            f"paused, the code iterating it would enqueue into that {what})."
        )
    call = None if isinstance(func, type) else type(func).__call__  # an object's own call, not a class's
    if iscoroutinefunction(func) or iscoroutinefunction(call):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kw: Any) -> Any:
            with context():
                return await func(*args, **kw)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kw: Any) -> Any:
        with context():
            result = func(*args, **kw)
            if type(result) is CoroutineType:  # raised inside: what was enqueued before it is discarded
                result.close()
                raise TypeError(
                    f"{where}: {getattr(func, '__qualname__', func)!r} returned a coroutine, so the {what} "
                    "would end before its body ran. Decorate the async def itself, or mark the wrapper around "
                    "it with inspect.markcoroutinefunction()."
                )
        return result

    return wrapper  # type: ignore[return-value]


class policy:  # noqa: N801 - a function-like context manager, named as the API says
    """``with airlock.policy(p):`` adds a local policy to intents enqueued inside.

    The intents go to the same buffer; at flush their local policies are
    checked innermost first, then the scope's policy. Nothing is buffered
    separately and nothing is reordered. ``@airlock.policy(p)`` decorates a
    function (plain or ``async``): each call runs under a fresh
    ``airlock.policy(p)``.
    """

    __slots__ = ("_policy", "_token")

    def __init__(self, p: Policy) -> None:
        check_policy(p, "airlock.policy()", needs=("allows",))
        self._policy = p
        self._token: Token[tuple[Policy, ...]] | None = None

    def __enter__(self) -> None:
        if self._token is not None:
            raise ScopeStateError(
                "This airlock.policy(...) is already active; use a new airlock.policy(p) for each with block."
            )
        global _local_policies_entered
        _local_policies_entered = True  # before any context holds one
        self._token = _context.policy_stack.set((*_get_policy_stack(), self._policy))

    def __exit__(self, *exc: Any) -> None:
        if self._token is None:
            raise ScopeStateError("This airlock.policy(...) is not active.")
        token, self._token = self._token, None
        try:
            _context.policy_stack.reset(token)
        except ValueError:
            raise ScopeStateError(
                f"airlock.policy({self._policy!r}) was exited in another context than the one that entered it "
                "(another asyncio task or thread): that context still applies it. Enter and exit a local "
                "policy in the same task; this object is now inactive and may be entered again."
            ) from None

    def __call__(self, func: F) -> F:
        """Decorate ``func``: each call runs under a fresh ``airlock.policy(p)``.

        Accepts and refuses what ``@airlock.scoped()`` does: the policy must
        cover the body.
        """
        local = self._policy
        return _run_each_call_in(func, lambda: policy(local), "@airlock.policy()", "policy")


#: Methods through which backends dispatch task objects that are not callable
#: themselves (Django's ``Task`` has ``enqueue``).
_TASK_METHODS = ("enqueue", "apply_async", "delay", "send", "send_with_options", "schedule")


def _is_task_object(task: object) -> bool:
    """True for a non-callable task object an executor knows how to dispatch.

    Coroutines and generators have a ``send`` method too, but they are what
    calling a function returned, not a task.
    """
    if isinstance(task, (Coroutine, Generator, AsyncGenerator)):
        return False
    return any(callable(getattr(task, name, None)) for name in _TASK_METHODS)


def get_current_scope() -> Scope | None:
    """The innermost active scope, or None."""
    return _get_scope()


def _enqueue_as_documented(
    task: Callable[..., Any],
    *args: Any,
    _name: str | None = None,
    _origin: str | None = None,
    _dispatch_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Ask for ``task(*args, **kwargs)`` to run when the current scope lets it.

    :param task: any callable (a function, a Celery/Dramatiq/Huey task, ...),
        or a task object whose executor dispatches it through a method such
        as ``enqueue`` (Django tasks).
    :param _name: a name for logs and policies (default: derived from task).
    :param _origin: free text saying where the intent came from.
    :param _dispatch_options: options for the backend (``countdown``,
        ``queue``) and for middleware that declare intent options.

    Raises ``TypeError`` if ``task`` is neither, ``NoScopeError`` with no
    active scope, ``PolicyEnqueueError`` inside a policy callback, and
    whatever the policy's ``on_enqueue`` raises (the intent is then not
    buffered).
    """


# enqueue() itself takes **kwargs and takes the three underscored names out of
# them: Python binds that faster than keyword-only parameters with defaults,
# and enqueue() runs once per intent. Type checkers, help() and inspect (through
# __wrapped__) see the signature above.
_RESERVED = frozenset(("_name", "_origin", "_dispatch_options"))

if TYPE_CHECKING:
    enqueue = _enqueue_as_documented
else:

    def enqueue(task, *args, **kwargs):
        current = _get_scope()
        if (
            current is not None
            and (not kwargs or _RESERVED.isdisjoint(kwargs))
            and not _get_in_policy()
            and not (_local_policies_entered and _get_policy_stack())
            and callable(task)
            and (plain := current._plain_add)
        ):
            # Nothing can observe this intent before flush: buffer a plain tuple,
            # which becomes an Intent only if something looks (intent.as_intent).
            if plain is not True and plain(current):  # a subclass's _enqueue_guard
                current._before_guarded_append()
            current._intents.append((task, args, kwargs, None, None))
            return
        if kwargs:
            name = kwargs.pop("_name", None)
            origin = kwargs.pop("_origin", None)
            dispatch_options = kwargs.pop("_dispatch_options", None)
        else:
            name = origin = dispatch_options = None
        _enqueue_checked(current, "airlock.enqueue()", task, args, kwargs, name, origin, dispatch_options)

    enqueue.__doc__ = _enqueue_as_documented.__doc__
    enqueue.__wrapped__ = _enqueue_as_documented  # what inspect.signature() follows


def enqueue_call(
    task: Callable[..., Any],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    origin: str | None = None,
    dispatch_options: dict[str, Any] | None = None,
) -> None:
    """``enqueue()`` with the task's arguments as a tuple and a dict.

    For integrations that forward a call they intercepted (a Celery
    ``delay()``): the task's keyword arguments reach it untouched, even those
    named ``task``, ``_name``, ``_origin`` or ``_dispatch_options``, which
    ``enqueue()`` would take for its own. Otherwise the same: the same
    checks, errors, policies and hooks.
    """
    if not isinstance(args, tuple) or not (kwargs is None or isinstance(kwargs, dict)):
        raise TypeError(
            f"airlock.enqueue_call() takes the task's arguments as a tuple and a dict, got "
            f"{type(args).__name__} and {type(kwargs).__name__}."
        )
    kwargs = dict(kwargs) if kwargs else {}  # the intent's own: the caller's dict may change later
    _enqueue_checked(_get_scope(), "airlock.enqueue_call()", task, args, kwargs, name, origin, dispatch_options)


def _enqueue_checked(
    current: Scope | None,
    where: str,
    task: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: Any,
    origin: Any,
    dispatch_options: Any,
) -> None:
    """Check an enqueue call that took the slow path, then add its intent to ``current``."""
    if (name is not None and not isinstance(name, str)) or (origin is not None and not isinstance(origin, str)):
        prefix = "_" if where == "airlock.enqueue()" else ""  # how the caller spelt them
        raise TypeError(
            f"{where}: {prefix}name and {prefix}origin must be strings, "
            f"got {prefix}name={name!r}, {prefix}origin={origin!r}."
        )
    if _get_in_policy():
        raise PolicyEnqueueError(
            "Cannot call enqueue() from within a policy callback (or an airlock_enqueue hook). "
            "Policies may judge intents, but must not create them."
        )
    if not callable(task) and not _is_task_object(task):
        raise TypeError(
            f"{where} needs a callable or a task object, got {task!r} ({type(task).__name__}). "
            "Pass the function or task object itself, not its result or its name."
        )
    intent = _new_intent(Intent, (task, args, kwargs, origin, dispatch_options, _get_policy_stack(), name))
    if current is None:
        raise NoScopeError(
            f"Cannot enqueue '{intent.name}' without an active airlock.scope(). "
            "Wrap your code in an airlock.scope() context manager (or decorate it with @airlock.scoped()); "
            "for Django requests, add airlock.integrations.django.AirlockMiddleware to MIDDLEWARE."
        )
    current._add(intent)
