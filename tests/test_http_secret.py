"""``--allow-remote`` needs FOOTAGE_HTTP_SECRET, sent by every client as ``Authorization: Bearer …``
(issue 11, class 10): the bridge as a real HTTP subprocess, the SDK's Streamable HTTP client."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import httpx2
import pytest
from forkrun import run, warm_command
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from footage_mcp.cli.launch import RunningSandbox, child_env
from footage_mcp.surface.http_auth import BearerSecret, remote_secret_problem
from tests.conftest import wait_until_listening

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "s3cret-for-the-http-transport-0123"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(
        ["serve", "--transport", "http", *args], child_env({"FOOTAGE_API_TOKEN": "tok-123456", **env}), timeout=60
    )


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (None, "--allow-remote needs FOOTAGE_HTTP_SECRET"),
        ("short", "FOOTAGE_HTTP_SECRET must be at least 16 characters"),
    ],
)
def test_allow_remote_refuses_to_start_without_a_real_secret(secret: str | None, says: str) -> None:
    env = {"FOOTAGE_HTTP_SECRET": secret} if secret else {}
    result = serve(env, "--host", "0.0.0.0", "--allow-remote", "--port", str(free_port()))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"footage-mcp: {says}")
    assert result.stdout == ""


def test_the_secret_problem_is_one_line() -> None:
    assert remote_secret_problem(SECRET) is None
    assert remote_secret_problem(" " + SECRET) is not None
    assert BearerSecret(lambda *a: None, SECRET)._expected == b"Bearer " + SECRET.encode()  # type: ignore[arg-type]


@pytest.fixture
def secret_bridge(hal_sandbox: RunningSandbox) -> Iterator[str]:
    port = free_port()
    env = child_env({"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": hal_sandbox.token})
    env["FOOTAGE_HTTP_SECRET"] = SECRET
    proc = subprocess.Popen(
        warm_command(["serve", "--transport", "http", "--port", str(port), "--allow-remote"]),
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
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        assert SECRET not in stderr


async def test_requests_without_the_secret_get_401(secret_bridge: str) -> None:
    async with httpx2.AsyncClient() as raw:
        missing = await raw.post(secret_bridge, json=LIST, headers=MCP_HEADERS)
        wrong = await raw.post(secret_bridge, json=LIST, headers={**MCP_HEADERS, "Authorization": "Bearer nope"})
        near = await raw.post(
            secret_bridge, json=LIST, headers={**MCP_HEADERS, "Authorization": f"Bearer {SECRET[:-1]}"}
        )
        basic = await raw.get(secret_bridge, headers={"Authorization": f"Basic {SECRET}"})
    for response in (missing, wrong, near, basic):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer realm="footage-mcp"')
        assert SECRET not in response.text
    assert 'error="invalid_request"' in missing.headers["www-authenticate"]
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


async def test_the_sdk_client_with_the_secret_uses_the_tools(secret_bridge: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {SECRET}"}, timeout=30) as http,
        Client(streamable_http_client(secret_bridge, http_client=http)) as client,
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "search_assets" in tools
        hits = await client.call_tool("search_assets", {"query": "Paris", "limit": 2})
        assert not hits.is_error and hits.structured_content is not None
        assert len(hits.structured_content["assets"]) == 2
