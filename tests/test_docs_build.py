"""The documentation site builds in strict mode, and its generated parts are complete.

``mkdocs build --strict`` fails on a broken link, a missing page or a bad
reference, so CI fails with it. mkdocs is a dev requirement: without it the
build test fails rather than skips. The build runs once per session into a
temporary directory; the checks below read the built HTML.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airlock import hookspecs

ROOT = Path(__file__).resolve().parent.parent
#: Bound on the build; no test may hang.
TIMEOUT = 300


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out


def _text(page: Path) -> str:
    """The page's visible text, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _hooks() -> list[tuple[str, inspect.Signature, str]]:
    return [
        (name, inspect.signature(fn), inspect.cleandoc(fn.__doc__ or ""))
        for name, fn in vars(hookspecs).items()
        if name.startswith("airlock_") and callable(fn)
    ]


def test_every_hook_is_specified_in_its_docstring() -> None:
    """Each hook's docstring describes each of its parameters (the source of the reference)."""
    missing = [
        f"{name}({param})"
        for name, signature, doc in _hooks()
        for param in signature.parameters
        if f":param {param}:" not in doc
    ]
    assert missing == []


def test_hook_reference_has_every_hook_and_signature(site: Path) -> None:
    text = _text(site / "hooks" / "index.html")
    for name, signature, doc in _hooks():
        params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
        assert f"def {name}({params}) -> {signature.return_annotation}" in text, name
        first_line = doc.splitlines()[0].replace("``", "")
        assert first_line in text, f"{name}: docstring not rendered"


def test_plugin_pages_are_in_the_navigation(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    pages = sorted(p.stem for p in (ROOT / "docs" / "plugins").glob("*.md"))
    assert pages, "docs/plugins/ has no page"
    for name in pages:
        assert f'href="plugins/{name}/"' in index, f"{name} missing from the navigation"


def test_performance_page_has_the_chart_and_tables(site: Path) -> None:
    page = (site / "performance" / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 1 and "<rect" in page
    assert "<table>" in page
