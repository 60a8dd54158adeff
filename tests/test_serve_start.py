"""How ``serve`` starts (issue 10, part 6; each failed before): the HTTP port it announces and
admits, a port that is taken, and a malformed token, which no longer stops the server."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator

import forkrun
import pytest
from mcp import Client
from mcp.server.transport_security import TransportSecurityMiddleware
from starlette.requests import Request

from footage_mcp.cli.http_serve import transport_security
from footage_mcp.cli.launch import RunningSandbox, bridge_parameters, child_env
from tests.conftest import INTERFACE_TOOLS

pytestmark = pytest.mark.anyio

ANNOUNCED = re.compile(r"footage-mcp: Streamable HTTP on http://127\.0\.0\.1:([0-9]+)/mcp \(.*\); health: /healthz")


def request(host: str, origin: str | None = None) -> Request:
    headers = [(b"host", host.encode()), (b"content-type", b"application/json")]
    headers += [(b"origin", origin.encode())] if origin else []
    return Request({"type": "http", "method": "POST", "path": "/mcp", "headers": headers})


@pytest.mark.parametrize(
    ("port", "host", "origin", "admitted"),
    [
        (80, "127.0.0.1", None, True),  # failed before: 421 (clients leave the default port out)
        (80, "localhost", "http://localhost", True),
        (80, "127.0.0.1:80", "http://127.0.0.1:80", True),
        (80, "evil.example", None, False),
        (8770, "127.0.0.1", None, False),  # only port 80 is implied
        (8770, "127.0.0.1:8770", None, True),
        (8770, "127.0.0.1:8771", None, False),
    ],
)
async def test_the_rebinding_protection_admits_the_default_port_left_out(
    port: int, host: str, origin: str | None, admitted: bool
) -> None:
    """Through the SDK's own middleware, with the settings serve gives it."""
    middleware = TransportSecurityMiddleware(transport_security("127.0.0.1", port))
    refused = await middleware.validate_request(request(host, origin), is_post=True)
    assert (refused is None) is admitted, refused and refused.body
    if refused is not None:
        assert refused.status_code == 421  # Misdirected Request: the Host is not this server


@pytest.fixture
def served_on_port_0(hal_sandbox: RunningSandbox) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = child_env({"FOOTAGE_BASE_URL": hal_sandbox.base_url, "FOOTAGE_API_TOKEN": hal_sandbox.token})
    proc = subprocess.Popen(  # forked from the warm zygote (tests/forkrun.py): a process of its own
        forkrun.warm_command(["serve", "--transport", "http", "--port", "0"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the first line is the announcement
        yield proc, line.strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.mark.slow
async def test_port_0_announces_the_port_bound_and_serves_there(
    served_on_port_0: tuple[subprocess.Popen[str], str],
) -> None:
    """Failed before: it printed http://127.0.0.1:0/mcp."""
    _proc, line = served_on_port_0
    found = ANNOUNCED.fullmatch(line)
    assert found is not None, line
    port = int(found.group(1))
    assert port != 0
    async with Client(f"http://127.0.0.1:{port}/mcp") as client:
        assert {t.name for t in (await client.list_tools()).tools} == INTERFACE_TOOLS


@pytest.mark.slow
def test_a_port_in_use_is_one_line_and_status_2() -> None:
    """Failed before: a traceback from uvicorn and status 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = forkrun.run(
            ["serve", "--transport", "http", "--port", str(port)],
            child_env({"FOOTAGE_API_TOKEN": "tok-123456"}),
            timeout=60,
        )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"footage-mcp: cannot listen on 127.0.0.1:{port}: the port is already in use (another footage-mcp, or "
        "another server); choose another with --port\n"
    )


MANGLED = [
    ('"canary-tok-123"', 'FOOTAGE_API_TOKEN is wrapped in quotes ("…")'),
    ("Bearer canary-tok-123", "FOOTAGE_API_TOKEN starts with 'Bearer '"),
    ("canary-tok\n123", "FOOTAGE_API_TOKEN contains a line break at character 11 of 14"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("token", "says"), MANGLED, ids=["quotes", "bearer", "line-break"])
async def test_a_malformed_token_starts_and_every_token_call_says_what_is_wrong(
    hal_sandbox: RunningSandbox, token: str, says: str
) -> None:
    """Failed before: serve exited 2 at start, and the host showed only "Connection closed"."""
    params = forkrun.warm_parameters(bridge_parameters(hal_sandbox.base_url, token))
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == INTERFACE_TOOLS
        albums = await client.call_tool("list_albums", {})
        message = albums.content[0].text if albums.content[0].type == "text" else ""
        assert albums.is_error
        assert message.startswith(f"this call needs a valid Footage API token: {says}")
        assert message.endswith("(then restart the MCP server)")
        assert "canary" not in message
        public = await client.call_tool("get_archive_configuration", {})  # no token needed: works
        assert not public.is_error
    checked = forkrun.run(["check"], child_env({"FOOTAGE_API_TOKEN": token, "FOOTAGE_BASE_URL": hal_sandbox.base_url}))
    assert checked.returncode == 1 and f"FAIL  token format     {says}" in checked.stdout
    assert "canary" not in checked.stdout + checked.stderr
