"""The fault matrix: each upstream fault × each tool it can hit, on the in-process layer (tests/inprocess.py:
the real bridge and the real sandbox app with fault injection in one process, the SDK's in-memory client).
Faults that only a socket can show (a timeout, a slow body, an aborted connection) run the same in-process
bridge against the sandbox over real loopback HTTP; a few cells also run over real stdio (the bridge as a
subprocess), so the matrix is shown to hold through the process too.

Every cell asserts the exact message the model gets, and the request log shows how many attempts the
bridge made (retries only where they are allowed). The bridge runs with FOOTAGE_TIMEOUT=1,
FOOTAGE_MAX_RETRIES=2 and FOOTAGE_RETRY_BUDGET=4 to keep the matrix quick.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import pytest
from forkrun import warm_parameters, warm_sandbox
from inprocess import FAST, Bridge, bridge, bridge_over_loopback, in_process_client
from mcp import Client
from mcp.types import CallToolResult

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.sandbox.library import shared_library

pytestmark = [pytest.mark.anyio]

LIB = shared_library()
ALBUM = LIB.albums[0].id
ASSET = next(a for a in LIB.assets if a.kind == "image" and a.preview_available).id
BRIDGE_ENV = {"FOOTAGE_TIMEOUT": "1", "FOOTAGE_MAX_RETRIES": "2", "FOOTAGE_RETRY_BUDGET": "4"}


@dataclass(frozen=True)
class Target:
    tool: str
    args: dict[str, Any]
    route: str  # regex on the path after /api/asset
    not_found: str  # the message for a 404
    json: bool = True


TARGETS = [
    Target(
        "list_albums",
        {},
        r"^/albums$",
        "the API answered 404 for its albums route ('albums'): check that FOOTAGE_BASE_URL ends in "
        "/api/asset, or set the albums route in FOOTAGE_ROUTES",
    ),
    Target(
        "get_album", {"album_id": ALBUM}, r"^/albums/[^/]+$", f"album '{ALBUM}' not found — list_albums shows valid ids"
    ),
    Target(
        "list_album_assets",
        {"album_id": ALBUM},
        r"^/albums/[^/]+/assets$",
        f"album '{ALBUM}' not found — list_albums shows valid ids",
    ),
    Target(
        "search_assets",
        {"query": "Paris"},
        r"^/search/assets$",
        "the API answered 404 for its search route ('search/assets'): check that FOOTAGE_BASE_URL ends in "
        "/api/asset, or set the search route in FOOTAGE_ROUTES",
    ),
    Target(
        "get_asset",
        {"asset_id": ASSET},
        r"^/assets/[^/]+$",
        f"asset '{ASSET}' not found — search_assets or list_album_assets shows valid ids",
    ),
    Target(
        "get_asset_preview",
        {"asset_id": ASSET},
        r"^/assets/[^/]+/preview$",
        f"asset '{ASSET}' has no preview (or does not exist) — get_asset shows its details",
        json=False,
    ),
    Target(
        "get_archive_configuration",
        {},
        r"^/configuration/archive$",
        "the API answered 404 for its archiveConfiguration route ('configuration/archive'): check that "
        "FOOTAGE_BASE_URL ends in /api/asset, or set the archiveConfiguration route in FOOTAGE_ROUTES",
    ),
    Target(
        "api_get",
        {"path": "public/status"},
        r"^/public/status$",
        "nothing at 'public/status' (404) — list_api_links shows the API's routes",
    ),
]

TOKEN_REJECTED = (
    "the Footage API rejected the token (401): generate a new API key at app.footage.one/account "
    "and set FOOTAGE_API_TOKEN"
)
FORBIDDEN_GENERIC = "the token's user has no permission for this resource (403): Injected fault"
FORBIDDEN = {
    tool: f"the token's user has no permission to see {kind} '{ident}' (403); ask the library's owner to share it, "
    "or use another id"
    for tool, kind, ident in (
        ("get_album", "album", ALBUM),
        ("list_album_assets", "album", ALBUM),
        ("get_asset", "asset", ASSET),
    )
}
TIMEOUT = "the Footage API did not answer within 1 s; try again later, or raise FOOTAGE_TIMEOUT"
AT_FAULT = "the service is at fault, retrying is unlikely to help"
NOT_GZIP = f"the Footage API's answer is labelled gzip-compressed but is not valid gzip data; {AT_FAULT}"
UNKNOWN_ENCODING = (
    f"the Footage API answered in a content encoding the bridge cannot read (x-footage-unknown); {AT_FAULT}"
)
HEADERS_TOO_LARGE = (
    "the Footage API sent response headers too large to read (over 100 KiB: a huge header line or thousands of "
    f"headers); {AT_FAULT}"
)


def not_json_message(target: Target, json_text: str, image_text: str) -> str:
    return json_text if target.json else image_text.format(asset=ASSET)


@dataclass(frozen=True)
class Fault:
    name: str
    rule: dict[str, Any]
    expect: Callable[[Target], str | None]  # None: the call succeeds
    attempts: int = 1  # requests the bridge makes to the faulted route
    socket: bool = False  # only a real socket shows it (ASGI buffers answers and knows no timeouts)


FAULTS = [
    Fault("400", {"status": 400}, lambda t: "the Footage API rejected the request (400): Injected fault"),
    Fault("401", {"status": 401}, lambda t: TOKEN_REJECTED),
    Fault("403", {"status": 403}, lambda t: FORBIDDEN.get(t.tool, FORBIDDEN_GENERIC)),
    Fault("404", {"status": 404}, lambda t: t.not_found),
    Fault("409", {"status": 409}, lambda t: "the Footage API reports a conflict (409): Injected fault"),
    Fault(
        "429-persistent",
        {"statuses": [429, 429, 429], "retry_after": "1"},
        lambda t: "the Footage API is rate limiting requests (429): retry in 1 s",
        attempts=3,
    ),
    Fault("429-then-ok", {"statuses": [429], "retry_after": "0"}, lambda t: None, attempts=2),
    Fault(
        "503-persistent",
        {"statuses": [503, 503, 503]},
        lambda t: "the Footage service failed (503); retrying in a moment may help",
        attempts=3,
    ),
    Fault("502-then-ok", {"statuses": [502]}, lambda t: None, attempts=2),
    Fault("504-then-ok", {"statuses": [504]}, lambda t: None, attempts=2),
    Fault("500", {"status": 500}, lambda t: "the Footage service failed (500); retrying is unlikely to help"),
    Fault("timeout", {"latency_ms": 2500, "times": 1}, lambda t: TIMEOUT, socket=True),
    Fault("slow-body", {"body": "slow", "slow_ms": 3000}, lambda t: TIMEOUT, socket=True),
    Fault(
        "html",
        {"body": "html"},
        lambda t: not_json_message(
            t,
            "the Footage API answered with an HTML page instead of JSON (200); check FOOTAGE_BASE_URL (it should "
            "end in /api/asset)",
            "the Footage API's preview for asset '{asset}' is not an image (text/html)",
        ),
    ),
    Fault(
        "html-error-page",
        {"body": "html", "status": 502, "times": 3},
        lambda t: "the Footage service failed (502); retrying in a moment may help",
        attempts=3,
    ),
    Fault(
        "truncated",
        {"body": "truncated"},
        lambda t: not_json_message(
            t,
            "the Footage API answered with a body that is not valid JSON (it may have been cut off); try again",
            "the Footage API's preview for asset '{asset}' is not an image (application/json)",
        ),
    ),
    Fault(
        "aborted",
        {"body": "aborted"},
        lambda t: "the Footage API closed the connection before the response was complete; try again",
        socket=True,
    ),
    Fault(
        "not-json",
        {"body": "not_json"},
        lambda t: not_json_message(
            t,
            "the Footage API answered with a body that is not valid JSON (it may have been cut off); try again",
            "the Footage API's preview for asset '{asset}' is not an image (text/plain)",
        ),
    ),
    Fault(
        "empty",
        {"body": "empty"},
        lambda t: not_json_message(
            t,
            "the Footage API answered with an empty body (200)",
            "the Footage API's preview for asset '{asset}' is not an image (application/json)",
        ),
    ),
    Fault(
        "oversized",
        {"body": "oversized", "size_bytes": 12 * 1024 * 1024},
        lambda t: (
            "the Footage API's answer is larger than 8 MiB; the bridge refused to read it"
            if t.json
            else f"the Footage API's preview for asset '{ASSET}' is not an image (application/json)"
        ),
    ),
    Fault(
        "oversized-declared",
        {"body": "oversized", "size_bytes": 40 * 1024 * 1024, "declare_length": True},
        lambda t: f"the Footage API's answer is larger than {8 if t.json else 32} MiB; the bridge refused to read it",
    ),
    Fault(
        "redirect-other-origin",
        {"redirect": "other-origin"},
        lambda t: (
            "the Footage API redirected to another origin (127.0.0.1); the bridge does not follow it, "
            "so the token never leaves the API"
        ),
    ),
    Fault("redirect-same-origin", {"redirect": "same-origin", "hops": 3}, lambda t: None, attempts=4),
    Fault(
        "redirect-loop",
        {"redirect": "loop"},
        lambda t: "the Footage API redirected more than 5 times; giving up",
        attempts=6,
    ),
    Fault("not-gzip", {"body": "not_gzip"}, lambda t: NOT_GZIP),
    Fault("unknown-encoding", {"body": "unknown_encoding"}, lambda t: UNKNOWN_ENCODING),
    Fault(
        "stacked-encoding-bomb",
        {"body": "encoded_bomb", "encodings": ["gzip", "gzip"]},
        lambda t: f"the Footage API's answer is larger than {8 if t.json else 32} MiB; the bridge refused to read it",
    ),
    Fault(
        "huge-int",
        {"body": "huge_int"},
        lambda t: not_json_message(
            t,
            f"the Footage API answered with a number too long to read (over 4,300 digits); {AT_FAULT}",
            "the Footage API's preview for asset '{asset}' is not an image (application/json)",
        ),
    ),
    Fault(
        "invalid-utf8",
        {"body": "bad_utf8"},
        lambda t: not_json_message(
            t,
            f"the Footage API answered with text that is not valid UTF-8 (at byte 32); {AT_FAULT}",
            "the Footage API's preview for asset '{asset}' is not an image (application/json)",
        ),
    ),
    Fault("huge-header-line", {"body": "huge_header"}, lambda t: HEADERS_TOO_LARGE, socket=True),
    Fault(  # 10,000 too
        "many-link-headers", {"body": "many_links", "count": 2000}, lambda t: HEADERS_TOO_LARGE, socket=True
    ),
    Fault(
        "non-finite-numbers",
        {"body": "non_finite"},
        lambda t: (
            None if t.json else f"the Footage API's preview for asset '{ASSET}' is not an image (application/json)"
        ),
    ),
    Fault(
        "error-cuts-into-token",
        {"body": "echo_cut"},
        lambda t: "the Footage API rejected the request (400): " + "E" * 122 + "[redacted]!",
    ),
    Fault(
        "error-echoes-token",
        {"body": "error_echo"},
        lambda t: "the Footage API rejected the request (400): invalid apiKey [redacted] for this route",
    ),
]


STDIO_FAULTS = ("503-persistent", "timeout", "error-echoes-token")
"""The cells also run over real stdio: a retried status, a socket fault, the token redaction."""


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process bridges here back off 25 times faster than the real one (tenacity's exponential
    jitter from 20 ms instead of 500 ms), so the retried cells do not sit idle for seconds: the attempts
    and messages asserted are the same; the waits themselves are tests/test_retries.py's. (A subprocess
    bridge, the stdio cells', keeps the real waits.)"""
    from tenacity import wait_exponential_jitter

    from footage_mcp.rest import retry

    wait = wait_exponential_jitter(multiplier=0.02, max=0.32, jitter=0.02)
    monkeypatch.setattr(retry, "_backoff", lambda: wait)


@pytest.fixture(scope="module")
def faulty_sandbox() -> Any:
    with warm_sandbox(shape="hal") as running:
        yield running


@asynccontextmanager
async def control(sandbox: RunningSandbox) -> AsyncIterator[httpx2.AsyncClient]:
    origin = sandbox.base_url.removesuffix("/api/asset")
    async with httpx2.AsyncClient(base_url=origin + "/_sandbox", timeout=10) as client:
        yield client


def message(result: CallToolResult) -> str | None:
    if not result.is_error:
        return None
    assert result.structured_content is None
    return str(result.content[0].text)  # type: ignore[union-attr]


async def run_cell(client: Client, sandbox: httpx2.AsyncClient, fault: Fault) -> None:
    """All eight tools are called at once, each against its own faulted route (the calls run
    concurrently over one session and one connection pool)."""
    await client.call_tool("list_api_links", {})  # discovery root read and cached before faults start
    await sandbox.delete("/requests")
    await sandbox.delete("/echo-requests")
    rules = [{"match": target.route, **fault.rule} for target in TARGETS]
    assert (await sandbox.put("/faults", json={"rules": rules})).status_code == 200
    results: dict[str, CallToolResult] = {}

    async def run(target: Target) -> None:
        results[target.tool] = await client.call_tool(target.tool, target.args)

    try:
        async with anyio.create_task_group() as group:
            for target in TARGETS:
                group.start_soon(run, target)
    finally:
        await sandbox.delete("/faults")
    log = (await sandbox.get("/requests")).json()
    for target in TARGETS:
        assert message(results[target.tool]) == fault.expect(target), f"{fault.name} × {target.tool}"
        hits = [e for e in log if re.search(target.route, e["path"].removeprefix("/api/asset"))]
        assert len(hits) == fault.attempts, f"{fault.name} × {target.tool}: {len(hits)} requests"
    assert (await sandbox.get("/echo-requests")).json() == []  # nothing reached the other origin
    # the server keeps serving after every fault
    assert message(await client.call_tool("get_album", {"album_id": ALBUM})) is None


@asynccontextmanager
async def matrix_bridge(fault: Fault, request: pytest.FixtureRequest) -> AsyncIterator[Bridge]:
    """In process: over ASGI, or over loopback HTTP (the module's sandbox subprocess) for the faults
    only a socket shows."""
    if fault.socket:
        async with bridge_over_loopback(request.getfixturevalue("faulty_sandbox"), **FAST) as running:
            yield running
    else:
        async with bridge(**FAST) as running:
            yield running


@pytest.mark.parametrize(
    "fault", [pytest.param(f, id=f.name, marks=[pytest.mark.slow] if f.socket else []) for f in FAULTS]
)
async def test_fault_matrix(request: pytest.FixtureRequest, fault: Fault) -> None:
    async with matrix_bridge(fault, request) as running:
        await run_cell(running.client, running.control, fault)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [f for f in FAULTS if f.name in STDIO_FAULTS], ids=STDIO_FAULTS)
async def test_fault_matrix_over_stdio(faulty_sandbox: RunningSandbox, fault: Fault) -> None:
    params = warm_parameters(bridge_parameters(faulty_sandbox.base_url, faulty_sandbox.token, BRIDGE_ENV))
    async with control(faulty_sandbox) as sandbox, Client(params, mode="legacy") as client:
        await run_cell(client, sandbox, fault)


async def test_a_faulty_discovery_root_falls_back_to_default_routes() -> None:
    async with bridge(faults=[{"match": "^/?$", "status": 503}], **FAST) as running:
        client = running.client
        assert message(await client.call_tool("list_api_links", {})) == (
            "the Footage service failed (503); retrying in a moment may help"
        )
        ok = await client.call_tool("search_assets", {"query": "Paris", "limit": 3})
        assert message(ok) is None and ok.structured_content is not None
        assert len(ok.structured_content["assets"]) == 3


@pytest.mark.slow
async def test_connection_refused_and_tls_failure(faulty_sandbox: RunningSandbox) -> None:
    async with in_process_client("http://127.0.0.1:9/api/asset", "token-123456", **FAST) as client:
        assert message(await client.call_tool("list_albums", {})) == (
            "connection to 127.0.0.1:9 was refused; is the API (or the sandbox) running at FOOTAGE_BASE_URL?"
        )
    tls_url = faulty_sandbox.base_url.replace("http://", "https://")
    async with in_process_client(tls_url, "token-123456", **FAST) as client:
        assert message(await client.call_tool("get_archive_configuration", {})) == (
            "TLS handshake with 127.0.0.1 failed (certificate or proxy problem); check the system clock, "
            "proxy settings and FOOTAGE_BASE_URL"
        )
