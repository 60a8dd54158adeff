"""Shared fixtures: the sandbox over real loopback HTTP (a subprocess), the in-process bridge over the
sandbox app (tests/inprocess.py), and bridge parameters."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from forkrun import warm_sandbox
from inprocess import Bridge, bridge

from footage_mcp.cli.launch import RunningSandbox

pytest_plugins = ["canary_plugin"]  # the whole suite is a canary run (tests/canary_plugin.py)

PYCACHE = Path(tempfile.gettempdir()) / f"footage-mcp-test-pycache-{os.getuid() if hasattr(os, 'getuid') else 0}"
"""Where every interpreter the suite starts keeps its bytecode (PYTHONPYCACHEPREFIX): outside the repo and
the venv, kept across runs."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (the README's test command): one worker more than the machine's cores. The suite spends
    about a quarter of its time waiting on subprocesses, sockets and real timeouts (measured, serially:
    262 CPU-s of tests and 77 s of waits), which a third worker on two cores fills: 177-183 s instead of
    203-226 s, for about the same CPU; a fourth adds CPU (collection, a zygote, contention): 162 s against
    146-154 s with three, later (docs/benchmarks.md, "The test suite")."""
    return (os.cpu_count() or 1) + 1


def _bytecode_for_children() -> None:
    """Let the interpreters this run starts (xdist workers, the fork zygotes, cold bridges, CLI runs, the
    Inspector's and the bundle's servers, and Node.js) read and write bytecode under :data:`PYCACHE`.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set in some workplaces and CI images) and a venv that ``uv sync``
    installed without ``.pyc`` files, every interpreter compiled every module it imported from source:
    about 9 s of CPU per xdist worker's collection and 1-2 s per cold start, which an installed package
    never pays (pip and uvx write bytecode). Set here, at conftest import in the controlling process,
    before xdist starts its workers."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    # Node 22 (tests/node_tools.py) keeps the code it compiled there: the Inspector's and mcpb's bundles
    # are compiled once, not at each of the suite's 30-odd runs (Node 20 ignores the variable)
    os.environ.setdefault("NODE_COMPILE_CACHE", str(PYCACHE / "node"))


_bytecode_for_children()


def _one_ssl_context_for_the_suites_own_clients() -> None:
    """Every httpx2 client this test process builds with the default trust gets the process's one SSL
    context (``footage_mcp.rest.netenv.tls_context``, which the bridge's own clients use by design).

    httpx2 builds a context for each client, loading every system CA certificate: about 33 ms of CPU. The
    suite's own clients (the SDK's HTTP clients, readiness polls, the sandboxes' control calls) number in
    the thousands, over 20 s of CPU per run (measured with py-spy) for connections to plain-HTTP loopback
    servers. Patched in httpx2's transport module, where both transports call it; a client given
    ``verify=`` (a context, False) or another trust setting gets what httpx2 would build."""
    import httpx2._transports.default as transports

    from footage_mcp.rest.netenv import tls_context

    build = transports.create_ssl_context

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and cert is None and trust_env:
            return tls_context()
        return build(verify=verify, cert=cert, trust_env=trust_env)

    transports.create_ssl_context = create_ssl_context


_one_ssl_context_for_the_suites_own_clients()
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
