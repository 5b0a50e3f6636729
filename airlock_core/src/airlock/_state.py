"""The cached hook callers, readable without importing pluggy.

``airlock.plugins`` fills ``hooks`` when plugins load and clears it when they
change; the hot path reads it and loads plugins only on first need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plugins import Hooks

hooks: Hooks | None = None


def load_hooks() -> Hooks:
    """Load plugins (first time only) and return the cached hook callers."""
    from .plugins import _host

    return _host.hooks()
