"""The MCP Inspector CLI (npm @modelcontextprotocol/inspector, pinned in tests/clients) drives the
bridge: a third-party client, a separate Node.js process, spawning the server over stdio against the
sandbox on loopback. Every call is a fresh Inspector run, the way a user runs it. The server it spawns is
``footage-mcp serve`` forked from a warm process (tests/forkrun.py: its own process on the Inspector's
pipes, without a cold interpreter's second of imports; a cold ``python -m footage_mcp serve`` is what
tests/test_stdio.py drives, and FOOTAGE_TEST_COLD_PROCESSES=1 makes this file start cold ones too).

Covered: initialize in both protocol eras (2025-11-25 "legacy" and 2026-07-28 "modern"), tools/list
with the ``--strict`` schema-portability report, tools/call of every read tool, resources/list,
resources/templates/list, resources/read (static and templated), prompts/list and prompts/get. (The Inspector CLI has no
completion method; tests/test_stdio.py covers completion with the SDK client.)
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import forkrun
import pytest
from canary_plugin import TOKEN

from footage_mcp.cli.launch import RunningSandbox, child_env
from tests.conftest import INTERFACE_TOOLS
from tests.node_tools import node_command, node_runtime

INSPECTOR_VERSION = "2.12.0"
ERAS = {"legacy": "2025-11-25", "modern": "2026-07-28"}
CANARY = TOKEN  # the sandbox's token: must not appear in anything the Inspector prints

Inspect = Callable[..., Any]


@pytest.fixture(scope="module")
def inspect(hal_sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inspect]:
    """Run the Inspector CLI once: ``inspect(method, *options, era="legacy", ok=True)`` returns the JSON
    it printed on stdout. With ``ok=False`` the run must fail; returns (exit status, stdout, stderr)."""
    inspector = node_command("mcp-inspector")
    home = tmp_path_factory.mktemp("inspector-home")  # anything the Inspector saves stays out of ~

    def run(method: str, *options: str, era: str = "legacy", ok: bool = True) -> Any:
        command = [
            *inspector,
            "--cli",
            "-e",
            f"FOOTAGE_BASE_URL={hal_sandbox.base_url}",
            "-e",
            f"FOOTAGE_API_TOKEN={hal_sandbox.token}",
            "-e",
            "PYTHONUTF8=1",
            "--protocol-era",
            era,
            "--method",
            method,
            *options,
            "--",  # --tool-arg and --prompt-args take several values: end them before the command
            *forkrun.warm_command(["serve"]),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, encoding="utf-8", timeout=120, env=child_env({"HOME": str(home)})
        )
        assert CANARY not in done.stdout
        if not ok:
            assert done.returncode != 0, done.stdout
            return done.returncode, done.stdout, done.stderr
        assert done.returncode == 0, f"inspector exit {done.returncode}: {done.stderr[-3000:]}"
        return json.loads(done.stdout)

    yield run


def structured(result: dict[str, Any]) -> dict[str, Any]:
    """A tools/call result's structured content, after checking its text twin says the same."""
    assert result.get("isError") is False, result
    content = result["structuredContent"]
    assert json.loads(result["content"][0]["text"]) == content
    return content  # type: ignore[no-any-return]


def test_the_pinned_inspector_is_the_one_that_runs_on_the_node_it_requires() -> None:
    done = subprocess.run(
        [*node_command("mcp-inspector"), "--cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == INSPECTOR_VERSION
    lock = json.loads((Path(__file__).parent / "clients" / "package-lock.json").read_text())
    inspector = lock["packages"]["node_modules/@modelcontextprotocol/inspector"]
    assert inspector["version"] == INSPECTOR_VERSION
    # its engines field: ">=22.19.0" (tests/node_tools.py pins Node 22 where npm has it for the machine)
    wanted = tuple(int(n) for n in inspector["engines"]["node"].removeprefix(">=").split("."))
    node = subprocess.run([node_runtime(), "--version"], capture_output=True, text=True, timeout=60, check=True)
    running = tuple(int(n) for n in node.stdout.strip().removeprefix("v").split("."))
    assert running >= wanted, f"the Inspector needs Node {wanted}, runs on {running}"


@pytest.mark.parametrize("era", sorted(ERAS))
def test_initialize_negotiates_each_protocol_era(inspect: Inspect, era: str) -> None:
    result = inspect("initialize", era=era)
    assert result["protocolVersion"] == ERAS[era]
    assert result["serverInfo"]["name"] == "footage"
    assert result["serverInfo"]["version"] == __import__("footage_mcp").__version__


@pytest.mark.parametrize("era", sorted(ERAS))
def test_tools_list_is_complete_and_the_strict_portability_report_is_clean(
    hal_sandbox: RunningSandbox, era: str
) -> None:
    """``--strict`` prints every portability finding (errors and warnings) on stderr and exits 6 on an
    error; a clean report prints nothing there."""
    command = [
        *node_command("mcp-inspector"),
        "--cli",
        "-e",
        f"FOOTAGE_BASE_URL={hal_sandbox.base_url}",
        "-e",
        f"FOOTAGE_API_TOKEN={hal_sandbox.token}",
        "--protocol-era",
        era,
        "--method",
        "tools/list",
        "--strict",
        "--",
        *forkrun.warm_command(["serve"]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", timeout=120, env=child_env())
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no finding at all: no "Warning: tool ..." lines, no "N errors" summary
    tools = {t["name"]: t for t in json.loads(done.stdout)["tools"]}
    assert set(tools) == INTERFACE_TOOLS
    for name, tool in tools.items():
        # every read tool is read-only; download_asset writes a local file (interface.md, Version 0.2)
        assert tool["annotations"]["readOnlyHint"] is (name != "download_asset"), name
        assert tool["inputSchema"]["type"] == "object", name
    assert tools["get_album"]["inputSchema"]["required"] == ["album_id"]


def test_the_strict_report_is_not_silent_about_a_bad_schema(tmp_path: Path) -> None:
    """The check above can fail: the same Inspector flags a type array and an untyped output property
    of a tool served by a tiny stdio server (the spellings this bridge's schemas.py rewrites)."""
    server = tmp_path / "bad_server.py"
    server.write_text(
        "from typing import Annotated, Any\n"
        "from pydantic import BaseModel, WithJsonSchema\n"
        "from mcp.server.mcpserver import MCPServer\n"
        "class Out(BaseModel):\n"
        "    anything: Any = None\n"
        "    cursor: Annotated[str | None, WithJsonSchema({'type': ['string', 'null']})] = None\n"
        "mcp = MCPServer('bad')\n"
        "@mcp.tool()\n"
        "def echo() -> Out:\n"
        "    return Out()\n"
        "mcp.run('stdio')\n",
        encoding="utf-8",
    )
    command = [
        *node_command("mcp-inspector"),
        "--cli",
        "--method",
        "tools/list",
        "--strict",
        "--",
        sys.executable,
        str(server),
    ]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", timeout=120, env=child_env())
    assert "Path: outputSchema.properties.anything" in done.stderr, done.stderr
    assert "Path: outputSchema.properties.cursor" in done.stderr and "`type` is an array" in done.stderr
    assert "0 errors, 2 warnings across 1 tool." in done.stderr


@pytest.fixture(scope="module")
def ids(inspect: Inspect) -> dict[str, Any]:
    """An album and an image asset, taken from what the tools return (never hard-coded)."""
    albums = structured(inspect("tools/call", "--tool-name", "list_albums", "--tool-arg", "limit=3"))
    hits = structured(
        inspect("tools/call", "--tool-name", "search_assets", "--tool-arg", "query=Paris", "media_type=image")
    )
    return {"album": albums["albums"][0], "albums": albums, "image": hits["assets"][0]}


def test_list_albums(ids: dict[str, Any]) -> None:
    page = ids["albums"]
    assert len(page["albums"]) == 3 and page["total"] == 14 and page["next_cursor"]


def test_get_album(inspect: Inspect, ids: dict[str, Any]) -> None:
    album = structured(
        inspect("tools/call", "--tool-name", "get_album", "--tool-arg", f"album_id={ids['album']['id']}")
    )
    assert (album["id"], album["name"]) == (ids["album"]["id"], ids["album"]["name"])


def test_list_album_assets_pages_with_the_cursor(inspect: Inspect, ids: dict[str, Any]) -> None:
    album_id = ids["album"]["id"]
    first = structured(
        inspect("tools/call", "--tool-name", "list_album_assets", "--tool-arg", f"album_id={album_id}", "limit=2")
    )
    second = structured(
        inspect(
            "tools/call",
            "--tool-name",
            "list_album_assets",
            "--tool-arg",
            f"album_id={album_id}",
            "limit=2",
            f"cursor={first['next_cursor']}",
        )
    )
    assert first["total"] == second["total"] == ids["album"]["asset_count"]
    assert len(first["assets"]) == 2
    assert {a["id"] for a in first["assets"]}.isdisjoint(a["id"] for a in second["assets"])


@pytest.mark.parametrize("era", sorted(ERAS))
def test_search_assets_expands_a_place_through_the_taxonomy(inspect: Inspect, era: str) -> None:
    hits = structured(
        inspect("tools/call", "--tool-name", "search_assets", "--tool-arg", "query=France", "limit=5", era=era)
    )
    assert hits["total"] == 81 and len(hits["assets"]) == 5


def test_get_asset(inspect: Inspect, ids: dict[str, Any]) -> None:
    asset = structured(
        inspect("tools/call", "--tool-name", "get_asset", "--tool-arg", f"asset_id={ids['image']['id']}")
    )
    assert (asset["id"], asset["media_type"]) == (ids["image"]["id"], "image")


def test_get_asset_preview_returns_a_jpeg(inspect: Inspect, ids: dict[str, Any]) -> None:
    result = inspect("tools/call", "--tool-name", "get_asset_preview", "--tool-arg", f"asset_id={ids['image']['id']}")
    images = [c for c in result["content"] if c["type"] == "image"]
    assert result["isError"] is False and len(images) == 1 and images[0]["mimeType"] == "image/jpeg"
    assert base64.b64decode(images[0]["data"])[:3] == b"\xff\xd8\xff"


def test_get_archive_configuration(inspect: Inspect) -> None:
    config = structured(inspect("tools/call", "--tool-name", "get_archive_configuration"))
    assert isinstance(config["configuration"], dict) and config["configuration"]


def test_list_api_links(inspect: Inspect) -> None:
    links = structured(inspect("tools/call", "--tool-name", "list_api_links"))
    assert links["links"], links


def test_api_get(inspect: Inspect) -> None:
    result = structured(inspect("tools/call", "--tool-name", "api_get", "--tool-arg", "path=albums", "query=size=2"))
    assert result["path"] == "albums" and result["truncated"] is False and result["body"]


def test_a_tool_error_reaches_the_inspector_as_an_error_result(inspect: Inspect) -> None:
    status, stdout, stderr = inspect(
        "tools/call", "--tool-name", "get_album", "--tool-arg", "album_id=no-such-album", ok=False
    )
    result = json.loads(stdout)
    assert status == 5 and result["isError"] is True  # 5: the Inspector's exit status for an isError result
    assert result["content"][0]["text"].startswith("album 'no-such-album' not found")
    assert "returned isError:true" in stderr


def test_resources_list_and_templates(inspect: Inspect) -> None:
    resources = inspect("resources/list")["resources"]
    assert {r["uri"] for r in resources} == {"footage://albums", "footage://archive/configuration"}
    templates = inspect("resources/templates/list", era="modern")["resourceTemplates"]
    assert {t["uriTemplate"] for t in templates} == {
        "footage://albums/{album_id}",
        "footage://assets/{asset_id}",
        "footage://assets/{asset_id}/preview",
    }


def test_resources_read_static_and_templated(inspect: Inspect, ids: dict[str, Any]) -> None:
    listing = inspect("resources/read", "--uri", "footage://albums")["contents"][0]
    assert listing["mimeType"] == "application/json"
    assert ids["album"]["id"] in {a["id"] for a in json.loads(listing["text"])["albums"]}
    album = inspect("resources/read", "--uri", f"footage://albums/{ids['album']['id']}")["contents"][0]
    assert json.loads(album["text"])["name"] == ids["album"]["name"]
    preview = inspect("resources/read", "--uri", f"footage://assets/{ids['image']['id']}/preview")["contents"][0]
    assert preview["mimeType"] == "image/jpeg" and base64.b64decode(preview["blob"])[:3] == b"\xff\xd8\xff"


def test_prompts_list_and_get(inspect: Inspect, ids: dict[str, Any]) -> None:
    prompts = {p["name"]: p for p in inspect("prompts/list")["prompts"]}
    assert set(prompts) == {"find_footage", "summarize_album"}
    assert [a["name"] for a in prompts["find_footage"]["arguments"]] == ["brief"]
    got = inspect("prompts/get", "--prompt-name", "summarize_album", "--prompt-args", f"album_id={ids['album']['id']}")
    text = got["messages"][0]["content"]["text"]
    assert f"get_album with album_id '{ids['album']['id']}'" in text
