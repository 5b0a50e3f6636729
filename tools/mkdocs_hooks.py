"""MkDocs build hooks for airlock's documentation site (``hooks:`` in mkdocs.yml).

- The "Plugins" section of the navigation lists the pages that exist in
  ``docs/plugins/``, in a fixed order for the known distributions, so each
  plugin's authors own their page and the site never links to a missing one.
- ``<!-- airlock:hook-reference -->`` becomes the hook reference, generated
  from the signatures and docstrings in ``airlock/hookspecs.py``.
- ``<!-- airlock:bench-tables -->`` and ``<!-- airlock:bench-chart -->``
  become the tables and the chart of ``docs/assets/benchmarks.json``, the
  committed copy of a ``make bench`` run's ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The committed benchmark results the performance page shows.
RESULTS = ROOT / "docs" / "assets" / "benchmarks.json"
PLUGINS_SECTION = "Plugins"
#: Known plugin pages, in reading order: executors, then middleware, then frameworks.
PLUGIN_ORDER = (
    "airlock-celery",
    "airlock-dramatiq",
    "airlock-huey",
    "airlock-django-q",
    "airlock-retry",
    "airlock-priority",
    "airlock-coalesce",
    "airlock-django",
)


def _importable(folder: Path) -> None:
    """Let the build import from ``folder`` (airlock's source when it is not installed, tools/)."""
    if str(folder) not in sys.path:
        sys.path.append(str(folder))


# -- navigation ------------------------------------------------------------------
def plugin_pages(docs_dir: Path) -> list[str]:
    """``plugins/<name>.md`` for every page present: known ones in order, then others by name."""
    present = {p.stem for p in (docs_dir / "plugins").glob("*.md")}
    known = [name for name in PLUGIN_ORDER if name in present]
    others = sorted(present - set(PLUGIN_ORDER))
    return [f"plugins/{name}.md" for name in known + others]


def on_config(config: Any) -> Any:
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and PLUGINS_SECTION in entry:
            entry[PLUGINS_SECTION] = plugin_pages(Path(config["docs_dir"]))
    return config


# -- hook reference -------------------------------------------------------------------
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data):`~?([^`]+)`")
_PARAM = re.compile(r"^:param (\w+):\s*(.*)$")


def rst_to_markdown(text: str) -> str:
    """The subset of reStructuredText airlock's docstrings use, as Markdown."""
    lines = inspect.cleandoc(text).splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = _ROLE.sub(lambda m: f"`{m.group(1)}`", lines[index])
        param = _PARAM.match(line)
        if param:
            out.append(f"- `{param.group(1)}`: {param.group(2)}")
        elif line.startswith("    ") and out and out[-1].startswith("- `"):
            out[-1] += " " + line.strip()
        elif line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1])
            block, index = [], index + 1
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith("    ")):
                block.append(lines[index][4:])
                index += 1
            out += ["", "```text", *"\n".join(block).strip("\n").splitlines(), "```", ""]
            continue
        else:
            out.append(line)
        index += 1
    return "\n".join(out)


def hook_signature(function: Any) -> str:
    """``def name(arg: Type, ...) -> Return``, annotations as written in the source."""
    signature = inspect.signature(function)
    params = ", ".join(
        f"{p.name}: {p.annotation}" if p.annotation is not p.empty else p.name for p in signature.parameters.values()
    )
    result = "" if signature.return_annotation is signature.empty else f" -> {signature.return_annotation}"
    return f"def {function.__name__}({params}){result}"


def hook_specs() -> list[Any]:
    """Every hook specification in ``airlock.hookspecs``, in source order."""
    _importable(ROOT / "airlock_core" / "src")
    from airlock import hookspecs

    functions = [f for name, f in vars(hookspecs).items() if name.startswith("airlock_") and callable(f)]
    return sorted(functions, key=lambda f: f.__code__.co_firstlineno)


def hook_reference() -> str:
    from airlock import hookspecs

    parts = [rst_to_markdown(hookspecs.__doc__ or ""), ""]
    for function in hook_specs():
        options = getattr(function, "airlock_spec", {}) or {}
        calling = "first non-None result wins (`firstresult`)" if options.get("firstresult") else "every implementation"
        parts += [
            f"## `{function.__name__}`",
            "",
            "```python",
            hook_signature(function),
            "```",
            "",
            f"*Called:* {calling}.",
            "",
            rst_to_markdown(function.__doc__ or ""),
            "",
        ]
    return "\n".join(parts)


# -- benchmarks ------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


def bench_tables() -> str:
    """Markdown tables of every benchmark table and its targets in the results."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    parts = [
        f"Run `{results.get('command', 'make bench')}` at {results.get('generated', '?')}, commit "
        f"`{results.get('commit', '?')}`, {results.get('implementation', '')} {results.get('python', '')} "
        f"on {results.get('platform', '?')}.",
        "",
    ]
    for bench in results.get("benches", []):
        parts += [f"### {bench['name']} (`{bench['script']}`)", ""]
        for table in bench.get("tables", []):
            rank = {"ours": 0, "floor": 2}
            values = sorted(
                {n for row in table["rows"] for n in row.get("values", {})}, key=lambda n: (rank.get(n, 1), n)
            )
            ratios = sorted({n for row in table["rows"] for n in row.get("ratios", {})})
            header = ["case", *values, *ratios]
            parts += [
                f"**{table['title']}** ({table['unit']})",
                "",
                "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header),
            ]
            for row in table["rows"]:
                cells = [
                    row["name"],
                    *(_cell(row["values"].get(v)) for v in values),
                    *(f"{_cell(row['ratios'].get(r))}x" for r in ratios),
                ]
                parts.append("| " + " | ".join(cells) + " |")
            parts.append("")
            if table.get("targets"):
                parts += ["| target | measured | limit | result |", "|---|---|---|---|"]
                for target in table["targets"]:
                    met = {True: "met", False: "**missed**", None: "not measured"}[target.get("met")]
                    parts.append(
                        f"| {target['name']} | {_cell(target.get('measured'))} | {_cell(target.get('limit'))} | {met} |"
                    )
                parts.append("")
    return "\n".join(parts)


def bench_chart() -> str:
    _importable(ROOT / "tools")
    from bench_chart import render

    return render(json.loads(RESULTS.read_text(encoding="utf-8")))


GENERATED = {
    "<!-- airlock:hook-reference -->": hook_reference,
    "<!-- airlock:bench-tables -->": bench_tables,
    "<!-- airlock:bench-chart -->": bench_chart,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for marker, produce in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, produce())
    return markdown
