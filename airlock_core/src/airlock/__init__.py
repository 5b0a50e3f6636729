"""airlock: say which side effects should happen; let the boundary decide when.

``airlock.enqueue(send_email, user.id)`` anywhere; the surrounding
``airlock.scope()`` decides whether and when it escapes, its policy which
intents escape, and its executor how they run. Plugins shape everything
around dispatch through the hooks in :mod:`airlock.hookspecs`.

Importing airlock is cheap: no backend, no plugin and no entry point is
loaded until a scope first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _context
from .config import configure, get_configuration, reset_configuration
from .errors import (
    AirlockError,
    FlushFailed,
    NoScopeError,
    PluginLoadError,
    PolicyEnqueueError,
    PolicyViolation,
    ScopeStateError,
    UnknownExecutorError,
    UnknownOptionError,
    UsageError,
)
from .executors import Executor, register_executor, resolve_executor, unregister_executor
from .executors.sync import sync_executor as _execute
from .intent import Intent
from .policies import AllowAll, AssertNoEffects, BlockTasks, DropAll, LogOnFlush, Policy
from .report import Fate, FlushReport
from .scope import Scope, enqueue, enqueue_call, get_current_scope, policy, scope, scoped

if TYPE_CHECKING:
    from . import plugins
    from .markers import hookimpl, hookspec
    from .options import Option

__version__ = "0.2.0"

#: The ContextVar holding the active scope (kept for integrations).
_current_scope = _context.current_scope
#: The ContextVar that is True while a policy callback runs (kept for integrations).
_in_policy = _context.in_policy


def _check_greenlet() -> None:
    """Warn when greenlet < 1.0 is installed: it shares context variables between greenlets."""
    try:
        import greenlet
    except ImportError:
        return
    if not getattr(greenlet, "GREENLET_USE_CONTEXT_VARS", False):
        import warnings

        warnings.warn(
            "airlock needs greenlet>=1.0 for per-greenlet isolation; with this greenlet, "
            "concurrent gevent/eventlet requests may share scopes. Upgrade with: pip install 'greenlet>=1.0'",
            RuntimeWarning,
            stacklevel=3,
        )


_check_greenlet()

_LAZY = {
    "hookimpl": ("markers", "hookimpl"),
    "hookspec": ("markers", "hookspec"),
    "Option": ("options", "Option"),
    "plugins": ("plugins", None),
}


def __getattr__(name: str) -> Any:
    """Load pluggy-backed names on first use, so ``import airlock`` stays cheap."""
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'airlock' has no attribute {name!r}") from None
    from importlib import import_module

    module = import_module(f".{module_name}", __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


__all__ = [
    # configuration
    "configure",
    "reset_configuration",
    "get_configuration",
    # core
    "Intent",
    "Executor",
    "enqueue",
    "enqueue_call",
    "scope",
    "scoped",
    "policy",
    "Scope",
    "get_current_scope",
    "FlushReport",
    "Fate",
    # executors and plugins
    "register_executor",
    "unregister_executor",
    "resolve_executor",
    "plugins",
    "hookimpl",
    "hookspec",
    "Option",
    # errors
    "AirlockError",
    "UsageError",
    "PolicyEnqueueError",
    "NoScopeError",
    "ScopeStateError",
    "PolicyViolation",
    "UnknownExecutorError",
    "UnknownOptionError",
    "PluginLoadError",
    "FlushFailed",
    # policies
    "Policy",
    "AllowAll",
    "DropAll",
    "AssertNoEffects",
    "BlockTasks",
    "LogOnFlush",
    # kept for integrations written against airlock-py
    "_execute",
    "_current_scope",
    "_in_policy",
]
