"""The interpreters the benchmarks compare, each in its own cached virtualenv.

* ``core_python()``: airlock-core alone (editable, so always the working
  tree's code) and no plugin: "ours, no plugins installed".
* ``airlock_py_python()``: airlock-py 0.1.0a3 from PyPI, which uses the same
  import name ``airlock`` and so can never share a virtualenv with ours.

Both are created on first use with the interpreter running the benchmark and
reused afterwards; a venv is rebuilt when what it should hold changes. They
live in the repository root as ``.venv-bench-*`` (ignored by git, removed by
``make clean``), or under ``$AIRLOCK_BENCH_CACHE`` when that is set.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["AIRLOCK_PY", "core_python", "airlock_py_python", "VenvError"]

ROOT = Path(__file__).resolve().parent.parent
#: The published version of the original library the benchmarks compare against.
AIRLOCK_PY = "airlock-py==0.1.0a3"


class VenvError(RuntimeError):
    """A benchmark virtualenv could not be created or installed."""


def _cache_dir() -> Path:
    return Path(os.environ.get("AIRLOCK_BENCH_CACHE") or ROOT)


def _bin(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ensure(name: str, pip_args: list[str], fingerprint: str) -> Path:
    """A venv holding ``pip_args``; rebuilt when ``fingerprint`` changes."""
    venv = _cache_dir() / name
    marker = venv / ".bench-installed"
    python = _bin(venv)
    if python.exists() and marker.exists() and marker.read_text() == fingerprint:
        return python
    print(f"benchmarks: preparing {venv} ({' '.join(pip_args)}) ...", file=sys.stderr, flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *pip_args],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise VenvError(f"{' '.join(step)} failed:\n{done.stdout}{done.stderr}")
    marker.write_text(fingerprint)
    return python


def core_python() -> Path:
    """Python of a venv with only airlock-core installed (editable)."""
    project = ROOT / "airlock_core"
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    return _ensure(".venv-bench-core", ["-e", str(project)], f"airlock-core editable {digest}")


def airlock_py_python() -> Path:
    """Python of a venv with airlock-py 0.1.0a3 installed from the package index."""
    return _ensure(".venv-bench-airlock-py", [AIRLOCK_PY], AIRLOCK_PY)
