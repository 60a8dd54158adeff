"""The MCP Bundle (``.mcpb``) for Claude Desktop: mcpb/manifest.json passes the pinned packer's
validation (and a broken copy does not), copies the package's version and the server's tools and
prompts exactly, and scripts/build_mcpb.py packs a bundle that serves the tools when started the way
the host starts it (the launch command computed by the mcpb library's own getMcpConfigForManifest)."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from canary_plugin import allowed
from mcp import Client, StdioServerParameters
from mcp.types import TextContent

from footage_mcp import __version__
from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.settings import DEFAULT_BASE_URL, Settings
from footage_mcp.surface.server import build_server
from tests.conftest import INTERFACE_TOOLS
from tests.node_tools import CLIENTS, node_bin, node_command, node_runtime
from tests.packaging_tools import REPO, clean_env, france_hits, run, uv_bin

MANIFEST_PATH = REPO / "mcpb" / "manifest.json"
MANIFEST: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
UPDATE = "uv run python scripts/build_mcpb.py --update-manifest"
VALID = "Manifest schema validation passes!"
WHEEL = f"footage_mcp-{__version__}-py3-none-any.whl"


def mcpb(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*node_command("mcpb"), *map(str, args)], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def host_launch_config(manifest: dict[str, Any], bundle_dir: Path, user_config: dict[str, str]) -> Any:
    """What the host runs for this manifest and these settings, or None when it refuses to start the server:
    the answer of getMcpConfigForManifest from the pinned mcpb library (whose README says Claude for macOS
    and Windows loads bundles with it). ${HOME} and friends point at the bundle directory, to stay hermetic."""
    script = (
        'import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";\n'
        'import { readFileSync } from "node:fs";\n'
        'const input = JSON.parse(readFileSync(0, "utf8"));\n'
        "const config = await getMcpConfigForManifest({ ...input, pathSeparator: '/', "
        "systemDirs: { HOME: input.extensionPath } });\n"
        "process.stdout.write(JSON.stringify(config ?? null));\n"
    )
    node = node_runtime()  # installs tests/clients (or skips the test without npm)
    payload = {"manifest": manifest, "extensionPath": str(bundle_dir), "userConfig": user_config}
    # the emulated host's own launch configuration holds the user's token (the env it starts the
    # server with): the host's data, not the bridge's output
    with allowed("the host's launch configuration carries the user's token"):
        result = subprocess.run(
            [node, "--input-type=module", "-e", script],
            input=json.dumps(payload),
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def _server_catalogue() -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    async with Client(build_server(Settings()), mode="legacy") as client:
        tools = [{"name": t.name, "description": t.description or ""} for t in (await client.list_tools()).tools]
        prompts = []
        for prompt in (await client.list_prompts()).prompts:
            names = [a.name for a in prompt.arguments or []]
            rendered = await client.get_prompt(prompt.name, {n: f"${{arguments.{n}}}" for n in names})
            [message] = rendered.messages  # one user message with the prompt's text
            assert isinstance(message.content, TextContent)
            text = message.content.text
            prompts.append({"name": prompt.name, "description": prompt.description, "arguments": names, "text": text})
    return tools, prompts


# -- the manifest -------------------------------------------------------------------------------


def test_the_manifest_passes_the_packers_validation() -> None:
    result = mcpb("validate", MANIFEST_PATH)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == VALID
    assert "ERROR" not in result.stdout + result.stderr


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = manifest
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return apply


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_set("server.type", "ruby"), "server.type: Invalid enum value"),
        (_set("author", KeyError), "author: Required"),
        (_set("user_config.api_token.type", "password"), "user_config.api_token.type: Invalid enum value"),
        (_set("tools.0.name", KeyError), "tools.0.name: Required"),
        (_set("comment", "not a manifest field"), "Unrecognized key(s) in object: 'comment'"),
        (_set("manifest_version", "0.3"), "server.type: Invalid enum value"),  # "uv" needs manifest 0.4
    ],
    ids=["server-type", "no-author", "user-config-type", "tool-without-name", "unknown-field", "uv-needs-0.4"],
)
def test_a_broken_copy_of_the_manifest_fails_validation(
    tmp_path: Path, breakage: Callable[[dict[str, Any]], None], message: str
) -> None:
    broken = copy.deepcopy(MANIFEST)
    breakage(broken)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    result = mcpb("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith("ERROR: Manifest validation failed:")
    assert f"  - {message}" in result.stdout
    assert VALID not in result.stdout


@pytest.mark.anyio
async def test_the_manifest_copies_the_package_and_the_server() -> None:
    tools, prompts = await _server_catalogue()
    assert MANIFEST["version"] == __version__ == PYPROJECT["project"]["version"], UPDATE
    assert MANIFEST["tools"] == tools, f"tools changed: {UPDATE}"
    assert {t["name"] for t in MANIFEST["tools"]} == INTERFACE_TOOLS
    assert MANIFEST["prompts"] == prompts, f"prompts changed: {UPDATE}"
    assert MANIFEST["compatibility"]["runtimes"] == {"python": PYPROJECT["project"]["requires-python"]}
    assert sorted(MANIFEST["compatibility"]["platforms"]) == ["darwin", "linux", "win32"]
    assert MANIFEST["license"] == PYPROJECT["project"]["license"]
    assert MANIFEST.get("tools_generated", False) is False and MANIFEST.get("prompts_generated", False) is False


def test_update_manifest_would_change_nothing() -> None:
    """The build script's --update-manifest and this test agree on what the manifest copies."""
    spec = importlib.util.spec_from_file_location("build_mcpb", REPO / "scripts" / "build_mcpb.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.synced_manifest(MANIFEST) == MANIFEST, f"mcpb/manifest.json is stale: {UPDATE}"


def test_the_manifest_runs_the_bundled_entry_point_with_uv() -> None:
    server = MANIFEST["server"]
    assert MANIFEST["manifest_version"] == "0.4"
    assert server["type"] == "uv"
    assert server["entry_point"] == "server/main.py"
    assert (REPO / "mcpb" / server["entry_point"]).is_file()
    assert server["mcp_config"]["command"] == "uv"
    assert server["mcp_config"]["args"] == ["run", "--directory", "${__dirname}", server["entry_point"]]


def test_the_user_config_reaches_the_server_as_its_environment_variables() -> None:
    options = MANIFEST["user_config"]
    assert options["api_token"] == {**options["api_token"], "type": "string", "sensitive": True, "required": True}
    assert options["base_url"]["required"] is False and options["base_url"]["default"] == DEFAULT_BASE_URL
    env = dict(MANIFEST["server"]["mcp_config"]["env"])
    assert {env.pop("UV_SYSTEM_CERTS"), env.pop("UV_NATIVE_TLS")} == {"true"}  # uv trusts the system store
    assert env == {"FOOTAGE_API_TOKEN": "${user_config.api_token}", "FOOTAGE_BASE_URL": "${user_config.base_url}"}
    # every ${user_config.X} names a declared option (the packer does not check this) ...
    used = set(re.findall(r"\$\{user_config\.([^}]+)\}", json.dumps(MANIFEST["server"])))
    assert used == set(options)
    # ... and every variable is one the server reads
    fields = {f"FOOTAGE_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields


def test_the_host_starts_the_server_only_with_a_token_and_fills_in_the_default_base_url(tmp_path: Path) -> None:
    assert host_launch_config(MANIFEST, tmp_path, {}) is None  # required token missing: not started
    config = host_launch_config(MANIFEST, tmp_path, {"api_token": "tok-123"})
    assert config["command"] == "uv"
    assert config["args"] == ["run", "--directory", str(tmp_path), "server/main.py"]
    assert config["env"] == {
        "FOOTAGE_API_TOKEN": "tok-123",
        "FOOTAGE_BASE_URL": DEFAULT_BASE_URL,
        "UV_SYSTEM_CERTS": "true",
        "UV_NATIVE_TLS": "true",
    }


# -- the bundle ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mcpb")
    script = REPO / "scripts" / "build_mcpb.py"
    result = run([sys.executable, script, "--out", out, "--mcpb", node_bin("mcpb")], cwd=REPO)
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path == out / f"footage-mcp-{__version__}.mcpb" and path.is_file(), result.stdout
    assert VALID in result.stderr  # mcpb pack validated the manifest before packing
    return path


@pytest.mark.slow
def test_the_bundle_holds_the_manifest_the_entry_point_and_the_uv_project(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == [WHEEL, "manifest.json", "pyproject.toml", "server/main.py"]
        assert json.loads(archive.read("manifest.json")) == MANIFEST
        assert archive.read("server/main.py") == (REPO / "mcpb" / "server" / "main.py").read_bytes()
        project = tomllib.loads(archive.read("pyproject.toml").decode("utf-8"))
        with zipfile.ZipFile(archive.open(WHEEL)) as wheel:
            assert f"footage_mcp-{__version__}.dist-info/METADATA" in wheel.namelist()
    assert project["project"]["dependencies"] == [f"footage-mcp=={__version__}"]
    assert project["project"]["requires-python"] == PYPROJECT["project"]["requires-python"]
    assert project["tool"]["uv"]["package"] is False
    assert project["tool"]["uv"]["sources"] == {"footage-mcp": {"path": WHEEL}}
    constraints = project["tool"]["uv"]["constraint-dependencies"]
    assert all(re.match(r"^[A-Za-z0-9._-]+==\S+( ; .+)?$", c) for c in constraints), constraints
    pinned = {c.split("==")[0] for c in constraints}
    assert {"mcp", "httpx2", "pydantic", "pydantic-settings", "pillow", "uvicorn"} <= pinned
    assert not pinned & {"pytest", "mypy", "ruff", "hypothesis", "footage-mcp"}  # runtime only, not the project


@pytest.mark.slow
def test_the_bundle_info_reads_back(bundle: Path) -> None:
    result = mcpb("info", bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "footage-mcp" in result.stdout and __version__ in result.stdout


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_bundle_serves_the_tools_when_started_like_the_host_does(
    bundle: Path, hal_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    unpacked = tmp_path / "installed" / "footage-mcp"
    result = mcpb("unpack", bundle, unpacked, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    user_config = {"api_token": hal_sandbox.token, "base_url": hal_sandbox.base_url}
    config = host_launch_config(manifest, unpacked, user_config)
    assert config["command"] == "uv"
    params = StdioServerParameters(
        command=uv_bin(), args=config["args"], env=clean_env(config["env"]), cwd=str(tmp_path)
    )
    async with Client(params) as client:
        assert client.server_info is not None and client.server_info.version == __version__
        tools = (await client.list_tools()).tools
        assert [{"name": t.name, "description": t.description} for t in tools] == manifest["tools"]
        found = await client.call_tool("search_assets", {"query": "France", "limit": 5})
        assert not found.is_error and found.structured_content is not None
        assert found.structured_content["total"] == len(france_hits()) == 81
        assert {a["id"] for a in found.structured_content["assets"]} <= france_hits()
    # the server ran from the bundle's own environment, which uv made from the bundled wheel
    site = list((unpacked / ".venv").glob("lib/python3*/site-packages/footage_mcp/__init__.py"))
    site += list((unpacked / ".venv").glob("Lib/site-packages/footage_mcp/__init__.py"))
    assert len(site) == 1, sorted(p.name for p in unpacked.iterdir())
