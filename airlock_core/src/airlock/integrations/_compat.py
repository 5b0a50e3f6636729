"""Compatible import paths served by separately installed distributions."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def load(module: str, distribution: str, *names: str) -> Any:
    """Attribute ``names`` of ``module`` (one value, or a tuple for several),
    or an ImportError saying which distribution to install."""
    try:
        found = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
            raise  # the distribution is installed but one of its own imports failed
        raise ImportError(
            f"This airlock integration lives in the distribution {distribution!r}, which is not installed. "
            f"Install it with: pip install {distribution}",
            name=module,
        ) from exc
    values = tuple(getattr(found, name) for name in names)
    return values[0] if len(values) == 1 else values
