"""Shared fixtures: the sandbox over real loopback HTTP (a subprocess), the in-process bridge over the
sandbox app (tests/inprocess.py), and bridge parameters."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from forkrun import warm_sandbox
from inprocess import Bridge, bridge

from footage_mcp.cli.launch import RunningSandbox

pytest_plugins = ["canary_plugin"]  # the whole suite is a canary run (tests/canary_plugin.py)
SHAPES = ("hal", "array", "items")
INTERFACE_TOOLS = frozenset(
    {
        "list_albums",
        "get_album",
        "list_album_assets",
        "search_assets",
        "get_asset",
        "get_asset_preview",
        "get_archive_configuration",
        "list_api_links",
        "api_get",
        "get_contact_sheet",
        "suggest_keywords",
        "download_asset",
    }
)
"""The always-registered tool names interface.md fixes (write tools such as upload_assets only with
FOOTAGE_ALLOW_WRITES=true)."""
WRITE_TOOLS = frozenset(
    {
        "create_album",
        "update_album",
        "add_to_album",
        "remove_from_album",
        "update_asset",
        "add_labels",
        "remove_labels",
        "add_keywords",
        "relate_assets",
    }
)
"""The write tools interface.md fixes, registered with FOOTAGE_ALLOW_WRITES=true (upload_assets needs
FOOTAGE_UPLOAD_DIRS too)."""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
"""A raw 2025-11-25 initialize request, for tests that speak JSON-RPC lines directly."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The sandbox in each list shape, on an ephemeral loopback port."""
    with warm_sandbox(shape=request.param) as running:
        yield running


@pytest.fixture(scope="session")
def hal_sandbox() -> Iterator[RunningSandbox]:
    with warm_sandbox(shape="hal") as running:
        yield running


@pytest.fixture(scope="session")
def alt_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox whose search and album-assets routes differ from the bridge's defaults."""
    with warm_sandbox(shape="items", alt_routes=True) as running:
        yield running


@pytest.fixture(params=SHAPES)
async def shaped_bridge(request: pytest.FixtureRequest) -> AsyncIterator[Bridge]:
    """The in-process bridge (tests/inprocess.py) over a fresh sandbox app, in each list shape."""
    async with bridge(shape=request.param) as running:
        yield running


def wait_until_listening(proc: subprocess.Popen[bytes], port: int) -> None:
    """Return once something accepts connections on 127.0.0.1:``port`` (a readiness poll, not a timing
    assertion). Raises RuntimeError with ``proc``'s stderr when it exits first, or after about 60 s."""
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port}")
