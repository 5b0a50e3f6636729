"""The context variables that carry airlock's per-task state.

Context variables isolate state per thread, per asyncio task and per greenlet
(greenlet >= 1.0), which is exactly the isolation scopes need.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .policies import Policy
    from .scope import Scope

#: The innermost active scope, or None.
current_scope: ContextVar[Scope | None] = ContextVar("airlock_current_scope", default=None)
#: True while a policy callback runs; enqueue() refuses to run then.
in_policy: ContextVar[bool] = ContextVar("airlock_in_policy", default=False)
#: The local policies (``airlock.policy(...)``) active here, outermost first.
policy_stack: ContextVar[tuple[Policy, ...]] = ContextVar("airlock_policy_stack", default=())
