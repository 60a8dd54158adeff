"""Helpers for the tests that build and install the package (test_packaging.py, test_mcpb.py).

They run ``uv`` (the one that runs the tests: ``uv run`` sets ``UV``; else the one on PATH) and run
what they install with an environment that cannot reach this checkout: no PYTHONPATH, no active
virtual environment, no FOOTAGE_* settings, and a working directory outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from footage_mcp.cli.launch import child_env
from footage_mcp.sandbox.library import build_library
from footage_mcp.sandbox.taxonomy import get_taxonomy

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "footage_mcp"
SCRUBBED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__")


def uv_bin() -> str:
    """The uv executable; skips the test without one (fails under CI, where it must be there)."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        message = "uv is not installed: the packaging tests build and install with it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def clean_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without FOOTAGE_*, PYTHONPATH or an active virtual environment, plus ``overrides``."""
    env = {k: v for k, v in child_env().items() if k not in SCRUBBED}
    env.update(overrides or {})
    return env


def run(args: list[str | Path], *, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; fails the test with its output when it exits non-zero."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def venv_bin(venv: Path, name: str) -> Path:
    """A console script or the interpreter of a virtual environment, on any OS."""
    if os.name == "nt":
        return venv / "Scripts" / (name if name.endswith(".exe") else f"{name}.exe")
    return venv / "bin" / name


def package_files() -> set[str]:
    """The files of footage_mcp/ in this checkout, relative to the repository, without caches."""
    return {
        path.relative_to(REPO).as_posix()
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
    }


def locked_constraints(into: Path) -> Path:
    """The runtime dependency versions of uv.lock as a pip constraints file: the fresh environments
    install what CI tested, from PyPI (and the uv cache)."""
    out = run(
        [uv_bin(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--no-header"], cwd=REPO
    ).stdout
    path = into / "constraints.txt"
    path.write_text(out, encoding="utf-8")
    return path


def france_hits() -> set[str]:
    """Ids of the sandbox assets a search for 'France' finds (keywords expand to narrower places)."""
    tax = get_taxonomy()
    france = tax.expand("France")
    return {a.id for a in build_library().assets if any(tax.id_for_label(k) in france for k in a.keywords)}
