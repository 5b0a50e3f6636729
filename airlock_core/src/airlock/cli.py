"""The ``airlock`` command: ``airlock plugins [--json]`` and ``airlock demo``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _row(
    name: str,
    kind: str,
    *,
    distribution: str = "",
    version: str = "",
    entry_point: str = "",
    hooks: Sequence[str] = (),
    options: Sequence[dict[str, str]] = (),
    error: str = "",
    disabled: bool = False,
) -> dict[str, Any]:
    """One row of ``airlock plugins`` (the keys ``--json`` documents)."""
    return {
        "name": name,
        "kind": kind,
        "distribution": distribution,
        "version": version,
        "entry_point": entry_point,
        "hooks": list(hooks),
        "options": list(options),
        "error": error,
        "disabled": disabled,
    }


def _provided_by(eps: Sequence[Any]) -> dict[str, str]:
    """``distribution`` and ``version`` of a name these entry points provide:
    several distributions are all listed, with no version."""
    dists = [ep.dist for ep in eps if ep.dist]
    return {
        "distribution": ", ".join(dist.name for dist in dists),
        "version": dists[0].version if len(dists) == 1 else "",
    }


def _executor_rows() -> list[dict[str, Any]]:
    from .errors import PluginLoadError
    from .executors import _clashes, _registered, executor_entry_points, resolve_executor
    from .plugins import _RUN_TIME

    rows = []
    for name, ep in sorted(executor_entry_points().items()):
        row = _row(
            name,
            "executor",
            distribution=_provided_by(_clashes.get(name, [ep]))["distribution"],
            version=ep.dist.version if ep.dist else "",  # the first claim's; a clash row's error names the rest
            entry_point=ep.value,
        )
        try:
            resolve_executor(name)
        except PluginLoadError as exc:
            row["error"] = str(exc)
        rows.append(row)
    rows += [_row(name, "executor", entry_point=_RUN_TIME) for name in sorted(_registered)]
    return rows


def _plugin_rows() -> list[dict[str, Any]]:
    from .plugins import plugin_infos

    return [
        _row(
            info.name,
            "hooks",
            distribution=info.distribution,
            version=info.version,
            entry_point=info.entry_point,
            hooks=info.hooks,
            options=[{"name": o.name, "default": repr(o.default), "doc": o.doc} for o in info.options],
            error=info.error,
        )
        for info in plugin_infos()
    ]


def _disabled_rows() -> list[dict[str, Any]]:
    """The installed executors and hook plugins the environment keeps from loading."""
    from .executors import GROUP, _not_loaded
    from .plugins import PROJECT

    return [
        _row(name, kind, **_provided_by(eps), entry_point=eps[0].value, disabled=True)
        for group, kind in ((GROUP, "executor"), (PROJECT, "hooks"))
        for name, eps in sorted(_not_loaded(group).items())
    ]


def _unknown_disabled_names() -> list[str]:
    """The names ``AIRLOCK_DISABLE_PLUGINS`` lists that no installed entry point has (typos)."""
    from importlib.metadata import entry_points

    from .executors import GROUP, _blocked_names
    from .plugins import PROJECT

    installed = {ep.name for group in (GROUP, PROJECT) for ep in entry_points(group=group)}
    return sorted(_blocked_names() - installed)


def _print_table(rows: list[dict[str, Any]]) -> None:
    columns = ("kind", "name", "distribution", "version", "hooks / entry point")
    table = [
        (
            r["kind"],
            r["name"],
            r["distribution"] or "-",
            r["version"] or "-",
            ", ".join(r["hooks"]) if r["hooks"] else r["entry_point"] + (" (disabled)" if r["disabled"] else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(cell)) for cell in col) for col in zip(columns, *table, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*columns))
    print(line.format(*("-" * w for w in widths)))
    for r, cells in zip(rows, table, strict=True):
        print(line.format(*cells).rstrip())
        for option in r["options"]:
            print(f"    option {option['name']} = {option['default']}: {option['doc']}")
        if r["error"]:
            print(f"    ERROR: {r['error']}")


def cmd_plugins(args: argparse.Namespace) -> int:
    """List installed executors and hook plugins, disabled ones too; exit 1 if any failed to load."""
    rows = _executor_rows() + _plugin_rows() + _disabled_rows()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        _print_table(rows)
    for name in _unknown_disabled_names():
        print(f"airlock: AIRLOCK_DISABLE_PLUGINS names {name!r}, which nothing installed provides", file=sys.stderr)
    return 1 if any(r["error"] for r in rows) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the guided demo."""
    from .demo import run

    run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``airlock`` command."""
    parser = argparse.ArgumentParser(prog="airlock", description="airlock: side effects that wait for the boundary.")
    sub = parser.add_subparsers(dest="command", required=True)
    plugins = sub.add_parser("plugins", help="list installed executors and hook plugins")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.set_defaults(func=cmd_plugins)
    demo = sub.add_parser("demo", help="a short guided run, no broker needed")
    demo.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
