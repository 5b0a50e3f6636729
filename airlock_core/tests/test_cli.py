"""The ``airlock`` command: ``plugins [--json]`` and ``demo``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import airlock
from airlock import cli

TIMEOUT = 60


def airlock_command() -> list[str]:
    """The installed ``airlock`` console script of this interpreter's environment."""
    script = shutil.which("airlock", path=str(Path(sys.executable).parent))
    assert script is not None, "airlock-core's console script is not installed next to this interpreter"
    return [script]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)


class TestPlugins:
    def test_table_lists_builtin_executors_and_the_core_plugin(self, capsys: pytest.CaptureFixture[str]) -> None:
        status = cli.main(["plugins"])
        out = capsys.readouterr().out
        lines = out.splitlines()
        assert lines[0].split() == ["kind", "name", "distribution", "version", "hooks", "/", "entry", "point"]
        rows = {tuple(line.split()[:4]) for line in lines[2:] if not line.startswith(" ")}
        version = airlock.__version__
        assert ("executor", "sync", "airlock-core", version) in rows
        assert ("executor", "threads", "airlock-core", version) in rows
        assert ("hooks", "airlock-core", "airlock-core", version) in rows
        assert "airlock.executors.threads:threads_executor" in out
        assert "airlock_execute, airlock_options" in out
        assert "option fail_fast = True" in out
        assert status == (1 if "ERROR:" in out else 0)

    def test_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        cli.main(["plugins", "--json"])
        rows = json.loads(capsys.readouterr().out)
        by_name = {(row["kind"], row["name"]): row for row in rows}
        sync = by_name[("executor", "sync")]
        assert sync["distribution"] == "airlock-core"
        assert sync["version"] == airlock.__version__
        assert sync["entry_point"] == "airlock.executors.sync:sync_executor"
        assert sync["error"] == ""
        core = by_name[("hooks", "airlock-core")]
        assert {"airlock_execute", "airlock_options"} <= set(core["hooks"])
        assert {o["name"] for o in core["options"]} >= {"fail_fast", "executor"}
        keys = {"name", "kind", "distribution", "version", "entry_point", "hooks", "options", "error", "disabled"}
        for row in rows:
            assert set(row) == keys

    def test_shows_run_time_plugins_and_executors(  # type: ignore[no-untyped-def]
        self, capsys: pytest.CaptureFixture[str], airlock_plugin, executor_named
    ) -> None:
        class Audit:
            @airlock.hookimpl
            def airlock_after_flush(self) -> None:
                pass

        airlock_plugin(Audit(), "audit-trail")
        executor_named("in-memory", lambda intent: None)
        cli.main(["plugins", "--json"])
        by_name = {(row["kind"], row["name"]): row for row in json.loads(capsys.readouterr().out)}
        assert by_name[("hooks", "audit-trail")]["hooks"] == ["airlock_after_flush"]
        assert by_name[("hooks", "audit-trail")]["entry_point"] == "(registered at run time)"
        assert by_name[("executor", "in-memory")]["entry_point"] == "(registered at run time)"

    def test_a_plugin_whose_options_cannot_be_read_is_listed_with_its_error(  # type: ignore[no-untyped-def]
        self, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
    ) -> None:
        """The listing still works and names each broken plugin; scopes fail
        with an error naming it."""

        class MissingDependency:
            @airlock.hookimpl
            def airlock_options(self) -> list[airlock.Option]:
                raise ImportError("optional dependency 'foo' missing")

        class NotOptions:
            @airlock.hookimpl
            def airlock_options(self) -> list[object]:
                return [("x", 1)]

        class FirstTagger:
            @airlock.hookimpl
            def airlock_options(self) -> list[airlock.Option]:
                return [airlock.Option("tag", None, "A tag.")]

        class FirstLabeller:
            @airlock.hookimpl
            def airlock_options(self) -> list[airlock.Option]:
                return [airlock.Option("label", None, "A label.")]

        class BadWrap:
            @airlock.hookimpl(wrapper=True)
            def airlock_enqueue(self) -> Iterator[None]:
                yield

        # Loaded as from entry points: plugins.register() would refuse each of these at once.
        pm = airlock.plugins.get_plugin_manager()
        for plugin, name in [
            (MissingDependency(), "missing-dependency"),
            (NotOptions(), "not-options"),
            (FirstTagger(), "first-tagger"),
            (FirstTagger(), "second-tagger"),
            (FirstLabeller(), "first-labeller"),
            (FirstLabeller(), "second-labeller"),
            (BadWrap(), "bad-wrap"),
        ]:
            pm.register(plugin, name=name)
            airlock.plugins._host._infos[name] = airlock.plugins._host._info(name, plugin, "", "", "test")
            airlock.plugins._host._hooks = None
            request.addfinalizer(lambda name=name: airlock.plugins.unregister(name=name))
        with pytest.raises(airlock.PluginLoadError) as every:
            airlock.scope()
        lines = str(every.value).splitlines()  # every problem, not only the first one found
        assert lines[0].startswith("5 problems with airlock plugins; fix or uninstall each")
        named = sorted(line.split("'")[1] for line in lines[1:])
        assert named == ["bad-wrap", "label", "missing-dependency", "not-options", "tag"]  # each clash too
        cli.main(["plugins", "--json"])
        errors = {row["name"]: row["error"] for row in json.loads(capsys.readouterr().out) if row["kind"] == "hooks"}
        assert "airlock_options raised ImportError: optional dependency 'foo' missing" in errors["missing-dependency"]
        assert "must return airlock.Option objects, got ('x', 1)" in errors["not-options"]
        assert "declares the option 'tag', as 'second-tagger' does" in errors["first-tagger"]
        assert "declares the option 'tag', as 'first-tagger' does" in errors["second-tagger"]
        assert "airlock_enqueue does not support hook wrappers" in errors["bad-wrap"]
        assert errors["airlock-core"] == ""

    def test_console_script_and_python_m_agree(self) -> None:
        by_script = run([*airlock_command(), "plugins", "--json"])
        by_module = run([sys.executable, "-m", "airlock", "plugins", "--json"])
        assert by_script.stdout and by_script.stdout == by_module.stdout, by_script.stderr + by_module.stderr
        assert by_script.returncode == by_module.returncode
        names = {(row["kind"], row["name"]) for row in json.loads(by_script.stdout)}
        assert {("executor", "sync"), ("executor", "threads"), ("hooks", "airlock-core")} <= names

    def test_command_is_required(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as info:
            cli.main([])
        assert info.value.code == 2
        assert "plugins" in capsys.readouterr().err


@pytest.mark.parametrize("default_executor", [None, "threads"])
def test_demo_runs_and_shows_the_report(monkeypatch: pytest.MonkeyPatch, default_executor: str | None) -> None:
    """Its narration holds whatever the environment's default executor is."""
    if default_executor is None:
        monkeypatch.delenv("AIRLOCK_EXECUTOR", raising=False)
    else:
        monkeypatch.setenv("AIRLOCK_EXECUTOR", default_executor)
    result = run([*airlock_command(), "demo"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "report: flushed: 2 dispatched",
        "report: discarded: 1 discarded",
        "report: flushed: 1 dispatched, 1 dropped",
        "dropped       audit('login') (BlockTasks({'audit'}))",
        "report: flushed: 1 captured",
        "ran on airlock-threads",
        "report: flushed: 3 dispatched",
        "report: flushed: 1 dispatched, 1 failed, 1 not_attempted",
        "not_attempted send_email(10)",
    ):
        assert expected in out, f"{expected!r} missing from the demo output:\n{out}"
    assert result.stderr == ""


def test_python_m_airlock_demo() -> None:
    result = run([sys.executable, "-m", "airlock", "demo"])
    assert result.returncode == 0, result.stderr
    assert "report: flushed: 2 dispatched" in result.stdout
