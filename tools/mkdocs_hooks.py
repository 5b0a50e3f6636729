"""MkDocs build hooks for airlock's documentation site (``hooks:`` in mkdocs.yml).

- The "Plugins" section of the navigation lists the pages that exist in
  ``docs/plugins/``, in a fixed order for the known distributions, so each
  plugin's authors own their page and the site never links to a missing one.
- ``<!-- airlock:hook-reference -->`` becomes the hook reference, generated
  from the signatures and docstrings in ``airlock/hookspecs.py``.
- ``<!-- airlock:bench-tables -->`` and ``<!-- airlock:bench-chart -->``
  become the tables and chart of ``benchmarks/results/latest.md``/``.json``
  (written by ``make bench``).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
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
    sys.path.insert(0, str(ROOT / "airlock_core" / "src"))
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
def bench_tables() -> str:
    """The saved results' Markdown, headings moved two levels down, without its title."""
    text = (RESULTS / "latest.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("# ")]
    return "\n".join("##" + line if line.startswith("#") else line for line in lines)


def bench_chart() -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    from bench_chart import render

    return render(json.loads((RESULTS / "latest.json").read_text(encoding="utf-8")))


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
