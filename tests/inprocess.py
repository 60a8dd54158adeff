"""The middle test layer: the real bridge and the real sandbox in ONE process, no subprocess, no socket.

:func:`bridge` builds the sandbox's Starlette app (:func:`footage_mcp.sandbox.create_app`, the app the
``sandbox`` command serves), plugs it into the bridge's :class:`~footage_mcp.rest.http.RestClient`
through its transport seam (``build_server(settings, transport=httpx2.ASGITransport(app))``), and
connects the SDK's in-memory client (``mcp.Client(server)``) to the server. Everything between the
MCP request and the sandbox's route handler is the production code: tools, guard, rendering, the REST
client with its retries, redirects, size caps and error mapping, the sandbox's fault middleware.

What ASGI cannot show, a socket can: ``httpx2.ASGITransport`` buffers the whole answer and knows no
timeouts, and an app that raises mid-body raises in the client. For those faults (latency past the
timeout, a slow body, an aborted connection) :func:`bridge_over_loopback` runs the same in-process
bridge against a sandbox over real loopback HTTP (the session's ``sandbox_process``), with the
client's real network transport.

Fault injection is the sandbox's own control API (``PUT /_sandbox/faults``, ``GET /_sandbox/requests``,
see :mod:`footage_mcp.sandbox.control`), reached through :attr:`Bridge.control` — the same calls a test
makes against the subprocess sandbox. Only tests (and cli, bench) may import the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.types import CallToolResult

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.cli.launch import sandbox_token as sandbox_token_default
from footage_mcp.core.settings import Settings
from footage_mcp.sandbox import create_app
from footage_mcp.surface.server import build_server

ORIGIN = "http://127.0.0.1:1"
"""The origin the in-process bridge is configured with. No socket is ever opened to it (the ASGI
transport answers); were one opened by mistake, port 1 refuses and the test fails loudly."""
BASE_URL = f"{ORIGIN}/api/asset"
FAST = {"timeout": 1.0, "max_retries": 2, "retry_budget": 4.0}
"""Settings that keep retrying tests quick: the fault matrix's FOOTAGE_TIMEOUT=1, FOOTAGE_MAX_RETRIES=2,
FOOTAGE_RETRY_BUDGET=4."""


@dataclass(frozen=True)
class Bridge:
    """A running in-process bridge: the MCP client, the sandbox's control API, and the app itself."""

    client: Client
    control: httpx2.AsyncClient
    """The sandbox's ``/_sandbox/`` routes (base URL ``<origin>/_sandbox``): ``put("/faults", ...)``."""
    app: Any
    """The sandbox Starlette app (``app.state.library``, ``app.state.sandbox``), or None over loopback."""
    settings: Settings

    async def faults(self, *rules: Mapping[str, Any]) -> None:
        """Replace the sandbox's fault rules (asserts the control API accepted them)."""
        response = await self.control.put("/faults", json={"rules": list(rules)})
        assert response.status_code == 200, response.text

    async def requests(self) -> list[dict[str, Any]]:
        """The sandbox's request log (oldest first)."""
        log: list[dict[str, Any]] = (await self.control.get("/requests")).json()
        return log

    async def reset(self) -> None:
        """No rules, empty request and echo logs."""
        await self.control.delete("/faults")
        await self.control.delete("/requests")
        await self.control.delete("/echo-requests")


def settings_for(base_url: str, token: str | None, **overrides: Any) -> Settings:
    """Bridge settings as ``serve`` would read them from FOOTAGE_BASE_URL, FOOTAGE_API_TOKEN and the rest."""
    fields: dict[str, Any] = {"base_url": base_url, "api_token": token, **overrides}
    return Settings(**fields)


@asynccontextmanager
async def bridge(
    *,
    shape: str = "hal",
    token: str | None = "",
    sandbox_token: str | None = None,
    alt_routes: bool = False,
    faults: Sequence[Mapping[str, Any]] | None = None,
    mode: str = "legacy",
    **settings: Any,
) -> AsyncIterator[Bridge]:
    """The bridge over a fresh sandbox app in ``shape`` (no rules, empty logs), via ASGI.

    ``token``: the bridge's FOOTAGE_API_TOKEN (None: unset; default: the sandbox's); ``sandbox_token``:
    the one the sandbox accepts (default: ``$FOOTAGE_SANDBOX_TOKEN``, the canary in the suite, see
    tests/canary_plugin.py); ``alt_routes``/``faults``: as for ``create_app``; ``mode``: the SDK client's connection
    mode ("legacy" initialize handshake, or "auto"); ``settings``: further :class:`Settings` fields.
    """
    sandbox_token = sandbox_token or sandbox_token_default()
    token = sandbox_token if token == "" else token
    app = create_app(shape=shape, token=sandbox_token, alt_routes=alt_routes, faults=list(faults or []))
    transport = httpx2.ASGITransport(app=app)
    config = settings_for(BASE_URL, token, **settings)
    server = build_server(config, transport=transport)
    async with (
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=f"{ORIGIN}/_sandbox") as control,
        Client(server, mode=mode) as client,  # type: ignore[arg-type]
    ):
        yield Bridge(client=client, control=control, app=app, settings=config)


@asynccontextmanager
async def in_process_client(
    base_url: str, token: str | None, *, mode: str = "legacy", **settings: Any
) -> AsyncIterator[Client]:
    """The in-process bridge configured with ``base_url`` and ``token``, over the client's real network
    transport (for what only a socket shows: refused connections, TLS, timeouts, dropped connections)."""
    async with Client(build_server(settings_for(base_url, token, **settings)), mode=mode) as client:  # type: ignore[arg-type]
        yield client


@asynccontextmanager
async def bridge_over_loopback(
    sandbox: RunningSandbox, *, token: str | None = None, mode: str = "legacy", **settings: Any
) -> AsyncIterator[Bridge]:
    """The in-process bridge against ``sandbox`` over real loopback HTTP (the client's own network
    transport: real timeouts, streamed bodies, dropped connections). The sandbox's rules and logs are
    reset before and after. ``token`` defaults to the sandbox's."""
    token = token if token is not None else sandbox.token
    origin = sandbox.base_url.removesuffix("/api/asset")
    async with httpx2.AsyncClient(base_url=f"{origin}/_sandbox", timeout=10) as control:
        config = settings_for(sandbox.base_url, token, **settings)
        handle = Bridge(client=None, control=control, app=None, settings=config)  # type: ignore[arg-type]
        await handle.reset()
        try:
            async with in_process_client(sandbox.base_url, token, mode=mode, **settings) as client:
                yield Bridge(client=client, control=control, app=None, settings=config)
        finally:
            await handle.reset()


def error_message(result: CallToolResult) -> str | None:
    """The tool error's one text block (None when the call succeeded); an error has no structured content."""
    if not result.is_error:
        return None
    assert result.structured_content is None
    return str(result.content[0].text)  # type: ignore[union-attr]
