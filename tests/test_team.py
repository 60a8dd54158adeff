"""HTTP team mode on one replica: per-request tokens (FOOTAGE_HTTP_AUTH=client), the 401 and its
WWW-Authenticate, /healthz, FOOTAGE_ALLOWED_HOSTS, per-token caches and cursors, request-state keys,
the start-up refusals, and the bounded graceful shutdown on SIGTERM.

In-process tests run the real HTTP app (the SDK's stateless Streamable HTTP app wrapped by
footage_mcp.surface.team) over httpx2.ASGITransport, driven by the SDK's own client, against the
sandbox app (or a MockTransport upstream) in-process; the rest start real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import forkrun
import httpx2
import pytest
from forkrun import warm_sandbox
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from footage_mcp.cli.launch import child_env
from footage_mcp.cli.serve_http import build_app
from footage_mcp.core.settings import load_settings
from footage_mcp.rest.paging import cursor_key
from footage_mcp.rest.tokens import ApiPerToken, bind_token, effective_token, token_key
from footage_mcp.sandbox.library import DEFAULT_SEED, build_library
from footage_mcp.sandbox.tenants import create_multi_app, split_tokens
from footage_mcp.surface.team import _principal, request_state_security, token_from_headers
from tests.cluster import start_replica, user_client

pytestmark = pytest.mark.anyio

USER_A, USER_B = "user-a-token-123", "user-b-token-456"
LIB_A, LIB_B = build_library(DEFAULT_SEED), build_library(DEFAULT_SEED + 1)
BASE = "http://127.0.0.1:8765/api/asset"
ERAS = ["legacy", "2026-07-28"]
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


# ------------------------------------------------------------------ in-process harness


@asynccontextmanager
async def bridge(
    upstream: httpx2.AsyncBaseTransport, *, auth: str = "client", **settings: Any
) -> AsyncIterator[httpx2.AsyncClient]:
    """The HTTP app (as `serve --transport http` builds it, bound to 127.0.0.1:8770) in-process, its
    lifespan running; yields a raw HTTP client for it (base URL http://127.0.0.1:8770)."""
    config = load_settings(base_url=BASE, http_auth=auth, **settings)
    app = build_app(config, "127.0.0.1", 8770, transport=upstream)
    inner: Any = app
    while not hasattr(inner, "router"):  # the SDK's Starlette app inside the middlewares
        inner = inner.app
    async with (
        inner.router.lifespan_context(inner),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1:8770") as raw,
    ):
        yield raw


@asynccontextmanager
async def mcp_user(
    raw: httpx2.AsyncClient, token: str | None, era: str, header: str = "bearer"
) -> AsyncIterator[Client]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"} if header == "bearer" else {"apiKey": token}
    async with (
        httpx2.AsyncClient(transport=raw._transport, headers=headers) as http,
        Client(streamable_http_client("http://127.0.0.1:8770/mcp", http_client=http), mode=era) as client,
    ):
        yield client


def two_libraries() -> tuple[httpx2.ASGITransport, Any]:
    router = create_multi_app([USER_A, USER_B], seed=DEFAULT_SEED)
    return httpx2.ASGITransport(router), router.state


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    return dict(result.structured_content)


# ------------------------------------------------------------------ tokens from headers


@pytest.mark.parametrize(
    ("headers", "token", "problem"),
    [
        ({"authorization": "Bearer abc123"}, "abc123", False),
        ({"authorization": "bearer   abc123 "}, "abc123", False),
        ({"apikey": "abc123"}, "abc123", False),
        ({"apikey": "abc123", "authorization": "Bearer abc123"}, "abc123", False),
        ({"apikey": "abc123", "authorization": "Bearer other"}, None, True),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None, False),
        ({"authorization": "Bearer "}, None, False),
        ({}, None, False),
        ({"authorization": 'Bearer "abc123"'}, '"abc123"', False),  # diagnosed on use, like a configured token
    ],
)
def test_the_token_comes_from_apikey_or_bearer(headers: dict[str, str], token: str | None, problem: bool) -> None:
    found = token_from_headers(headers)
    assert found.token == token and (found.problem is not None) is problem


def test_a_bound_token_replaces_the_configured_one_only_inside_the_block() -> None:
    assert effective_token("configured") == "configured"
    with bind_token("mine"):
        assert effective_token("configured") == "mine"
        with bind_token(None):
            assert effective_token("configured") is None
        assert effective_token("configured") == "mine"
    assert effective_token("configured") == "configured"


def test_token_keys_are_stable_distinct_and_not_the_token() -> None:
    assert token_key(USER_A) == token_key(USER_A) != token_key(USER_B)
    assert USER_A not in token_key(USER_A) and len(token_key(USER_A)) == 32
    assert token_key(None) == token_key("") == "anonymous"


def test_one_api_per_token_least_recently_used_dropped() -> None:
    made: list[object] = []

    def make(rest: Any) -> Any:
        made.append(object())
        return made[-1]

    rest = SimpleNamespace(token=None)
    apis = ApiPerToken(rest, make, limit=2)  # type: ignore[arg-type]
    for token in ("a", "b", "a", "c"):
        rest.token = token
        apis.current()
    assert len(made) == 3  # "a" again reused its API
    assert set(apis.cached_keys()) == {token_key("a"), token_key("c")}  # "b" was least recently used


def test_cursor_keys_with_a_state_secret_are_per_token_and_the_same_everywhere() -> None:
    secret = "s3cret-state"
    assert cursor_key(USER_A, BASE, secret) == cursor_key(USER_A, BASE, secret)
    assert cursor_key(USER_A, BASE, secret) != cursor_key(USER_B, BASE, secret)
    assert cursor_key(USER_A, BASE, secret) != cursor_key(USER_A, BASE, "another-secret")
    assert cursor_key(USER_A, BASE, secret) != cursor_key(USER_A, BASE)  # without: the token-derived key


def test_with_a_state_secret_long_cursors_are_self_contained() -> None:
    from footage_mcp.rest.paging import MAX_CURSOR_CHARS, CursorCodec, CursorState

    key = cursor_key(USER_A, BASE, "shared")
    state = CursorState(BASE + "/search/assets?q=" + "paris+" * 150, 20, "search")
    replica_one, replica_two = CursorCodec(key, inline_limit=MAX_CURSOR_CHARS), CursorCodec(key)
    cursor = replica_one.encode(state)
    assert len(cursor) > 400 and replica_two.decode(cursor, "search", "search_assets") == state
    parked = CursorCodec(key).encode(state)  # one replica alone keeps it short, in its own memory
    assert len(parked) < 100
    with pytest.raises(Exception, match="expired"):
        CursorCodec(key).decode(parked, "search", "search_assets")


def test_request_state_is_sealed_under_the_shared_secret_and_bound_to_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOOTAGE_STATE_SECRET", "shared-by-every-replica")
    one, two = request_state_security(load_settings()), request_state_security(load_settings())
    assert two.codec.unseal(one.codec.seal(b"elicitation round 1")) == b"elicitation round 1"
    monkeypatch.delenv("FOOTAGE_STATE_SECRET")
    alone = request_state_security(load_settings())
    with pytest.raises(Exception, match=r".+"):
        alone.codec.unseal(one.codec.seal(b"x"))  # another process's own key: not accepted
    ctx: Callable[[dict[str, str]], Any] = lambda h: SimpleNamespace(request=SimpleNamespace(headers=h))  # noqa: E731
    assert _principal(ctx({"authorization": f"Bearer {USER_A}"})) == token_key(USER_A)
    assert _principal(ctx({"apikey": USER_B})) == token_key(USER_B)
    assert _principal(ctx({})) is None
    assert one.audience == "footage"


def test_the_sandbox_takes_several_tokens() -> None:
    assert split_tokens(["a,b", " c ", "a", ""]) == ["a", "b", "c"]
    assert split_tokens("x") == ["x"] and split_tokens(None) == []


# ------------------------------------------------------------------ in-process: the HTTP app


@pytest.mark.parametrize("era", ERAS)
async def test_two_users_each_get_their_own_library_and_configuration(era: str) -> None:
    upstream, state = two_libraries()
    async with bridge(upstream) as raw:
        for _ in range(2):  # the second round is served from each token's own caches
            for token, lib, name in ((USER_A, LIB_A, ""), (USER_B, LIB_B, " (library 2)")):
                async with mcp_user(raw, token, era, header="apikey" if token == USER_B else "bearer") as client:
                    albums = ok(await client.call_tool("list_albums", {"limit": 4}))
                    assert [a["id"] for a in albums["albums"]] == [a.id for a in lib.albums[:4]]
                    config = ok(await client.call_tool("get_archive_configuration", {}))
                    assert config["configuration"]["archiveName"] == "Footage Sandbox Archive" + name
                    links = ok(await client.call_tool("list_api_links", {}))
                    assert any(link["name"] == "albums" for link in links["links"])
    sent = [r["headers"].get("apikey") for r in state.requests]
    assert set(sent) == {USER_A, USER_B}  # every upstream request carried its user's own token
    roots = [r["headers"].get("apikey") for r in state.requests if r["path"].rstrip("/") == "/api/asset"]
    assert sorted(roots) == [USER_A, USER_B]  # one discovery root per token, then cached per token
    configs = [r for r in state.requests if r["path"].endswith("/configuration/archive")]
    assert sorted(r["headers"].get("apikey") for r in configs) == [USER_A, USER_B]


async def test_a_cursor_of_one_user_is_refused_for_another() -> None:
    upstream, _ = two_libraries()
    album = max(LIB_A.albums, key=lambda a: len(a.asset_ids))
    async with bridge(upstream) as raw:
        async with mcp_user(raw, USER_A, "legacy") as a:
            first = ok(await a.call_tool("list_album_assets", {"album_id": album.id, "limit": 5}))
            cursor = first["next_cursor"]
            again = ok(await a.call_tool("list_album_assets", {"album_id": album.id, "cursor": cursor}))
            assert [x["id"] for x in again["assets"]] == [x.id for x in LIB_A.album_assets(album)[5:10]]
        async with mcp_user(raw, USER_B, "legacy") as b:
            refused = await b.call_tool("list_album_assets", {"album_id": album.id, "cursor": cursor})
            assert refused.is_error and "cursor is not valid" in refused.content[0].text  # type: ignore[union-attr]


async def test_the_discovery_root_is_never_shared_between_tokens() -> None:
    """An upstream whose root differs per token (the albums link): each user's list_albums follows
    their own root, in either order, and the root is read once per token."""
    hits: list[tuple[str | None, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        token = request.headers.get("apikey")
        hits.append((token, request.url.path))
        if request.url.path.rstrip("/") == "/api/asset":
            suffix = "a" if token == USER_A else "b"
            return httpx2.Response(200, json={"_links": {"albums": {"href": f"{BASE}/albums-{suffix}"}}})
        if request.url.path in ("/api/asset/albums-a", "/api/asset/albums-b"):
            return httpx2.Response(200, json=[{"id": request.url.path[-1] + "-album", "name": "x"}])
        return httpx2.Response(404, json={"message": "no"})

    async with bridge(httpx2.MockTransport(handler)) as raw:
        for token, expected in ((USER_A, "a-album"), (USER_B, "b-album"), (USER_A, "a-album"), (USER_B, "b-album")):
            async with mcp_user(raw, token, "2026-07-28") as client:
                albums = ok(await client.call_tool("list_albums", {}))
                assert [a["id"] for a in albums["albums"]] == [expected]
    assert [h for h in hits if h[1].rstrip("/") == "/api/asset"] == [(USER_A, "/api/asset/"), (USER_B, "/api/asset/")]


async def test_no_token_gets_401_saying_what_to_send_and_reaches_nothing_upstream() -> None:
    upstream, state = two_libraries()
    async with bridge(upstream) as raw:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"apiKey": " "}):
            answer = await raw.post("/mcp", json=LIST, headers={**ACCEPT, **headers})
            assert answer.status_code == 401
            challenge = answer.headers["www-authenticate"]
            assert challenge.startswith("Bearer ") and "Authorization: Bearer <key>" in challenge
            assert "apiKey: <key>" in challenge
            assert "app.footage.one/account" in answer.json()["error"]["message"]
        two = await raw.post("/mcp", json=LIST, headers={**ACCEPT, "apiKey": USER_A, "Authorization": "Bearer x1"})
        assert two.status_code == 400 and "different tokens" in two.json()["error"]["message"]
        with_token = await raw.post("/mcp", json=LIST, headers={**ACCEPT, "apiKey": USER_A})
        assert with_token.status_code == 200
    assert len(state.requests) == 0  # tools/list needs no upstream request; the refused ones made none


async def test_get_mcp_is_405_not_a_stream_that_never_ends() -> None:
    """Found by a breaking run: in stateless mode ``GET /mcp`` (any token) opened an SSE stream that sent
    nothing and never ended: 5,000 of them took 400 MB, and one made SIGTERM wait its whole grace."""
    upstream, state = two_libraries()
    for auth in ("client", "server"):
        async with bridge(upstream, auth=auth) as raw:
            for path in ("/mcp", "/mcp/"):
                got = await raw.get(path, headers={"accept": "text/event-stream", "authorization": f"Bearer {USER_A}"})
                assert (got.status_code, got.headers["allow"]) == (405, "POST"), path
                assert got.json()["error"]["message"] == (
                    "this server is stateless and opens no GET stream: send each JSON-RPC request with POST"
                )
    assert len(state.requests) == 0


async def test_mcp_with_a_trailing_slash_is_served_not_redirected() -> None:
    """``POST /mcp/`` got a 307 whose Location repeated the query string (a token put there included)."""
    upstream, _state = two_libraries()
    async with bridge(upstream, auth="client") as raw:
        got = await raw.post("/mcp/?apiKey=oops", json=LIST, headers={**ACCEPT, "apiKey": USER_A})
    assert got.status_code == 200 and "location" not in got.headers


async def test_healthz_answers_without_any_upstream_request() -> None:
    upstream, state = two_libraries()
    for auth in ("client", "server"):
        async with bridge(upstream, auth=auth) as raw:
            health = await raw.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"status": "ok", "server": "footage", "version": health.json()["version"]}
            assert (await raw.head("/healthz")).status_code == 200
            assert (await raw.post("/healthz")).status_code == 405
    assert len(state.requests) == 0


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ('"quoted-token"', "is wrapped in quotes"),
        ("Bearer inner-token", "starts with 'Bearer '"),
        ("has space", "contains a space"),
    ],
)
async def test_a_malformed_token_is_answered_on_each_call_and_never_sent(token: str, expected: str) -> None:
    upstream, state = two_libraries()
    async with bridge(upstream) as raw, mcp_user(raw, token, "legacy", header="apikey") as client:
        for tool, args in (("list_albums", {}), ("get_album", {"album_id": LIB_A.albums[0].id})):
            result = await client.call_tool(tool, args)
            assert result.is_error
            text = result.content[0].text  # type: ignore[union-attr]
            assert text.startswith("the token your MCP client sent") and expected in text
            assert token not in text
    assert len(state.requests) == 0


async def test_a_rejected_token_says_to_fix_the_client_configuration() -> None:
    upstream, _ = two_libraries()
    async with bridge(upstream) as raw, mcp_user(raw, "not-a-known-token", "legacy") as client:
        result = await client.call_tool("list_albums", {})
        text = result.content[0].text  # type: ignore[union-attr]
        assert result.is_error and "rejected the token (401)" in text and "MCP client's configuration" in text
        assert "FOOTAGE_API_TOKEN" not in text and "not-a-known-token" not in text


async def test_allowed_hosts_are_accepted_and_others_still_refused() -> None:
    upstream, _ = two_libraries()
    async with bridge(upstream, allowed_hosts="mcp.example.com, https://team.example.org") as raw:
        headers = {**ACCEPT, "apiKey": USER_A}
        for host, origin in (
            ("mcp.example.com", "https://mcp.example.com"),
            ("mcp.example.com:443", None),
            ("team.example.org", "https://team.example.org"),
            ("127.0.0.1:8770", "http://127.0.0.1:8770"),
        ):
            extra = {"Host": host, **({"Origin": origin} if origin else {})}
            assert (await raw.post("/mcp", json=LIST, headers={**headers, **extra})).status_code == 200, host
        evil_host = await raw.post("/mcp", json=LIST, headers={**headers, "Host": "evil.example"})
        evil_origin = await raw.post(
            "/mcp", json=LIST, headers={**headers, "Host": "mcp.example.com", "Origin": "https://evil.example"}
        )
        assert evil_host.status_code == 421 and evil_origin.status_code == 403


# ------------------------------------------------------------------ real processes


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``footage-mcp <args>`` as a process of its own, forked from the worker's warm zygote (tests/forkrun.py:
    its own environment, streams and exit status; these refusals are about settings, not the interpreter)."""
    return forkrun.run(list(args), child_env(env), timeout=60)


@pytest.mark.slow
def test_client_auth_with_a_server_token_refuses_to_start() -> None:
    done = run_cli("serve", "--transport", "http", "--auth", "client", "--port", "0", env={"FOOTAGE_API_TOKEN": "t-1"})
    assert done.returncode == 2
    assert "unset FOOTAGE_API_TOKEN" in done.stderr and "t-1" not in done.stderr
    by_env = run_cli(
        "serve", "--transport", "http", "--port", "0", env={"FOOTAGE_API_TOKEN": "t-1", "FOOTAGE_HTTP_AUTH": "client"}
    )
    assert by_env.returncode == 2 and "FOOTAGE_HTTP_AUTH=client takes each user's token" in by_env.stderr


@pytest.mark.slow
def test_client_auth_is_refused_on_stdio() -> None:
    flag = run_cli("serve", "--auth", "client", env={})
    assert flag.returncode == 2 and "--auth applies to --transport http only" in flag.stderr
    by_env = run_cli("serve", env={"FOOTAGE_HTTP_AUTH": "client"})
    assert by_env.returncode == 2 and "FOOTAGE_HTTP_AUTH=client applies to --transport http only" in by_env.stderr


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(300):  # a readiness poll, not a timing assertion
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def _sigterm_during(
    replica: Any, mode: str, call: Callable[[Any], Awaitable[Any]], in_flight: Callable[[], bool], what: str
) -> dict[str, Any]:
    """Run ``call(client)`` against ``replica`` as USER_A (after tools/list: the client validates results
    against the tools' schemas), send SIGTERM once ``in_flight()`` holds, wait for the exit. Returns
    ``status`` and ``result`` or ``error``; the replica is stopped."""
    outcome: dict[str, Any] = {}

    async def client_call() -> None:
        try:
            async with user_client(replica.url + "/mcp", USER_A, mode=mode) as client:
                await client.list_tools()
                outcome["result"] = await call(client)
        except Exception as exc:
            outcome["error"] = exc

    async def scenario() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client_call)
            await anyio.to_thread.run_sync(lambda: _wait_for(in_flight, what))
            replica.proc.send_signal(signal.SIGTERM)
            outcome["status"] = await anyio.to_thread.run_sync(lambda: replica.proc.wait(timeout=30))

    try:
        anyio.run(scenario)
    finally:
        replica.stop()
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("grace", ["enough", "too-short"])
def test_sigterm_lets_in_flight_calls_finish_within_the_grace(grace: str, tmp_path: Path) -> None:
    """SIGTERM while a call waits on a slow upstream: with enough grace the call completes and the
    process exits 0; with a grace shorter than the upstream's delay the process exits at the end of
    the grace (well before the upstream would answer) and the call fails rather than hang."""
    latency_ms, args = (2500, ("--shutdown-grace", "15")) if grace == "enough" else (60_000, ("--shutdown-grace", "1"))
    with warm_sandbox(token=USER_A) as sandbox:
        control = sandbox.base_url.removesuffix("/api/asset") + "/_sandbox"
        rules = {"rules": [{"match": "^/albums/[^/]+$", "latency_ms": latency_ms}]}
        assert httpx2.put(f"{control}/faults", json=rules).status_code == 200
        replica = start_replica("grace", sandbox.base_url, tmp_path, args=("--auth", "client", *args))

        def in_flight() -> bool:
            log = httpx2.get(f"{control}/requests").json()
            entries = log if isinstance(log, list) else log.get("requests", [])
            return any("/albums/" in e["path"] for e in entries)

        outcome = _sigterm_during(
            replica,
            "2026-07-28",
            lambda client: client.call_tool("get_album", {"album_id": LIB_A.albums[0].id}),
            in_flight,
            "the call reached the upstream",
        )
        log = replica.log.read_text(errors="replace")
        if grace == "enough":
            assert outcome["status"] in (0, -signal.SIGTERM), log[-2000:]  # uvicorn re-raises the signal it handled
            assert "result" in outcome, repr(outcome.get("error"))
            result = outcome["result"]
            assert not result.is_error and result.structured_content["name"] == LIB_A.albums[0].name
        else:
            assert "result" not in outcome or outcome["result"].is_error
            assert "Cancel" in log or "timeout" in log.lower(), log[-2000:]
        assert "Shutting down" in log


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
def test_sigterm_lets_a_download_in_flight_finish_within_the_grace(tmp_path: Path, mode: str) -> None:
    """SIGTERM while download_asset streams a slow body (about 2.5 s) on the transfer loop, with 15 s of
    grace: the download completes whole and the process exits (a breaking run saw downloads cut at once)."""
    from tests.files_support import on_cdn

    with warm_sandbox(token=USER_A) as sandbox:
        control = sandbox.base_url.removesuffix("/api/asset") + "/_sandbox"
        doc = min(
            (a for a in LIB_A.assets if a.kind == "document" and not on_cdn(a) and a.size_bytes > 500_000),
            key=lambda a: a.size_bytes,
        )
        rules = {"rules": [{"match": "/original$", "fault": "slow", "bytes_per_second": doc.size_bytes // 3}]}
        assert httpx2.put(f"{control}/file-faults", json=rules).status_code == 200
        folder = tmp_path / "downloads"
        replica = start_replica(
            "grace-download",
            sandbox.base_url,
            tmp_path,
            env={"FOOTAGE_DOWNLOAD_DIR": str(folder)},
            args=("--auth", "client", "--shutdown-grace", "15"),
        )

        def streaming() -> bool:
            parts = folder.iterdir() if folder.exists() else iter(())
            return any(p.suffix == ".part" and p.stat().st_size > 0 for p in parts)

        outcome = _sigterm_during(
            replica,
            mode,
            lambda client: client.call_tool("download_asset", {"asset_id": doc.id}),
            streaming,
            "the body is streaming",
        )
        log = replica.log.read_text(errors="replace")
        assert outcome["status"] in (0, -signal.SIGTERM), log[-2000:]
        assert "result" in outcome, repr(outcome.get("error"))
        result = outcome["result"]
        assert not result.is_error, (result.content, log[-2000:])
        assert result.structured_content["size_bytes"] == doc.size_bytes
        assert Path(result.structured_content["path"]).stat().st_size == doc.size_bytes


def test_the_dockerfile_runs_as_a_user_and_bakes_in_no_token() -> None:
    root = Path(__file__).resolve().parent.parent
    text = (root / "Dockerfile").read_text()
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and all(not u.startswith(("0", "root")) for u in users)
    instructions = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for name in ("FOOTAGE_API_TOKEN", "FOOTAGE_API_KEY", "SECRET"):
        assert name not in instructions  # no token and no secret baked into an image layer
    assert "FOOTAGE_HTTP_AUTH=client" in text and "/healthz" in text


@pytest.mark.slow
def test_the_docker_image_builds_when_an_engine_answers(tmp_path: Path) -> None:
    docker = subprocess.run(["docker", "info"], capture_output=True, text=True) if _has("docker") else None
    if docker is None or docker.returncode != 0:
        pytest.skip("no docker engine answers `docker info`")
    root = Path(__file__).resolve().parent.parent
    tag = f"footage-mcp-test:{os.getpid()}"
    built = subprocess.run(["docker", "build", "-t", tag, str(root)], capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        inspect = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, text=True, check=True)
        config = json.loads(inspect.stdout)[0]["Config"]
        assert config["User"].split(":")[0] not in ("", "0", "root")
        assert not any(e.startswith(("FOOTAGE_API_TOKEN=", "FOOTAGE_API_KEY=")) for e in config["Env"])
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)


def _has(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None
