"""Compatible import paths served by separately installed distributions."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def load(module: str, distribution: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The ``names`` of ``module``, or an ImportError saying what to install."""
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
    return {name: getattr(found, name) for name in names}
