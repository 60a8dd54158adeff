"""Streamable HTTP transport (`footage-mcp serve --transport http`): the SDK's HTTP client and the MCP
Inspector CLI against the bridge on loopback, DNS-rebinding protection, and the refusal of a non-loopback bind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator

import forkrun
import httpx2
import pytest
from mcp import Client

from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.sandbox.library import build_library
from tests.conftest import INTERFACE_TOOLS, wait_until_listening
from tests.node_tools import node_command

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_bridge(hal_sandbox: RunningSandbox) -> Iterator[str]:
    """One ``serve --transport http`` process for the module's clients, forked from the warm zygote
    (tests/forkrun.py; cold HTTP servers start in tests/test_team.py and tests/test_loadbalanced.py)."""
    port = free_port()
    env = child_env({"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": hal_sandbox.token})
    proc = subprocess.Popen(
        forkrun.warm_command(["serve", "--transport", "http", "--port", str(port)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_until_listening(proc, port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


async def test_the_sdk_http_client_uses_every_tool_family(http_bridge: str) -> None:
    lib = build_library()
    async with Client(http_bridge) as client:
        assert {t.name for t in (await client.list_tools()).tools} == INTERFACE_TOOLS
        hits = await client.call_tool("search_assets", {"query": "Paris", "limit": 3})
        assert not hits.is_error and hits.structured_content is not None
        assert len(hits.structured_content["assets"]) == 3
        album = await client.call_tool("get_album", {"album_id": lib.albums[0].id})
        assert album.structured_content is not None and album.structured_content["name"] == lib.albums[0].name
        config = await client.read_resource("footage://archive/configuration")
        assert "mediaTypes" in config.contents[0].text  # type: ignore[union-attr]


async def test_dns_rebinding_is_refused(http_bridge: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx2.AsyncClient() as raw:
        evil_host = await raw.post(http_bridge, json=body, headers={**headers, "Host": "evil.example:80"})
        evil_origin = await raw.post(http_bridge, json=body, headers={**headers, "Origin": "http://evil.example"})
    assert evil_host.status_code == 421 and evil_origin.status_code == 403


def test_a_non_loopback_bind_needs_allow_remote() -> None:
    result = forkrun.run(
        ["serve", "--transport", "http", "--host", "0.0.0.0"],
        {**os.environ, "FOOTAGE_API_TOKEN": "tok-123456"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to serve HTTP on non-loopback 0.0.0.0 without --allow-remote" in result.stderr


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_inspector_cli_over_streamable_http(http_bridge: str, era: str) -> None:
    """The same bridge, reached by the MCP Inspector CLI (tests/clients) over Streamable HTTP."""

    def inspector(*args: str) -> dict[str, object]:
        command = [*node_command("mcp-inspector"), "--cli", "--transport", "http", "--server-url", http_bridge]
        done = subprocess.run(
            [*command, "--protocol-era", era, *args], capture_output=True, text=True, timeout=120, env=child_env()
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    assert (
        inspector("--method", "initialize")["protocolVersion"] == {"legacy": "2025-11-25", "modern": "2026-07-28"}[era]
    )
    tools = inspector("--method", "tools/list")["tools"]
    assert {t["name"] for t in tools} == INTERFACE_TOOLS  # type: ignore[index]
    hits = inspector("--method", "tools/call", "--tool-name", "search_assets", "--tool-arg", "query=France")
    assert hits["structuredContent"]["total"] == 81  # type: ignore[index]
