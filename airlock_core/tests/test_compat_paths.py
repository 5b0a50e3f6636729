"""Import paths kept from airlock-py: served by the plugin distributions, or a clear ImportError.

These run in every environment: with only airlock-core installed (the plugins
really are missing) and in the workspace (the plugins are installed). Each
case runs in a fresh interpreter where the provider module is either blocked
(as if its distribution were not installed) or replaced by a stand-in, so the
result does not depend on what happens to be installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import airlock
from airlock.executors.sync import sync_executor

#: compatible module -> (provider module, distribution, names it must re-export)
COMPAT = {
    "airlock.integrations.executors.celery": ("airlock_celery", "airlock-celery", ["celery_executor"]),
    "airlock.integrations.executors.dramatiq": ("airlock_dramatiq", "airlock-dramatiq", ["dramatiq_executor"]),
    "airlock.integrations.executors.huey": ("airlock_huey", "airlock-huey", ["huey_executor"]),
    "airlock.integrations.executors.django_q": ("airlock_django_q", "airlock-django-q", ["django_q_executor"]),
    "airlock.integrations.executors.django_tasks": ("airlock_django", "airlock-django", ["django_tasks_executor"]),
    "airlock.integrations.celery": (
        "airlock_celery.integration",
        "airlock-celery",
        ["LegacyTaskShim", "install_global_intercept", "uninstall_global_intercept"],
    ),
    "airlock.integrations.django": (
        "airlock_django",
        "airlock-django",
        ["DjangoScope", "AirlockMiddleware", "get_setting", "get_policy", "get_executor", "get_scope_class"],
    ),
    "airlock.integrations.django.apps": ("airlock_django.apps", "airlock-django", ["AirlockConfig"]),
    "airlock.integrations.django.management.commands.migrate": (
        "airlock_django.management.commands.migrate",
        "airlock-django",
        ["Command"],
    ),
}

#: Runs in a child interpreter: block the top-level provider packages, import each compatible path.
_BLOCKED = """
import importlib, json, sys

BLOCKED = {blocked!r}

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Block())
results = {{}}
for module in {modules!r}:
    try:
        importlib.import_module(module)
    except Exception as exc:
        results[module] = [type(exc).__name__, str(exc), isinstance(exc, ImportError)]
    else:
        results[module] = None
print(json.dumps(results))
"""


def test_sync_executor_path() -> None:
    from airlock.integrations.executors.sync import sync_executor as compat

    assert compat is sync_executor
    ran: list[int] = []
    compat(airlock.Intent(task=ran.append, args=(1,), kwargs={}))
    assert ran == [1]


def test_missing_distribution_is_an_import_error_naming_it(python) -> None:  # type: ignore[no-untyped-def]
    blocked = sorted({provider.split(".")[0] for provider, _, _ in COMPAT.values()})
    result = python(_BLOCKED.format(blocked=blocked, modules=list(COMPAT)))
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)
    for module, (_, distribution, _) in COMPAT.items():
        outcome = outcomes[module]
        assert outcome is not None, f"{module} imported although its provider is missing"
        kind, message, is_import_error = outcome
        assert is_import_error, f"{module} raised {kind}, not an ImportError: {message}"
        assert f"pip install {distribution}" in message, message


def test_import_airlock_works_without_any_plugin(python) -> None:  # type: ignore[no-untyped-def]
    blocked = sorted({provider.split(".")[0] for provider, _, _ in COMPAT.values()})
    code = _BLOCKED.format(blocked=blocked, modules=["airlock", "airlock.integrations.executors.sync"])
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"airlock": None, "airlock.integrations.executors.sync": None}


def _write_stand_ins(root: Path) -> None:
    """Stand-in provider packages exporting a marker object for every required name."""
    files: dict[Path, list[str]] = {}
    for provider, _, names in COMPAT.values():
        parts = provider.split(".")
        path = root.joinpath(*parts[:-1], f"{parts[-1]}.py") if len(parts) > 1 else root / parts[0] / "__init__.py"
        files.setdefault(path, []).extend(names)
    for package in {p.split(".")[0] for p, _, _ in COMPAT.values()}:
        files.setdefault(root / package / "__init__.py", [])
    for path, names in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        path.write_text("".join(f"{name} = ('stand-in', {module!r}, {name!r})\n" for name in names))


def test_paths_re_export_the_providers_names(python, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _write_stand_ins(tmp_path)
    code = f"""
    import importlib, json, sys
    sys.path.insert(0, {str(tmp_path)!r})
    out = {{}}
    for module, names in { ({m: names for m, (_, _, names) in COMPAT.items()})!r}.items():
        imported = importlib.import_module(module)
        out[module] = {{name: list(getattr(imported, name)) for name in names}}
        out[module]["__all__"] = sorted(imported.__all__)
    print(json.dumps(out))
    """
    result = python(code)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    for module, (provider, _, names) in COMPAT.items():
        assert exported[module].pop("__all__") == sorted(names)
        assert exported[module] == {name: ["stand-in", provider, name] for name in names}


@pytest.mark.parametrize("module", ["airlock.integrations.executors.celery", "airlock.integrations.django"])
def test_a_broken_installed_provider_is_not_reported_as_missing(python, tmp_path: Path, module: str) -> None:  # type: ignore[no-untyped-def]
    # The distribution is there but its own dependency is missing: show that error, not "install X".
    provider = COMPAT[module][0]
    package = tmp_path / provider.split(".")[0]
    package.mkdir()
    (package / "__init__.py").write_text("import backend_that_is_not_installed_xyz\n")
    code = f"""
    import sys
    sys.path.insert(0, {str(tmp_path)!r})
    try:
        import {module}
    except ModuleNotFoundError as exc:
        print(exc.name)
    """
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "backend_that_is_not_installed_xyz"
