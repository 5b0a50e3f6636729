"""Every code example in the documentation runs, and the docs cover the whole API.

Each page's ```python blocks run in order in one fresh interpreter (a later
block may use what an earlier one defined), so no example can rot and no
page's global state (Django settings, airlock configuration) leaks into
another. A directive in an HTML comment on the line before a block changes
how it is tested (there is no "skip": every example runs; a fragment such
as a ``settings.py`` runs inside a setup):

- ``<!-- test: pytest -->``: the block is a test module; it is run by pytest
  (airlock's pytest plugin included) and must pass.
- ``<!-- test: with NAME -->``: the block assumes an application around it
  (a Celery app, a Django project); the setup ``tests/docs_support/NAME.py``
  (``-`` read as ``_``) prepares it, runs the block in an interpreter of its
  own, and checks that what the block claims happened (see ``docs_support``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import airlock
from airlock import hookspecs

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "tests" / "docs_support"
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md", *sorted(ROOT.glob("plugins/*/README.md"))]
#: Bound for any one page's examples; no test may hang.
TIMEOUT = 180

#: A python block, at the margin or indented (inside a list item): group 1 is the indent.
_FENCE = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```[ \t]*$", re.S | re.M)
_DIRECTIVE = re.compile(r"<!--\s*test:\s*(.*?)\s*-->")
#: How the child reports a skip (a service is unreachable outside CI).
_SKIPPED = "docs-example-skipped: "
_WITH = re.compile(r"with\s+([a-z][a-z0-9-]*)")


def _page_id(page: Path) -> str:
    """The page's path relative to the repository (as given, for pages elsewhere)."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


@dataclass(frozen=True)
class Block:
    """One ```python block of a page."""

    page: Path
    line: int  # of the block's first code line, 1-based
    code: str
    mode: str  # "run", "pytest" or "with"
    setup: str = ""  # the docs_support module that runs it ("with")

    @property
    def where(self) -> str:
        return f"{_page_id(self.page)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The page's python blocks; a malformed directive raises ``ValueError`` naming its line."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start(2)) + 1
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        mode, setup = "run", ""
        directive = _DIRECTIVE.fullmatch(before.strip())
        if directive:
            body = directive.group(1)
            with_ = _WITH.fullmatch(body)
            if body == "pytest":
                mode = "pytest"
            elif with_ and (SUPPORT / f"{with_.group(1).replace('-', '_')}.py").is_file():
                mode, setup = "with", with_.group(1).replace("-", "_")
            else:
                setups = sorted(p.stem.replace("_", "-") for p in SUPPORT.glob("[!_]*.py"))
                raise ValueError(
                    f"{_page_id(page)}:{line - 1}: bad directive {before.strip()!r}; "
                    "every example runs: write <!-- test: pytest --> or <!-- test: with SETUP --> "
                    f"with a SETUP among {', '.join(setups)}, or add a setup to tests/docs_support"
                )
        found.append(Block(page, line, textwrap.dedent(match.group(2)), mode, setup))
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks_of(page)]


def _child_env() -> dict[str, str]:
    """This environment minus airlock's settings, so examples start from defaults.

    The test services' addresses (``AIRLOCK_TEST_*``) are kept for the setups.
    """
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_") or k.startswith("AIRLOCK_TEST_")}


# Runs in the child: exec each block, compiled against the page's own path and
# line numbers, so a traceback shows the failing line of the Markdown file.
_RUNNER = textwrap.dedent("""
    import json, sys
    namespace = {"__name__": "__main__"}
    for path, line, code in json.loads(sys.stdin.read()):
        exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
""")


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.mode == "run" for b in blocks_of(p))], ids=_page_id)
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    blocks = [(str(b.page), b.line, b.code) for b in blocks_of(page) if b.mode == "run"]
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps(blocks),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_child_env(),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"an example in {_page_id(page)} failed:\n{result.stderr[-4000:]}"


# Runs in the child: the setup runs the block (docs_support and myapp are on the path).
# A service the setup requires but cannot reach (require_service skips, outside CI)
# is reported on the last line of stdout, for the test to skip with that reason.
_WITH_RUNNER = textwrap.dedent("""
    import importlib, json, sys
    import pytest
    setup, path, line, code = json.loads(sys.stdin.read())
    try:
        importlib.import_module("docs_support." + setup).run(code, path, line)
    except pytest.skip.Exception as skip:
        print("\\n" + _SKIPPED + str(skip))
""").replace("_SKIPPED", repr(_SKIPPED))


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.mode == "with"], ids=lambda b: b.where)
def test_examples_with_setup_run(block: Block, tmp_path: Path) -> None:
    setup = f"docs_support.{block.setup}"
    env = _child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT.parent), str(SUPPORT / "readers_app"), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", _WITH_RUNNER],
        input=json.dumps([block.setup, str(block.page), block.line, block.code]),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"the example at {block.where}, run by {setup}, failed:\n{result.stderr[-4000:]}"
    last = result.stdout.rstrip().rpartition("\n")[2]
    if last.startswith(_SKIPPED):
        pytest.skip(last.removeprefix(_SKIPPED))


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.mode == "pytest"], ids=lambda b: b.where)
def test_pytest_examples_pass(block: Block, tmp_path: Path) -> None:
    module = tmp_path / f"test_example_{block.line}.py"
    module.write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", module.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_child_env(),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"the test module at {block.where} failed:\n{result.stdout[-4000:]}"
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_directives_are_well_formed() -> None:
    problems = []
    for page in PAGES:
        try:
            blocks_of(page)
        except ValueError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)


def test_directive_parsing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nprint(1)\n```\n\n<!-- test: pytest -->\n```python\ndef test_x(): pass\n```\n\n"
        "<!-- test: with django-project -->\n```python\nY = 2\n```\n",
        encoding="utf-8",
    )
    parsed = [(b.line, b.mode, b.setup, b.code) for b in blocks_of(page)]
    assert parsed == [
        (4, "run", "", "print(1)\n"),
        (9, "pytest", "", "def test_x(): pass\n"),
        (14, "with", "django_project", "Y = 2\n"),
    ]
    page.write_text("<!-- test: skip (a fragment) -->\n```python\nX = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad directive .* every example runs"):
        blocks_of(page)
    page.write_text("<!-- test: with celery -->\n```python\nX = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="among celery-app, "):
        blocks_of(page)


# -- the docs cover the whole API ---------------------------------------------------------
def _code_text() -> str:
    """Everything in code spans and code blocks, across all pages."""
    chunks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        chunks += re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
        chunks += re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))
    return "\n".join(chunks)


def _undocumented(names: list[str]) -> list[str]:
    code = _code_text()
    return [name for name in names if not re.search(rf"(?<![\w.]){re.escape(name)}\b", code)]


#: Modules whose ``__all__`` is public API besides ``airlock`` itself: what
#: executor writers use, and each plugin's package and documented modules.
PUBLIC_MODULES = (
    "airlock.executors",
    "airlock.executors.chunked",
    "airlock.executors.sync",
    "airlock.executors.threads",
    "airlock.testing",
    "airlock_celery",
    "airlock_celery.integration",
    "airlock_celery.executor",
    "airlock_dramatiq",
    "airlock_huey",
    "airlock_django_q",
    "airlock_django",
    "airlock_django.conf",
    "airlock_retry",
    "airlock_retry.plugin",
    "airlock_retry.testing",
    "airlock_priority",
    "airlock_coalesce",
)


def test_every_public_name_is_documented() -> None:
    assert _undocumented(list(airlock.__all__)) == []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_of_the_executor_modules_and_plugins_is_documented(module: str) -> None:
    import importlib

    names = list(importlib.import_module(module).__all__)
    assert names
    assert _undocumented(names) == []


def test_every_hook_is_documented_by_hand() -> None:
    hooks = [name for name in vars(hookspecs) if name.startswith("airlock_")]
    assert len(hooks) >= 5
    assert _undocumented(hooks) == []


def test_every_installed_executor_is_documented() -> None:
    from airlock.executors import executor_entry_points

    names = sorted(executor_entry_points())
    assert {"sync", "threads"} <= set(names)
    assert _undocumented(names) == []


def test_every_declared_option_is_documented() -> None:
    from airlock._state import load_hooks

    names = sorted(load_hooks().options.by_name)
    assert {"fail_fast", "executor"} <= set(names)
    assert _undocumented(names) == []
