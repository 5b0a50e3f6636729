"""Every distribution of the workspace has the same shape, and ships the licence."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = [ROOT / "airlock_core", *sorted((ROOT / "plugins").glob("airlock-*"))]


def test_the_workspace_holds_the_core_and_eight_plugins() -> None:
    assert [d.name for d in DISTRIBUTIONS][:1] == ["airlock_core"] and len(DISTRIBUTIONS) == 9


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda d: d.name)
def test_same_shape_and_the_root_licence(distribution: Path) -> None:
    pyproject = (distribution / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject and 'readme = "README.md"' in pyproject
    # hatchling ships LICENSE from the distribution's own folder (sdist and wheel)
    assert (distribution / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    packages = [p for p in (distribution / "src").iterdir() if p.is_dir() and not p.name.endswith(".egg-info")]
    assert [(p / "py.typed").is_file() for p in packages] == [True]
    assert (distribution / "tests").is_dir() and (distribution / "README.md").is_file()
