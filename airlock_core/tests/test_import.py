"""``import airlock`` stays cheap; pluggy-backed names load on first use."""

from __future__ import annotations

import inspect
import json

import pytest

import airlock
from airlock import hookspecs


def test_import_loads_no_pluggy_reads_no_entry_points_and_imports_no_backend(python) -> None:  # type: ignore[no-untyped-def]
    code = """
    import importlib.metadata as metadata, json, sys
    calls = []
    real = metadata.entry_points
    metadata.entry_points = lambda *a, **k: calls.append(k) or real(*a, **k)
    before = set(sys.modules)
    import airlock
    new = sorted(m.split(".")[0] for m in set(sys.modules) - before)
    print(json.dumps({"entry_points": calls, "new_top_level": sorted(set(new))}))
    """
    result = python(code)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["entry_points"] == []
    # (greenlet is imported when installed: airlock checks its version, see test_errors_and_compat_names)
    backends = {"pluggy", "celery", "dramatiq", "huey", "django", "django_q", "gevent", "kombu", "redis"}
    assert not backends & set(outcome["new_top_level"]), outcome["new_top_level"]
    plugins = [m for m in outcome["new_top_level"] if m.startswith("airlock_")]
    assert plugins == []
    # Costly standard modules airlock's own import leaves to first use (the options module needs them);
    # on Python 3.10 the ExceptionGroup backport imports inspect (and ast) itself.
    costly = {"dataclasses"} if "exceptiongroup" in outcome["new_top_level"] else {"dataclasses", "inspect", "ast"}
    assert not costly & set(outcome["new_top_level"]), outcome["new_top_level"]


def test_first_scope_loads_the_plugin_manager(python) -> None:  # type: ignore[no-untyped-def]
    code = """
    import sys, airlock
    print("pluggy" in sys.modules)
    with airlock.scope():
        pass
    print("pluggy" in sys.modules)
    """
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("name", ["hookimpl", "hookspec", "Option", "plugins"])
def test_lazy_names(name: str) -> None:
    assert getattr(airlock, name) is not None
    assert name in airlock.__all__


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        airlock.no_such_name  # type: ignore[attr-defined]  # noqa: B018 - reading it is the test


HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("airlock_"))


def test_the_four_lifecycle_hooks_and_options_exist() -> None:
    assert set(HOOKS) >= {
        "airlock_options",
        "airlock_enqueue",
        "airlock_before_flush",
        "airlock_execute",
        "airlock_after_flush",
    }


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_documents_each_parameter(hook: str) -> None:
    function = getattr(hookspecs, hook)
    doc = inspect.getdoc(function) or ""
    assert len(doc.splitlines()) >= 3, f"{hook} needs a docstring that is its full spec"
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, f"{hook} does not document {parameter!r}"
