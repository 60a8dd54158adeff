"""Build the MCP Bundle (``.mcpb``) that installs footage-mcp in Claude Desktop by double-click.

    uv run python scripts/build_mcpb.py                     # -> dist/footage-mcp-<version>.mcpb
    uv run python scripts/build_mcpb.py --update-manifest   # after a tool, prompt or version change

The committed manifest is ``mcpb/manifest.json``; its ``version``, ``tools``, ``prompts`` and
``compatibility.runtimes.python`` are copies of what the package and the running server say
(``--update-manifest`` rewrites them; tests/test_mcpb.py fails when they drift).

What the bundle holds (the zip that ``mcpb pack`` writes):

    manifest.json                       mcpb/manifest.json
    server/main.py                      mcpb/server/main.py, the entry point: footage_mcp.cli.main()
    pyproject.toml                      generated: depends on footage-mcp==<version> from the wheel below,
                                        dependency versions constrained to the ones in uv.lock
    footage_mcp-<version>-py3-none-any.whl   built from this checkout with ``uv build --wheel``

Why ``server.type = "uv"`` (manifest_version 0.4, supported by mcpb >= 2.1): the MCP SDK needs
pydantic-core, a compiled extension, so a ``"python"`` bundle with vendored packages would only run
on the platform it was built on. With ``"uv"`` the host installs Python (>= 3.11) and the
dependencies for the user's own platform from ``pyproject.toml``; the bundle stays small and
platform-independent. ``mcp_config`` (required by the mcpb 2.1.2 schema) is the same command the
mcpb ``hello-world-uv`` example uses: ``uv run --directory ${__dirname} server/main.py``. The wheel is
shipped inside the bundle, so the bundle needs neither a PyPI release of footage-mcp nor a build
backend on the user's machine; only the dependencies come from PyPI on first start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MCPB_DIR = REPO / "mcpb"
MANIFEST = MCPB_DIR / "manifest.json"
ENTRY_POINT = MCPB_DIR / "server" / "main.py"
NODE_CLIENTS = REPO / "tests" / "clients"


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


def pyproject() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return data


def read_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def _catalogue() -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    from mcp import Client

    from footage_mcp.core.settings import Settings
    from footage_mcp.surface.server import build_server

    async with Client(build_server(Settings()), mode="legacy") as client:
        tools = [{"name": t.name, "description": t.description or ""} for t in (await client.list_tools()).tools]
        prompts: list[dict[str, Any]] = []
        for prompt in (await client.list_prompts()).prompts:
            names = [a.name for a in prompt.arguments or []]
            # mcpb prompt text uses ${arguments.NAME} placeholders: render the server's prompt with them.
            rendered = await client.get_prompt(prompt.name, {n: f"${{arguments.{n}}}" for n in names})
            text = "\n\n".join(m.content.text for m in rendered.messages if m.content.type == "text")
            prompts.append(
                {"name": prompt.name, "description": prompt.description or "", "arguments": names, "text": text}
            )
    return tools, prompts


def synced_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with the fields that copy the package and the server brought up to date."""
    import anyio

    from footage_mcp import __version__

    tools, prompts = anyio.run(_catalogue)
    synced = dict(manifest)
    synced["version"] = __version__
    synced["tools"] = tools
    synced["prompts"] = prompts
    compatibility = dict(synced.get("compatibility") or {})
    compatibility["runtimes"] = {
        **(compatibility.get("runtimes") or {}),
        "python": pyproject()["project"]["requires-python"],
    }
    synced["compatibility"] = compatibility
    return synced


def write_manifest(manifest: dict[str, Any], path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def uv_binary() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise BuildError("uv is not installed (https://docs.astral.sh/uv/): it builds the wheel")
    return found


def _run(args: list[str], *, cwd: Path, what: str) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=600)
    if result.returncode != 0:
        raise BuildError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}".rstrip())
    return result.stdout


def build_wheel(out_dir: Path) -> Path:
    """``uv build --wheel`` of this checkout into ``out_dir``; returns the wheel."""
    _run([uv_binary(), "build", "--wheel", "--out-dir", str(out_dir)], cwd=REPO, what="uv build")
    wheels = sorted(out_dir.glob("footage_mcp-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one footage_mcp wheel in {out_dir}, found {[w.name for w in wheels]}")
    return wheels[0]


def locked_requirements() -> list[str]:
    """The runtime dependencies pinned in uv.lock (with their platform markers), as requirement strings."""
    out = _run(
        [
            uv_binary(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
        ],
        cwd=REPO,
        what="uv export",
    )
    return [line.strip() for line in out.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))]


def _toml_list(items: list[str]) -> str:
    return "[\n" + "".join(f"    {json.dumps(item)},\n" for item in items) + "]"


def bundle_pyproject(wheel_name: str, version: str, requires_python: str, constraints: list[str]) -> str:
    """The bundle's own pyproject.toml: nothing to build, one dependency (the shipped wheel)."""
    return (
        "# Generated by scripts/build_mcpb.py. The host runs `uv run --directory <bundle> server/main.py`:\n"
        "# uv installs footage-mcp from the wheel next to this file, with the dependency versions\n"
        "# footage-mcp was tested with (uv.lock), and runs the server.\n"
        "[project]\n"
        'name = "footage-mcp-bundle"\n'
        f"version = {json.dumps(version)}\n"
        'description = "MCP Bundle runtime environment for footage-mcp"\n'
        f"requires-python = {json.dumps(requires_python)}\n"
        f"dependencies = [{json.dumps(f'footage-mcp=={version}')}]\n"
        "\n"
        "[tool.uv]\n"
        "package = false\n"
        f"constraint-dependencies = {_toml_list(constraints)}\n"
        "\n"
        "[tool.uv.sources]\n"
        f"footage-mcp = {{ path = {json.dumps(wheel_name)} }}\n"
    )


def stage(stage_dir: Path, wheel: Path) -> None:
    """Lay out the bundle's files in ``stage_dir`` (which must not exist yet)."""
    from footage_mcp import __version__

    manifest = read_manifest()
    if manifest.get("version") != __version__:
        raise BuildError(
            f"mcpb/manifest.json says version {manifest.get('version')!r}, the package {__version__!r}: "
            "run `uv run python scripts/build_mcpb.py --update-manifest`"
        )
    (stage_dir / "server").mkdir(parents=True)
    shutil.copy2(MANIFEST, stage_dir / "manifest.json")
    shutil.copy2(ENTRY_POINT, stage_dir / "server" / "main.py")
    shutil.copy2(wheel, stage_dir / wheel.name)
    project = pyproject()["project"]
    text = bundle_pyproject(wheel.name, __version__, project["requires-python"], locked_requirements())
    (stage_dir / "pyproject.toml").write_text(text, encoding="utf-8")


def mcpb_command(explicit: str | None) -> list[str]:
    """How to run the mcpb CLI: ``--mcpb``, else the tests' pinned install, else npx at the same pin."""
    if explicit:
        return [explicit]
    installed = NODE_CLIENTS / "node_modules" / ".bin" / "mcpb"
    if installed.exists():
        return [str(installed)]
    npx = shutil.which("npx")
    if npx is None:
        raise BuildError("the mcpb packer needs Node.js 20+ (npx), or pass --mcpb PATH")
    pin = json.loads((NODE_CLIENTS / "package.json").read_text(encoding="utf-8"))["dependencies"]["@anthropic-ai/mcpb"]
    return [npx, "--yes", f"@anthropic-ai/mcpb@{pin}"]


def pack(stage_dir: Path, out_file: Path, mcpb: list[str]) -> str:
    """``mcpb pack`` (which validates the manifest first); returns its report."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    report = _run([*mcpb, "pack", str(stage_dir), str(out_file)], cwd=stage_dir, what="mcpb pack")
    if not out_file.is_file():
        raise BuildError(f"mcpb pack reported success but wrote no {out_file}:\n{report}")
    return report


def build(out_dir: Path, *, wheel: Path | None = None, mcpb: str | None = None) -> Path:
    """Build the wheel (unless given), stage the bundle and pack it; returns the ``.mcpb`` path."""
    from footage_mcp import __version__

    with tempfile.TemporaryDirectory(prefix="footage-mcpb-") as tmp:
        work = Path(tmp)
        wheel = wheel or build_wheel(work / "wheel")
        stage_dir = work / "footage-mcp"
        stage(stage_dir, wheel)
        out_file = out_dir.resolve() / f"footage-mcp-{__version__}.mcpb"
        print(pack(stage_dir, out_file, mcpb_command(mcpb)), file=sys.stderr)
    return out_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_mcpb.py", description="Build the footage-mcp MCP Bundle (.mcpb).")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output directory (default: dist/)")
    parser.add_argument("--wheel", type=Path, default=None, help="use this footage_mcp wheel instead of building one")
    parser.add_argument(
        "--mcpb", default=None, help="path of the mcpb CLI (default: tests/clients' pinned one, or npx)"
    )
    parser.add_argument(
        "--update-manifest",
        action="store_true",
        help="rewrite version, tools, prompts and the Python requirement in mcpb/manifest.json, then stop",
    )
    args = parser.parse_args(argv)
    try:
        if args.update_manifest:
            write_manifest(synced_manifest(read_manifest()))
            print(f"updated {MANIFEST.relative_to(REPO)}")
            return 0
        print(build(args.out, wheel=args.wheel, mcpb=args.mcpb))
        return 0
    except BuildError as exc:
        print(f"build_mcpb: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
