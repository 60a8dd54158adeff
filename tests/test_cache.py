"""Repeated reads (issue 16, part 5): conditional GETs through the token-keyed, bounded cache
(footage_mcp/rest/cache.py), against the sandbox's validators (in process, and once over loopback) and
against hand-written upstreams for what the sandbox never does (the same ETag for two tokens, a body
echoing the token)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN

from footage_mcp.cli.launch import RunningSandbox
from footage_mcp.core.settings import Settings
from footage_mcp.rest.cache import OPT_IN, CachingClient, MemoryStorage
from footage_mcp.rest.http import OPT_IN as HTTP_OPT_IN
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.tokens import bind_token
from footage_mcp.sandbox import create_app
from tests.inprocess import Bridge, bridge, bridge_over_loopback

pytestmark = pytest.mark.anyio

USER_A = "token-of-user-a-0123456789abcdef"
USER_B = "token-of-user-b-fedcba9876543210"
BASE = "https://api.example.test/api/asset"
OWNERS = {USER_A: "user A", USER_B: "user B"}


async def first_ids(b: Bridge) -> tuple[str, str]:
    albums = (await b.client.call_tool("list_albums", {"limit": 1})).structured_content
    assets = (await b.client.call_tool("search_assets", {"limit": 1})).structured_content
    assert albums and assets
    return albums["albums"][0]["id"], assets["assets"][0]["id"]


def object_reads(log: list[dict[str, Any]], object_id: str) -> list[dict[str, Any]]:
    return [e for e in log if e["method"] == "GET" and e["path"].endswith("/" + object_id)]


# ------------------------------------------------------------------ against the sandbox


@pytest.mark.parametrize(("tool", "kind"), [("get_album", "album"), ("get_asset", "asset")])
async def test_a_second_read_is_a_conditional_request_answered_304_with_the_same_result(tool: str, kind: str) -> None:
    async with bridge() as b:
        album_id, asset_id = await first_ids(b)
        object_id = album_id if kind == "album" else asset_id
        await b.reset()
        first = await b.client.call_tool(tool, {f"{kind}_id": object_id})
        second = await b.client.call_tool(tool, {f"{kind}_id": object_id})
        reads = object_reads(await b.requests(), object_id)
    assert not first.is_error
    assert second.structured_content == first.structured_content
    assert [c.text for c in second.content] == [c.text for c in first.content]  # type: ignore[union-attr]
    assert [r["status"] for r in reads] == [200, 304]
    assert "if-none-match" not in reads[0]["headers"]
    assert reads[1]["headers"]["if-none-match"].startswith('"')
    assert reads[1]["headers"]["if-modified-since"].endswith(" GMT")


async def test_over_loopback_the_second_read_gets_304_and_the_same_result(hal_sandbox: RunningSandbox) -> None:
    async with bridge_over_loopback(hal_sandbox) as b:
        _, asset_id = await first_ids(b)
        await b.control.delete("/requests")
        first = await b.client.call_tool("get_asset", {"asset_id": asset_id})
        second = await b.client.call_tool("get_asset", {"asset_id": asset_id})
        reads = object_reads(await b.requests(), asset_id)
    assert second.structured_content == first.structured_content
    assert [r["status"] for r in reads] == [200, 304]
    assert reads[1]["headers"]["if-none-match"] == reads[1]["headers"]["if-none-match"].strip()


async def test_a_changed_object_is_read_again_in_full() -> None:
    async with bridge(allow_writes=True) as b:
        album_id, _ = await first_ids(b)
        await b.client.call_tool("get_album", {"album_id": album_id})
        changed = await b.client.call_tool("update_album", {"album_id": album_id, "name": "Renamed by the test"})
        assert not changed.is_error, changed.content
        await b.control.delete("/requests")
        again = await b.client.call_tool("get_album", {"album_id": album_id})
        reads = object_reads(await b.requests(), album_id)
    assert again.structured_content and again.structured_content["name"] == "Renamed by the test"
    assert [r["status"] for r in reads] == [200]
    assert "if-none-match" not in reads[0]["headers"]  # the write forgot the entry: no stale validator sent


@pytest.mark.parametrize("validators", ["none", "huge", "control"])
async def test_without_usable_validators_nothing_is_cached_and_no_validator_is_echoed(validators: str) -> None:
    async with bridge() as b:
        album_id, _ = await first_ids(b)
        await b.faults({"match": "^/albums/[^/]+$", "validators": validators})
        await b.control.delete("/requests")
        first = await b.client.call_tool("get_album", {"album_id": album_id})
        second = await b.client.call_tool("get_album", {"album_id": album_id})
        reads = object_reads(await b.requests(), album_id)
    assert not first.is_error and second.structured_content == first.structured_content
    assert [r["status"] for r in reads] == [200, 200]
    assert all("if-none-match" not in r["headers"] and "if-modified-since" not in r["headers"] for r in reads)
    texts = "".join(c.text for c in first.content)  # type: ignore[union-attr]
    assert "eeeeeeee" not in texts and "\x01" not in texts and "\x1b" not in texts


async def test_no_store_is_not_stored_and_max_age_is_served_without_a_request() -> None:
    async with bridge() as b:
        album_id, asset_id = await first_ids(b)
        await b.faults(
            {"match": "^/albums/[^/]+$", "cache_control": "no-store"},
            {"match": "^/assets/[^/]+$", "cache_control": "private, max-age=60"},
        )
        await b.control.delete("/requests")
        for _ in range(2):
            await b.client.call_tool("get_album", {"album_id": album_id})
            await b.client.call_tool("get_asset", {"asset_id": asset_id})
        log = await b.requests()
    assert [r["status"] for r in object_reads(log, album_id)] == [200, 200]
    assert [r["status"] for r in object_reads(log, asset_id)] == [200]  # fresh for 60 s: no second request


async def test_with_cache_mb_0_there_is_no_cache() -> None:
    async with bridge(cache_mb=0) as b:
        album_id, _ = await first_ids(b)
        await b.control.delete("/requests")
        await b.client.call_tool("get_album", {"album_id": album_id})
        await b.client.call_tool("get_album", {"album_id": album_id})
        reads = object_reads(await b.requests(), album_id)
    assert [r["status"] for r in reads] == [200, 200]


async def test_the_sandbox_answers_conditional_requests() -> None:
    app = create_app()
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://sb") as http:
        key = {"apiKey": TOKEN}
        album = app.state.library.albums[0].id
        full = await http.get(f"/api/asset/albums/{album}", headers=key)
        etag, modified = full.headers["etag"], full.headers["last-modified"]
        weak = await http.get(f"/api/asset/albums/{album}", headers={**key, "If-None-Match": f'"x", W/{etag}'})
        other = await http.get(f"/api/asset/albums/{album}", headers={**key, "If-None-Match": '"x"'})
        since = await http.get(f"/api/asset/albums/{album}", headers={**key, "If-Modified-Since": modified})
        before = await http.get(
            f"/api/asset/albums/{album}", headers={**key, "If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}
        )
    assert full.status_code == 200 and modified.endswith(" GMT")
    assert (weak.status_code, weak.content, weak.headers["etag"]) == (304, b"", etag)
    assert other.status_code == 200 and other.content == full.content
    assert since.status_code == 304
    assert before.status_code == 200


# ------------------------------------------------------------------ against hand-written upstreams


class Upstream:
    """One object per URL with the ETag ``"v1"`` for every token (so a cache keyed by URL alone would
    answer token B with token A's body); 304 whenever If-None-Match names it."""

    def __init__(self, body: Callable[[str | None, str], bytes] | None = None, **headers: str) -> None:
        self.log: list[tuple[str, str | None, str | None]] = []
        self.body = body or (lambda token, path: f'{{"id":"{path}","owner":"{OWNERS.get(token)}"}}'.encode())
        self.headers = {"etag": '"v1"', **headers}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        token = request.headers.get("apikey")
        self.log.append((request.method, token, request.headers.get("if-none-match")))
        if request.method != "GET":
            return httpx2.Response(204)
        if request.headers.get("if-none-match") == self.headers["etag"]:
            return httpx2.Response(304, headers=self.headers)
        headers = {"content-type": "application/json", **self.headers}
        return httpx2.Response(200, headers=headers, content=self.body(token, request.url.path))


def rest_client(upstream: Upstream, **settings: Any) -> RestClient:
    return RestClient(Settings(base_url=BASE, api_token=USER_A, **settings), transport=httpx2.MockTransport(upstream))


async def test_a_response_for_one_token_never_answers_another() -> None:
    upstream = Upstream()
    async with rest_client(upstream) as rest:
        seen = []
        for token in (USER_A, USER_B, USER_A, USER_B):
            with bind_token(token):
                fetched = await rest.get(f"{BASE}/assets/x")
                seen.append(fetched.content)
        assert rest.cache is not None and rest.cache.count == 2
    assert [b'"owner":"user ' in c and c.endswith(b'"}') for c in seen] == [True] * 4
    assert [c[-3:-2] for c in seen] == [b"A", b"B", b"A", b"B"]
    assert [(token, inm) for _, token, inm in upstream.log] == [
        (USER_A, None),
        (USER_B, None),  # B's first read: no validator of A's
        (USER_A, '"v1"'),
        (USER_B, '"v1"'),
    ]


async def test_the_token_never_appears_in_the_cache() -> None:
    upstream = Upstream()
    async with rest_client(upstream) as rest:
        await rest.get(f"{BASE}/assets/x")
        assert rest.cache is not None
        held = repr(rest.cache.snapshot()) + repr(vars(rest.cache))
    assert rest.cache.count == 1
    assert USER_A not in held and USER_A.encode().hex() not in held


@pytest.mark.parametrize(
    "upstream",
    [
        Upstream(body=lambda token, path: f'{{"text":"hello {token}"}}'.encode()),
        Upstream(**{"x-echo": USER_A}),
        Upstream(etag='"' + "e" * 5000 + '"'),
        Upstream(etag='"a"b"'),
    ],
    ids=["body-echoes-token", "header-echoes-token", "huge-etag", "malformed-etag"],
)
async def test_an_answer_echoing_the_token_or_with_a_hostile_validator_is_not_stored(upstream: Upstream) -> None:
    async with rest_client(upstream) as rest:
        first = await rest.get(f"{BASE}/assets/x")
        second = await rest.get(f"{BASE}/assets/x")
        assert rest.cache is not None and rest.cache.count == 0 and rest.cache.refused == 2
    assert first.content == second.content
    assert [inm for _, _, inm in upstream.log] == [None, None]


async def test_a_write_forgets_the_cached_reads_of_its_token_only() -> None:
    upstream = Upstream()
    async with rest_client(upstream) as rest:
        with bind_token(USER_B):
            await rest.get(f"{BASE}/assets/x")
        await rest.get(f"{BASE}/assets/x")
        await rest.exchange("PATCH", f"{BASE}/assets/x", {"apiKey": USER_A}, content=b"{}")
        await rest.get(f"{BASE}/assets/x")
        with bind_token(USER_B):
            await rest.get(f"{BASE}/assets/x")
    assert [(m, t, inm) for m, t, inm in upstream.log][2:] == [
        ("PATCH", USER_A, None),
        ("GET", USER_A, None),  # forgotten by A's write
        ("GET", USER_B, '"v1"'),  # B's entry kept
    ]


async def test_the_cache_stays_within_its_bounds_least_recently_used_out() -> None:
    upstream = Upstream(body=lambda token, path: b'{"pad":"' + b"x" * 900 + b'"}')
    storage = MemoryStorage(2500, max_entries=100)
    async with CachingClient(storage=storage, transport=httpx2.MockTransport(upstream)) as http:

        async def read(name: str) -> None:
            response = await http.get(f"{BASE}/{name}", headers={"apiKey": USER_A}, extensions={OPT_IN: True})
            assert response.status_code == 200 and len(response.content) == 910

        for name in ("a", "b", "a", "c", "d"):  # two fit: a is used again, so b goes first, then a
            await read(name)
        assert storage.size <= 2500 and storage.count == 2
        upstream.log.clear()
        await read("b")
        await read("d")
    assert [inm for _, _, inm in upstream.log] == [None, '"v1"']

    few = MemoryStorage(10**6, max_entries=2)
    async with CachingClient(storage=few, transport=httpx2.MockTransport(Upstream())) as http:
        for name in "abcde":
            await http.get(f"{BASE}/{name}", headers={"apiKey": USER_A}, extensions={OPT_IN: True})
    assert few.count == 2


async def test_a_body_over_the_entry_bound_passes_through_unstored() -> None:
    upstream = Upstream(body=lambda token, path: b'"' + b"x" * 5000 + b'"')
    storage = MemoryStorage(10**6, max_entry_bytes=4096)
    async with CachingClient(storage=storage, transport=httpx2.MockTransport(upstream)) as http:
        response = await http.get(f"{BASE}/big", headers={"apiKey": USER_A}, extensions={OPT_IN: True})
    assert len(response.content) == 5002 and storage.count == 0


async def test_only_opted_in_gets_are_cached() -> None:
    upstream = Upstream()
    storage = MemoryStorage(10**6)
    async with CachingClient(storage=storage, transport=httpx2.MockTransport(upstream)) as http:
        for _ in range(2):
            await http.get(f"{BASE}/x", headers={"apiKey": USER_A})  # a streamed download, say
    assert storage.count == 0 and [inm for _, _, inm in upstream.log] == [None, None]
    assert OPT_IN == HTTP_OPT_IN


def test_the_cache_library_is_not_imported_before_the_first_request() -> None:
    code = (
        "import sys, footage_mcp.cli, footage_mcp.surface.server, footage_mcp.rest.http;"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('hishel', 'msgpack') or m == 'footage_mcp.rest.cache'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


async def test_previews_are_never_cached() -> None:
    """Images stay out of the cache (the sandbox's previews say max-age, which would otherwise answer the
    second read from memory; tests/test_hostile.py's refusals found that)."""
    async with bridge() as b:
        _, asset_id = await first_ids(b)
        await b.control.delete("/requests")
        for _ in range(2):
            assert not (await b.client.call_tool("get_asset_preview", {"asset_id": asset_id})).is_error
        log = await b.requests()
    assert [e["status"] for e in log if e["path"].endswith("/preview")] == [200, 200]
