"""The package as users get it: ``uv build`` makes the sdist and, from it, the wheel; the wheel holds
the package and nothing else; installed into a fresh virtual environment (not the project's .venv),
``footage-mcp --version`` and ``footage-mcp demo`` work from there, away from this checkout."""

from __future__ import annotations

import configparser
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement

from footage_mcp import __version__
from footage_mcp.sandbox.library import build_library
from tests.packaging_tools import (
    REPO,
    clean_env,
    france_hits,
    locked_constraints,
    package_files,
    run,
    uv_bin,
    venv_bin,
)

pytestmark = pytest.mark.slow

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
JUNK = {".venv", "venv", "node_modules", "__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".hypothesis", "dist", "build"}  # fmt: skip
"""Directory names that must never be inside a distribution."""


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class FreshVenv:
    root: Path
    """A directory outside the repository: the working directory of every run."""
    path: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    out = tmp_path_factory.mktemp("dist")
    run([uv_bin(), "build", "--out-dir", out], cwd=REPO)  # the sdist, then the wheel built from it
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Dists(wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope="module")
def fresh_venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    run([uv_bin(), "venv", "--python", python, venv], cwd=root)
    run(
        [uv_bin(), "pip", "install", "--python", venv_bin(venv, "python"),
         "--constraint", locked_constraints(root), dists.wheel],
        cwd=root,
    )  # fmt: skip
    return FreshVenv(root=root, path=venv)


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    return wheel.read(f"footage_mcp-{__version__}.dist-info/{name}").decode("utf-8")


def test_the_versions_agree() -> None:
    assert PYPROJECT["project"]["version"] == __version__


def test_wheel_holds_the_package_and_nothing_else(dists: Dists) -> None:
    assert dists.wheel.name == f"footage_mcp-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
    dist_info = f"footage_mcp-{__version__}.dist-info"
    package = {n for n in names if n.startswith("footage_mcp/")}
    meta = {n.removeprefix(dist_info + "/") for n in names if n.startswith(dist_info + "/")}
    assert set(names) == package | {f"{dist_info}/{m}" for m in meta}, "files outside the package and its dist-info"
    # every file of the source package (modules, the sandbox, any data file it loads), and no others
    assert package == package_files()
    rooms = ("cli/main", "surface/server", "surface/tools/search", "rest/api", "core/settings")
    for module in ("__main__", *rooms, "sandbox/app", "sandbox/library", "sandbox/taxonomy"):
        assert f"footage_mcp/{module}.py" in package
    assert meta == {"METADATA", "WHEEL", "entry_points.txt", "RECORD", "licenses/LICENSE"}
    for name in names:
        parts = PurePosixPath(name).parts
        assert not JUNK.intersection(parts) and not name.endswith((".pyc", ".pyo")), name
        assert parts[0] not in {"tests", "bench", "docs", "scripts", "mcpb", "examples"}, name


def test_wheel_metadata_matches_pyproject(dists: Dists) -> None:
    project = PYPROJECT["project"]
    with zipfile.ZipFile(dists.wheel) as wheel:
        metadata = Parser().parsestr(_dist_info(wheel, "METADATA"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(_dist_info(wheel, "entry_points.txt"))
        tags = Parser().parsestr(_dist_info(wheel, "WHEEL"))
    assert metadata["Name"] == project["name"] == "footage-mcp"
    assert metadata["Version"] == project["version"] == __version__
    assert metadata["Requires-Python"] == project["requires-python"] == ">=3.11"
    assert sorted(str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or []) == sorted(
        str(Requirement(r)) for r in project["dependencies"]
    )
    assert dict(entry_points["console_scripts"]) == {"footage-mcp": "footage_mcp.cli:main"}
    assert tags["Root-Is-Purelib"] == "true" and tags.get_all("Tag") == ["py3-none-any"]


def test_sdist_holds_the_sources_and_no_junk(dists: Dists) -> None:
    assert dists.sdist.name == f"footage_mcp-{__version__}.tar.gz"
    prefix = f"footage_mcp-{__version__}/"
    with tarfile.open(dists.sdist) as sdist:
        names = [m.name for m in sdist.getmembers() if m.isfile()]
    assert all(n.startswith(prefix) for n in names)
    files = {n.removeprefix(prefix) for n in names}
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= files
    assert package_files() <= files
    for name in files:
        assert not JUNK.intersection(PurePosixPath(name).parts), name
        assert not name.endswith((".pyc", ".pyo", ".whl", ".mcpb", ".tar.gz")), name


def test_the_fresh_venv_imports_the_installed_package_not_the_checkout(fresh_venv: FreshVenv) -> None:
    code = (
        "import importlib.metadata, footage_mcp, sys; "
        "print(footage_mcp.__file__); print(footage_mcp.__version__); "
        "print(importlib.metadata.version('footage-mcp')); print(sys.prefix)"
    )
    out = run([venv_bin(fresh_venv.path, "python"), "-c", code], cwd=fresh_venv.root).stdout.splitlines()
    location, version, dist_version, prefix = (Path(out[0]).resolve(), out[1], out[2], Path(out[3]).resolve())
    venv = fresh_venv.path.resolve()
    assert prefix == venv
    assert location.is_relative_to(venv) and "site-packages" in location.parts, location
    assert not location.is_relative_to(REPO.resolve()), location
    assert version == dist_version == __version__
    # a wheel install, not an editable one pointing back at the checkout
    assert not [p for p in (location.parent.parent).glob("*.pth") if "footage" in p.name]


def test_footage_mcp_version_from_the_fresh_venv(fresh_venv: FreshVenv) -> None:
    result = run([venv_bin(fresh_venv.path, "footage-mcp"), "--version"], cwd=fresh_venv.root)
    assert result.stdout == f"footage-mcp {__version__}\n"
    assert result.stderr == ""


def test_footage_mcp_demo_from_the_fresh_venv(fresh_venv: FreshVenv) -> None:
    kept = fresh_venv.root / "demo-tmp"  # the demo's kept folder goes here, not into the run's temporary folder
    kept.mkdir()
    env = clean_env({"TMPDIR": str(kept)})
    result = run([venv_bin(fresh_venv.path, "footage-mcp"), "demo"], cwd=fresh_venv.root, env=env)
    out = result.stdout
    assert f"Connected to footage {__version__}" in out
    assert "Tools offered (12):" in out
    expected = france_hits()
    assert len(expected) == 81
    assert "search_assets(query='France'): 81 hits, first 8:" in out
    search_block = out.split("search_assets(query='France')")[1].split("\nAlbum ")[0]
    shown = {line.rsplit("[", 1)[1].rstrip("]") for line in search_block.splitlines() if line.endswith("]")}
    assert len(shown) == 8 and shown <= expected
    assert f"Album '{build_library().albums[0].name}'" in out
    assert "preview           image/jpeg" in out
    assert "\nDone: the bridge answered every call over stdio from the sandbox's REST API.\n" in out
    assert out.rstrip().endswith("(delete it when done).")  # the folder with the sheet and the download
    assert [p.name[:13] for p in kept.iterdir() if p.name.startswith("footage-demo-")] == ["footage-demo-"]
