"""Discovery through real distributions: entry points, disabling, load errors, ``airlock plugins``.

A session fixture builds one virtualenv holding only airlock-core and the two
throwaway distributions in ``tests/fixtures/`` (installed from wheels, as a
user would), and every test runs Python or the ``airlock`` command inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 60

#: Blocks the broken and the clashing hook plugins, so tests about the good ones can use the plugin manager.
WITHOUT_BROKEN_HOOKS = {"AIRLOCK_DISABLE_PLUGINS": "broken_import,typo_hooks,twin_hooks,wrapping_hooks"}


@dataclass(frozen=True)
class Venv:
    """A virtualenv with airlock-core and the fixture distributions installed."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRLOCK_", "PYTHON"))}
        env.update(extra or {})
        return env

    def run(self, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            env=self.env(env),
            cwd=self.root,  # not the repository: nothing importable by accident
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def python_code(self, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(self.python, "-c", textwrap.dedent(code), env=env)


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One virtualenv per session: airlock-core plus the fixture distributions, nothing else."""
    base = tmp_path_factory.mktemp("discovery")
    sources = base / "src"
    for name in ("airlock-fixture-good", "airlock-fixture-broken"):
        shutil.copytree(FIXTURES / name, sources / name)
    shutil.copytree(
        ROOT / "airlock_core", sources / "airlock_core", ignore=shutil.ignore_patterns("tests", "__pycache__")
    )
    env = Venv(base / "venv")
    subprocess.run([sys.executable, "-m", "venv", str(env.root)], check=True, timeout=INSTALL_TIMEOUT)
    install = subprocess.run(
        [
            env.python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
            sources / "airlock_core", sources / "airlock-fixture-good", sources / "airlock-fixture-broken",
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    return env


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def last_json(result: subprocess.CompletedProcess[str]) -> object:
    return json.loads(ok(result).strip().splitlines()[-1])


#: Runs one scope in the venv and prints what the fixture executor and hook plugin saw.
_SELECT = """
import json, airlock
from airlock_fixture_good.executor import DISPATCHED
from airlock_fixture_good.hooks import SEEN

def send_email(user_id):
    pass

{setup}
with airlock.scope({scope_args}):
    airlock.enqueue(send_email, 1)
print(json.dumps({{"dispatched": DISPATCHED, "seen": SEEN}}))
"""


def select(venv: Venv, setup: str = "", scope_args: str = "", env: dict[str, str] | None = None) -> object:
    return last_json(venv.python_code(_SELECT.format(setup=setup, scope_args=scope_args), env=env))


def scope_error(venv: Venv, scope_args: str, error: str) -> str:
    """The message of the ``airlock.<error>`` that ``airlock.scope(<scope_args>)`` raises in the venv."""
    code = f"""
    import airlock
    try:
        airlock.scope({scope_args})
    except airlock.{error} as exc:
        print(exc)
    """
    message = ok(venv.python_code(code, env=WITHOUT_BROKEN_HOOKS))
    assert message, f"airlock.scope({scope_args}) raised no {error}"
    return message


class TestImportIsCheap:
    def test_import_reads_no_entry_points_and_loads_no_plugin(self, venv: Venv) -> None:
        code = """
        import importlib.metadata as metadata, json, sys
        calls = []
        real = metadata.entry_points
        metadata.entry_points = lambda *a, **k: calls.append(k) or real(*a, **k)
        import airlock
        watched = ("pluggy", "airlock_fixture_good", "airlock_fixture_broken")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in watched)
        print(json.dumps({"entry_points_calls": calls, "loaded": loaded}))
        """
        # The broken plugins are installed and enabled: importing airlock must still succeed.
        assert last_json(venv.python_code(code)) == {"entry_points_calls": [], "loaded": []}


class TestExecutorByName:
    expected = {
        "dispatched": ["send_email"],
        "seen": [["enqueue", "send_email"], ["after_flush", ":flushed: 1 dispatched"]],
    }

    def test_scope_argument(self, venv: Venv) -> None:
        assert select(venv, scope_args="executor='fixture_exec'", env=WITHOUT_BROKEN_HOOKS) == self.expected

    def test_configure(self, venv: Venv) -> None:
        assert select(venv, setup="airlock.configure(executor='fixture_exec')", env=WITHOUT_BROKEN_HOOKS) == (
            self.expected
        )

    def test_environment(self, venv: Venv) -> None:
        env = {**WITHOUT_BROKEN_HOOKS, "AIRLOCK_EXECUTOR": "fixture_exec"}
        assert select(venv, env=env) == self.expected

    def test_plugin_option_is_accepted(self, venv: Venv) -> None:
        result = select(venv, scope_args="executor='fixture_exec', fixture_label='L'", env=WITHOUT_BROKEN_HOOKS)
        assert result["seen"][-1] == ["after_flush", "L:flushed: 1 dispatched"]  # type: ignore[index]

    def test_unknown_name_lists_the_installed_executors(self, venv: Venv) -> None:
        message = scope_error(venv, "executor='fixture_exe'", "UnknownExecutorError")
        assert "Did you mean 'fixture_exec'?" in message
        for name in ("fixture_exec", "sync", "threads", "broken_exec"):
            assert name in message


class TestBrokenPlugins:
    def test_import_error_is_raised_at_first_use_naming_distribution_and_entry_point(self, venv: Venv) -> None:
        code = """
        import json, airlock
        print("imported")
        try:
            airlock.scope()
        except airlock.PluginLoadError as exc:
            print(json.dumps([str(exc), exc.distribution, exc.entry_point, type(exc.__cause__).__name__]))
        """
        result = venv.python_code(code, env={"AIRLOCK_DISABLE_PLUGINS": "typo_hooks,twin_hooks,wrapping_hooks"})
        assert ok(result).splitlines()[0] == "imported"
        message, distribution, entry_point, cause = last_json(result)  # type: ignore[misc]
        assert distribution == "airlock-fixture-broken"
        assert entry_point == "airlock:broken_import"
        assert cause == "ModuleNotFoundError"
        assert "airlock-fixture-broken" in message and "broken_import" in message
        assert "airlock_fixture_backend_that_does_not_exist" in message

    def test_a_scope_names_every_broken_hook_plugin_at_once(self, venv: Venv) -> None:
        """Not one per fix-and-retry: each load error and each loaded plugin that cannot be used."""
        code = """
        import airlock
        try:
            airlock.scope()
        except airlock.PluginLoadError as exc:
            print(exc)
        """
        lines = ok(venv.python_code(code)).splitlines()
        assert lines[0].startswith("4 problems with airlock plugins; fix or uninstall each")
        for name, why in [
            ("broken_import", "airlock_fixture_backend_that_does_not_exist"),
            ("typo_hooks", "airlock_afterflush"),
            ("twin_hooks", "loads none of them"),
            ("wrapping_hooks", "does not support hook wrappers"),
        ]:
            assert any(name in line and why in line for line in lines[1:]), (name, lines)

    def test_unknown_hook_names_distribution_and_entry_point(self, venv: Venv) -> None:
        code = """
        import airlock
        try:
            airlock.scope()
        except airlock.PluginLoadError as exc:
            print(exc.distribution, "|", exc)
        """
        out = ok(venv.python_code(code, env={"AIRLOCK_DISABLE_PLUGINS": "broken_import,twin_hooks"}))
        assert out.startswith("airlock-fixture-broken |")
        assert "typo_hooks" in out and "airlock_afterflush" in out

    def test_broken_executor_fails_when_selected(self, venv: Venv) -> None:
        code = """
        import json, airlock
        with airlock.scope():  # other executors and plugins are unaffected
            pass
        try:
            airlock.scope(executor="broken_exec")
        except airlock.PluginLoadError as exc:
            print(json.dumps([str(exc), exc.distribution, exc.entry_point]))
        """
        message, distribution, entry_point = last_json(venv.python_code(code, env=WITHOUT_BROKEN_HOOKS))  # type: ignore[misc]
        assert (distribution, entry_point) == ("airlock-fixture-broken", "airlock.executors:broken_exec")
        assert "broken_exec" in message and "airlock-fixture-broken" in message


class TestRefusedExecutors:
    def test_an_entry_point_naming_a_class_is_refused_not_instantiated_per_intent(self, venv: Venv) -> None:
        message = scope_error(venv, "executor='class_exec'", "PluginLoadError")
        assert "'class_exec'" in message and "is a class; point the entry point at an instance of it" in message

    def test_a_name_two_distributions_provide_is_refused_naming_both(self, venv: Venv) -> None:
        code = """
        import json, airlock
        try:
            airlock.scope(executor="twin_exec")
        except airlock.PluginLoadError as exc:
            print(json.dumps([str(exc), exc.distribution]))
        """
        message, distributions = last_json(venv.python_code(code, env=WITHOUT_BROKEN_HOOKS))  # type: ignore[misc]
        assert "provided by more than one installed distribution" in message
        assert sorted(distributions.split(", ")) == ["airlock-fixture-broken", "airlock-fixture-good"]

    def test_a_hook_plugin_name_two_distributions_provide_loads_neither(self, venv: Venv) -> None:
        code = """
        import json, airlock
        try:
            airlock.scope()
        except airlock.PluginLoadError as exc:
            print(json.dumps([str(exc), exc.entry_point]))
        """
        env = {"AIRLOCK_DISABLE_PLUGINS": "broken_import,typo_hooks"}
        message, entry_point = last_json(venv.python_code(code, env=env))  # type: ignore[misc]
        assert entry_point == "airlock:twin_hooks"
        assert "airlock-fixture-good" in message and "airlock-fixture-broken" in message
        assert "loads none of them" in message


class TestDisabling:
    def test_disable_autoload_loads_no_entry_point_plugin(self, venv: Venv) -> None:
        env = {"AIRLOCK_DISABLE_PLUGIN_AUTOLOAD": "1"}
        result = select(venv, scope_args="executor='fixture_exec'", env=env)
        assert result == {"dispatched": ["send_email"], "seen": []}

    def test_disable_by_name(self, venv: Venv) -> None:
        env = {"AIRLOCK_DISABLE_PLUGINS": "broken_import, typo_hooks,fixture_hooks,twin_hooks,wrapping_hooks"}
        result = select(venv, scope_args="executor='fixture_exec'", env=env)
        assert result == {"dispatched": ["send_email"], "seen": []}

    @pytest.mark.parametrize(
        ("env", "why"),
        [
            ({"AIRLOCK_DISABLE_PLUGINS": "fixture_hooks"}, "AIRLOCK_DISABLE_PLUGINS"),
            ({"AIRLOCK_DISABLE_PLUGIN_AUTOLOAD": "1"}, "AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"),
        ],
    )
    def test_an_option_of_a_disabled_plugin_is_unknown_and_the_error_says_it_is_disabled(
        self, venv: Venv, env: dict[str, str], why: str
    ) -> None:
        code = """
        import airlock
        try:
            airlock.scope(fixture_label="x")
        except airlock.UnknownOptionError as exc:
            print(exc)
        """
        blocked = "broken_import,typo_hooks,twin_hooks,wrapping_hooks"
        if "AIRLOCK_DISABLE_PLUGINS" in env:
            env = {"AIRLOCK_DISABLE_PLUGINS": f"{env['AIRLOCK_DISABLE_PLUGINS']},{blocked}"}
        out = ok(venv.python_code(code, env=env))
        assert out.startswith("Unknown airlock option 'fixture_label'")
        assert f"Installed but not loaded ({why}): " in out and "fixture_hooks" in out.split("not loaded")[1]

    def test_disabled_executor_is_unknown(self, venv: Venv) -> None:
        code = """
        import airlock
        try:
            airlock.scope(executor="fixture_exec")
        except airlock.UnknownExecutorError as exc:
            print("unknown", exc.known)
        """
        env = {"AIRLOCK_DISABLE_PLUGINS": "fixture_exec,broken_import,typo_hooks,twin_hooks,wrapping_hooks"}
        out = ok(venv.python_code(code, env=env))
        assert out.startswith("unknown") and "fixture_exec" not in out


class TestPluginsCommand:
    @pytest.fixture(params=["script", "module"])
    def command(self, request: pytest.FixtureRequest, venv: Venv) -> Callable[..., subprocess.CompletedProcess[str]]:
        prefix = [venv.bin / "airlock"] if request.param == "script" else [venv.python, "-m", "airlock"]
        return lambda *args, env=None: venv.run(*prefix, *args, env=env)

    def test_json_lists_everything_with_load_errors(
        self, command: Callable[..., subprocess.CompletedProcess[str]]
    ) -> None:
        result = command("plugins", "--json")
        assert result.returncode == 1  # something failed to load
        rows = {(row["kind"], row["name"]): row for row in json.loads(result.stdout)}
        executor = rows[("executor", "fixture_exec")]
        assert (executor["distribution"], executor["version"], executor["error"]) == (
            "airlock-fixture-good",
            "1.2.3",
            "",
        )
        assert executor["entry_point"] == "airlock_fixture_good.executor:fixture_executor"
        hooks = rows[("hooks", "fixture_hooks")]
        assert (hooks["distribution"], hooks["version"], hooks["error"]) == ("airlock-fixture-good", "1.2.3", "")
        assert hooks["hooks"] == ["airlock_after_flush", "airlock_enqueue", "airlock_options"]
        assert [o["name"] for o in hooks["options"]] == ["fixture_label"]
        for key in (
            ("hooks", "broken_import"),
            ("hooks", "typo_hooks"),
            ("executor", "broken_exec"),
            ("executor", "class_exec"),
        ):
            assert rows[key]["distribution"] == "airlock-fixture-broken"
            assert key[1] in rows[key]["error"]
        assert "airlock_fixture_backend_that_does_not_exist" in rows[("hooks", "broken_import")]["error"]
        for twin in (("executor", "twin_exec"), ("hooks", "twin_hooks")):  # every distribution that provides it
            assert sorted(rows[twin]["distribution"].split(", ")) == ["airlock-fixture-broken", "airlock-fixture-good"]
        assert "airlock_afterflush" in rows[("hooks", "typo_hooks")]["error"]
        # It loads, but every scope would fail: listed with that error, behind the load errors.
        assert "airlock_after_flush does not support hook wrappers" in rows[("hooks", "wrapping_hooks")]["error"]
        core = rows[("hooks", "airlock-core")]
        assert core["distribution"] == "airlock-core" and core["error"] == ""
        assert {("executor", "sync"), ("executor", "threads")} <= set(rows)

    def test_table(self, command: Callable[..., subprocess.CompletedProcess[str]]) -> None:
        result = command("plugins")
        assert result.returncode == 1
        lines = result.stdout.splitlines()
        by_name = {line.split()[1]: line for line in lines[2:] if line and not line.startswith(" ")}
        assert by_name["fixture_exec"].split()[:4] == ["executor", "fixture_exec", "airlock-fixture-good", "1.2.3"]
        assert by_name["fixture_hooks"].split()[:4] == ["hooks", "fixture_hooks", "airlock-fixture-good", "1.2.3"]
        assert "airlock_after_flush, airlock_enqueue, airlock_options" in by_name["fixture_hooks"]
        errors = [line.strip() for line in lines if line.strip().startswith("ERROR:")]
        assert len(errors) == 7  # broken_import, typo_hooks, wrapping_hooks, broken_exec, class_exec, twin_*
        assert any("broken_import" in e and "airlock-fixture-broken" in e for e in errors)

    def test_healthy_install_exits_zero(self, command: Callable[..., subprocess.CompletedProcess[str]]) -> None:
        blocked = "broken_import,typo_hooks,broken_exec,class_exec,twin_exec,twin_hooks,wrapping_hooks"
        result = command("plugins", env={"AIRLOCK_DISABLE_PLUGINS": blocked})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ERROR" not in result.stdout
        rows = [line.split() for line in result.stdout.splitlines()[2:] if line and not line.startswith(" ")]
        assert ["executor", "fixture_exec"] in [row[:2] for row in rows]
        disabled = sorted(row[1] for row in rows if row[-1] == "(disabled)")  # still listed, marked, once each
        assert disabled == sorted(blocked.split(","))

    def test_json_marks_disabled_plugins_and_a_name_nothing_provides_is_warned_of(
        self, command: Callable[..., subprocess.CompletedProcess[str]]
    ) -> None:
        """A plugin the environment disables does not vanish from the listing,
        and a misspelt name in the list (which disables nothing) is said."""
        blocked = "broken_import,typo_hooks,broken_exec,class_exec,twin_exec,twin_hooks,wrapping_hooks"
        result = command("plugins", "--json", env={"AIRLOCK_DISABLE_PLUGINS": f"{blocked},fixture_hooks,fixture_hoks"})
        rows = {(row["kind"], row["name"]): row for row in json.loads(result.stdout)}
        hooks = rows[("hooks", "fixture_hooks")]
        assert (hooks["disabled"], hooks["distribution"], hooks["error"]) == (True, "airlock-fixture-good", "")
        assert rows[("executor", "fixture_exec")]["disabled"] is False
        twin = rows[("hooks", "twin_hooks")]
        assert twin["disabled"] and sorted(twin["distribution"].split(", ")) == [
            "airlock-fixture-broken",
            "airlock-fixture-good",
        ]
        assert result.stderr.strip() == (
            "airlock: AIRLOCK_DISABLE_PLUGINS names 'fixture_hoks', which nothing installed provides"
        )
