"""The REST client and the API layer over httpx2.MockTransport: auth, redirects, errors, paging, routes."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN

from footage_mcp.core.errors import (
    BadRequest,
    BadResponse,
    ConfigError,
    Conflict,
    Forbidden,
    InvalidArgument,
    InvalidCursor,
    NotFound,
    RateLimited,
    RedirectRefused,
    TokenMissing,
    TransportError,
    Unauthorized,
    UpstreamFailure,
)
from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.paging import (
    CURSOR_KEY_ITERATIONS,
    INLINE_CURSOR_CHARS,
    STASH_SIZE,
    CursorCodec,
    CursorState,
    cursor_key,
)

BASE = "https://api.test/api/asset"
TOKEN = SUITE_TOKEN[:10]  # as long as the literal it replaces; the canary plugin searches for it
Handler = Callable[[httpx2.Request], httpx2.Response]

pytestmark = pytest.mark.anyio


def make_api(
    handler: Handler, token: str | None = TOKEN, overrides: dict[str, str] | None = None, retries: int = 0
) -> FootageApi:
    settings = Settings(api_token=token, base_url=BASE, timeout=5, max_retries=retries, retry_budget=2)
    return FootageApi(RestClient(settings, transport=httpx2.MockTransport(handler)), overrides or {})


def root(links: dict[str, object] | None = None) -> httpx2.Response:
    return httpx2.Response(200, json={"_links": links or {}})


async def test_api_key_header_is_sent_to_the_base_origin_only() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        seen.append((req.url.host, req.headers.get("apiKey")))
        if req.url.path == "/api/asset/":
            return root()
        if req.url.host == "api.test":
            return httpx2.Response(302, headers={"location": "https://cdn.test/p.jpg"})
        return httpx2.Response(200, content=b"\xff\xd8jpeg", headers={"content-type": "image/jpeg"})

    api = make_api(handler)
    data, mime = await api.get_preview("a1")
    assert (data, mime) == (b"\xff\xd8jpeg", "image/jpeg")
    assert ("api.test", TOKEN) in seen
    assert ("cdn.test", None) in seen  # followed for a preview, but without the token


async def test_json_redirect_to_another_origin_is_refused() -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(307, headers={"location": "https://evil.test/api/asset/albums/x"})

    with pytest.raises(RedirectRefused, match="another origin"):
        await make_api(handler).get_album("x")


async def test_same_origin_redirects_are_followed_up_to_five() -> None:
    hops: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        hops.append(req.url.path)
        n = len(hops)
        if req.url.path.endswith("/final"):
            return httpx2.Response(200, json={"id": "x", "name": "X"})
        return httpx2.Response(301, headers={"location": f"/api/asset/hop{n}" if n < 3 else "/api/asset/final"})

    album = await make_api(handler).get_album("x")
    assert album.name == "X" and len(hops) == 4

    def looping(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(302, headers={"location": "/api/asset/again"})

    with pytest.raises(RedirectRefused, match="more than 5"):
        await make_api(looping).get_album("x")


@pytest.mark.parametrize(
    ("status", "headers", "body", "exc", "text"),
    [
        (400, {}, {"message": "size must be <= 200"}, BadRequest, "size must be <= 200"),
        (401, {}, {}, Unauthorized, "generate a new API key at app.footage.one/account"),
        (403, {}, {}, Forbidden, "no permission"),
        (404, {}, {}, NotFound, "album 'x' not found"),
        (429, {"retry-after": "7"}, {}, RateLimited, "retry in 7 s"),
        (503, {}, {}, UpstreamFailure, "retrying in a moment may help"),
        (500, {}, {}, UpstreamFailure, "retrying is unlikely to help"),
    ],
)
async def test_error_statuses_become_actionable_messages(
    status: int, headers: dict[str, str], body: object, exc: type[Exception], text: str
) -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(status, json=body, headers=headers)

    with pytest.raises(exc) as info:
        await make_api(handler).get_album("x")
    assert text in str(info.value)
    if status in (403, 404):  # about one album: structured, and no MCP tool named (the surface adds hints)
        assert (info.value.kind, info.value.id) == ("album", "x")  # type: ignore[attr-defined]
        assert "list_albums" not in str(info.value)


async def test_html_and_invalid_json_bodies() -> None:
    def html(req: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, text="<html><body>login</body></html>", headers={"content-type": "text/html"})

    with pytest.raises(BadResponse, match="HTML page") as info:
        await make_api(html).archive_configuration()
    assert "<html" not in str(info.value)

    def cut(req: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b'{"a": [1, 2', headers={"content-type": "application/json"})

    with pytest.raises(BadResponse, match="not valid JSON"):
        await make_api(cut).archive_configuration()


async def test_error_excerpt_never_contains_the_token() -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(400, json={"message": f"bad apiKey {TOKEN} for user"})

    with pytest.raises(BadRequest) as info:
        await make_api(handler).get_album("x")
    assert TOKEN not in str(info.value) and "[redacted]" in str(info.value)


async def test_connection_refused_is_a_transport_error() -> None:
    settings = Settings(api_token=TOKEN, base_url="http://127.0.0.1:9/api/asset", timeout=2, max_retries=0)
    api = FootageApi(RestClient(settings), {})
    with pytest.raises(TransportError, match="refused"):
        await api.archive_configuration()
    await api.rest.aclose()


async def test_token_routes_without_token_make_no_request() -> None:
    calls: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        calls.append(req.url.path)
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"archiveName": "A"})

    api = make_api(handler, token=None)
    with pytest.raises(TokenMissing, match="FOOTAGE_API_TOKEN"):
        await api.get_album("x")
    assert await api.archive_configuration() == {"archiveName": "A"}
    assert "/api/asset/albums/x" not in calls


async def test_ids_are_one_percent_encoded_path_segment() -> None:
    paths: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        paths.append(req.url.raw_path.decode())
        return httpx2.Response(404, json={})

    api = make_api(handler)
    for bad in ("../albums", "a/b", "x?y=1", "a#b"):
        with pytest.raises(NotFound):
            await api.get_album(bad)
    assert paths == [
        "/api/asset/albums/..%2Falbums",
        "/api/asset/albums/a%2Fb",
        "/api/asset/albums/x%3Fy%3D1",
        "/api/asset/albums/a%23b",
    ]


@pytest.mark.parametrize(
    "path", ["../x", "/../x", "a/%2e%2e/b", "https://evil.test/x", "//evil.test/x", "a\\b", "albums?x=1", "%2F%2Fevil"]
)
def test_api_get_paths_cannot_leave_the_base(path: str) -> None:
    api = make_api(lambda r: httpx2.Response(200))
    with pytest.raises(InvalidArgument):
        api.resolve_path(path)


def test_api_get_paths_resolve_under_the_base() -> None:
    api = make_api(lambda r: httpx2.Response(200))
    assert api.resolve_path("/albums") == BASE + "/albums"
    assert api.resolve_path("public/status") == BASE + "/public/status"


async def test_paging_with_server_pages_larger_than_limit_loses_nothing() -> None:
    items = [{"id": f"a{i}"} for i in range(7)]

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json=items)  # ignores size, no next link

    api = make_api(handler)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = (await api.list_albums(query=None, limit=3, cursor=cursor)).result
        seen += [a.id for a in page.albums]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"a{i}" for i in range(7)]


async def test_continuations_that_do_not_advance_end_the_listing_with_a_note() -> None:
    def same_cursor(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root({"albums": {"href": "/api/asset/albums{?cursor,size}", "templated": True}})
        return httpx2.Response(200, json={"items": [{"id": "a"}], "nextCursor": "C1"})

    api = make_api(same_cursor)
    first = (await api.list_albums(query=None, limit=5, cursor=None)).result
    assert first.next_cursor is not None
    second = (await api.list_albums(query=None, limit=5, cursor=first.next_cursor)).result
    assert second.next_cursor is None
    assert second.note is not None and "same cursor again" in second.note

    def foreign(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"items": [{"id": "a"}], "next": "https://evil.test/api/asset/albums?p=2"})

    page = (await make_api(foreign).list_albums(query=None, limit=5, cursor=None)).result
    assert page.next_cursor is None and page.note is not None and "outside the base URL" in page.note

    def empty(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"items": [{"id": "a"}], "nextCursor": ""})

    page = (await make_api(empty).list_albums(query=None, limit=5, cursor=None)).result
    assert page.next_cursor is None and page.note is not None and "empty continuation cursor" in page.note


async def test_forged_and_foreign_cursors_are_refused() -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"items": [{"id": "a"}], "next": "/api/asset/albums?page=1"})

    api = make_api(handler)
    page = (await api.list_albums(query=None, limit=5, cursor=None)).result
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursor, match="not valid for the search") as info:
        await api.search_assets({}, limit=5, cursor=page.next_cursor)  # another list's cursor
    assert (info.value.listing, info.value.start_again) == ("search", False)
    cursor = page.next_cursor
    middle = len(cursor) // 2
    edited = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    for bad in (edited, cursor[:-3], cursor + "AAAA"):  # edited, cut, extended: the AES-GCM tag fails
        with pytest.raises(InvalidCursor):
            await api.list_albums(query=None, limit=5, cursor=bad)
    with pytest.raises(InvalidCursor):
        await api.list_albums(
            query=None, limit=5, cursor="eyJ1IjoiaHR0cHM6Ly9ldmlsLnRlc3QiLCJzIjowLCJjIjoiYWxidW1zIn0.xx"
        )


async def test_discovery_link_replaces_default_route_and_config_overrides_both(tmp_path: Path) -> None:
    paths: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root(
                {
                    "search-assets": {"href": "/api/asset/v2/find{?text,limit,cursor}", "templated": True},
                    "album": {"href": "https://other.test/albums/{id}", "templated": True},
                }
            )
        paths.append(str(req.url).removeprefix("https://api.test"))
        return httpx2.Response(200, json={"items": [], "id": "x"})

    api = make_api(handler, overrides={"album_assets": "/collections/{id}/media{?size}"})
    await api.search_assets({"q": "paris", "label": "#bw"}, limit=7, cursor=None)
    page = (await api.list_album_assets("al 1", limit=3, cursor=None)).result
    await api.get_album("x")  # the other-origin link is ignored: default route
    assert paths == [
        "/api/asset/v2/find?text=paris&limit=7",
        "/api/asset/collections/al%201/media?size=3",
        "/api/asset/albums/x",
    ]
    assert page.assets == []
    result = (await api.search_assets({"label": "#bw"}, limit=7, cursor=None)).result
    assert result.note is not None and "takes no 'label' parameter" in result.note


def test_routes_file_json_and_toml_and_unknown_names(tmp_path: Path) -> None:
    js = tmp_path / "r.json"
    js.write_text(json.dumps({"search": "/s{?q}"}))
    assert Settings(base_url=BASE, routes=js).route_overrides() == {"search": "/s{?q}"}
    toml = tmp_path / "r.toml"
    toml.write_text('[routes]\nalbum-assets = "/a/{id}/x"\n')
    assert Settings(base_url=BASE, routes=toml).route_overrides() == {"album-assets": "/a/{id}/x"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"albumz": "/x"}))
    with pytest.raises(ConfigError, match="unknown route 'albumz'"):
        make_api(lambda r: httpx2.Response(200), overrides=Settings(base_url=BASE, routes=bad).route_overrides())


async def test_https_to_http_redirect_is_refused() -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(301, headers={"location": "http://api.test/api/asset/albums/x"})

    with pytest.raises(RedirectRefused, match="https to plain http"):
        await make_api(handler).get_album("x")


def _raising(exc: Exception) -> Handler:
    def handler(req: httpx2.Request) -> httpx2.Response:
        raise exc

    return handler


def _with_cause(exc: Exception, cause: BaseException) -> Exception:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (
            _with_cause(httpx2.ConnectError("x"), socket.gaierror(-2, "Name or service not known")),
            "cannot resolve the host name api.test",
        ),
        (
            _with_cause(httpx2.ConnectError("x"), ssl.SSLCertVerificationError("certificate verify failed")),
            "TLS handshake with api.test failed",
        ),
        (httpx2.ConnectTimeout("x"), "did not answer within 5 s"),
        (
            httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
            "closed the connection before the response was complete",
        ),
    ],
)
async def test_transport_failures_become_actionable_messages(exc: Exception, text: str) -> None:
    with pytest.raises(TransportError) as info:
        await make_api(_raising(exc)).archive_configuration()
    assert text in info.value.message


async def test_conflict_and_oversized_bodies() -> None:
    def conflict(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(409, json={"detail": "album is being re-indexed"})

    with pytest.raises(Conflict, match=r"conflict \(409\): album is being re-indexed"):
        await make_api(conflict).get_album("x")

    def huge(req: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"[" + b"1," * (5 * 1024 * 1024) + b"1]")

    with pytest.raises(BadResponse, match="larger than 8 MiB"):
        await make_api(huge).archive_configuration()


def test_long_cursor_states_are_stashed_and_expire_oldest_first() -> None:
    codec = CursorCodec()
    long_url = BASE + "/search/assets?q=" + "x" * 3000
    first = codec.encode(CursorState(long_url, 3, "search"))
    assert len(first) <= INLINE_CURSOR_CHARS
    assert codec.decode(first, "search", "the search") == CursorState(long_url, 3, "search")
    with pytest.raises(InvalidCursor, match="not valid for the album list"):
        codec.decode(first, "albums", "the album list")  # a stashed cursor keeps its scope
    for n in range(STASH_SIZE):
        codec.encode(CursorState(f"{long_url}&n={n}", 0, "search"))
    with pytest.raises(InvalidCursor, match="has expired"):
        codec.decode(first, "search", "the search")
    short = codec.encode(CursorState(BASE + "/albums?page=1", 0, "albums"))
    assert codec.decode(short, "albums", "the album list").url == BASE + "/albums?page=1"


async def test_the_public_configuration_is_cached_briefly() -> None:
    calls: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        calls.append(req.url.path)
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"archiveName": "A"})

    api = make_api(handler)
    first = await api.archive_configuration()
    first["archiveName"] = "changed by a caller"
    assert await api.archive_configuration() == {"archiveName": "A"}
    assert calls.count("/api/asset/configuration/archive") == 1


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            "paste-your-footage-api-token-here",
            "the Footage API rejected the token (401): FOOTAGE_API_TOKEN is still the placeholder "
            "'paste-your-footage-api-token-here' from the configuration snippet; replace it with your API key from "
            "https://app.footage.one/account",
        ),
        (
            "${input:footage-api-token}",
            "the Footage API rejected the token (401): FOOTAGE_API_TOKEN is an unexpanded variable reference "
            "(${...}): this host passes it literally; put the token itself there",
        ),
        (
            "<your-token>",
            "the Footage API rejected the token (401): FOOTAGE_API_TOKEN looks like a placeholder, not a token; "
            "replace it with your API key from https://app.footage.one/account",
        ),
    ],
)
async def test_a_401_for_a_placeholder_token_says_so_instead_of_asking_for_a_new_key(token: str, message: str) -> None:
    """Generating a new key revokes the old one: a user who forgot to paste their key must not be told to."""

    def handler(req: httpx2.Request) -> httpx2.Response:
        return root() if req.url.path == "/api/asset/" else httpx2.Response(401, json={})

    api = FootageApi(RestClient(Settings(base_url=BASE, api_token=token), transport=httpx2.MockTransport(handler)))
    with pytest.raises(Unauthorized) as info:
        await api.get_album("x")
    assert str(info.value) == message


@pytest.mark.parametrize(
    "link",
    [
        "https://api.test:99999/api/asset/albums?page=2",
        "https://[::1/api/asset/albums?page=2",
        "/api/asset/albums?page=2\n",
        "https://api.test:port/api/asset/albums",
    ],
)
async def test_a_malformed_next_link_ends_the_listing_with_a_note_and_keeps_the_page(link: str) -> None:
    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.url.path == "/api/asset/":
            return root()
        return httpx2.Response(200, json={"items": [{"id": "a", "name": "A"}], "next": link})

    page = (await make_api(handler).list_albums(query=None, limit=5, cursor=None)).result
    assert [album.id for album in page.albums] == ["a"]
    assert page.next_cursor is None
    assert page.note == "the API's next-page link is not a valid URL, so the listing ends here"


def test_cursors_outlive_the_process_that_made_them_except_stashed_ones() -> None:
    """Two codecs with the same key are two server processes of one configuration."""
    key = cursor_key(TOKEN, BASE)
    made, restarted = CursorCodec(key), CursorCodec(key)
    short = made.encode(CursorState(BASE + "/albums?page=1", 0, "albums"))
    assert restarted.decode(short, "albums", "the album list").url == BASE + "/albums?page=1"
    stashed = made.encode(CursorState(BASE + "/search/assets?q=" + "x" * 600, 0, "search"))
    with pytest.raises(InvalidCursor) as info:
        restarted.decode(stashed, "search", "the search")
    assert str(info.value) == (
        "the cursor has expired (the server restarted, or too many listings since): start the search again"
    )
    assert (info.value.listing, info.value.start_again) == ("search", True)


def test_the_cursor_key_is_stretched_and_made_once_on_first_use() -> None:
    """The key is PBKDF2 of the token (a cursor the model sees must not be a fast offline test of
    guessed tokens), derived lazily so a server that never lists pays nothing."""
    stretched = hashlib.pbkdf2_hmac("sha256", TOKEN.encode(), b"footage-mcp cursor key v3", CURSOR_KEY_ITERATIONS)
    message = b"footage-mcp cursor key v3\0" + BASE.encode()
    assert cursor_key(TOKEN, BASE) == hmac.new(stretched, message, hashlib.sha256).digest()
    assert CURSOR_KEY_ITERATIONS >= 100_000
    assert len({cursor_key(TOKEN, BASE), cursor_key(TOKEN + "x", BASE), cursor_key(TOKEN, BASE + "/v2")}) == 3
    calls: list[int] = []

    def factory() -> bytes:
        calls.append(1)
        return cursor_key(TOKEN, BASE)

    codec = CursorCodec(factory)
    assert calls == []
    cursor = codec.encode(CursorState(BASE + "/albums?page=1", 0, "albums"))
    codec.decode(cursor, "albums", "the album list")
    assert calls == [1]
    assert CursorCodec(cursor_key(TOKEN, BASE)).decode(cursor, "albums", "the album list").url.endswith("page=1")


def test_the_token_is_stretched_once_per_process_whatever_the_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two API objects of one token in a process (the in-process tests build hundreds, each for its own
    sandbox's base URL; a team-mode server rebuilds a user's API after its LRU dropped it) share the
    stretched token; another token is stretched for itself; each base URL still has its own key."""
    from footage_mcp.rest import paging

    stretched: list[tuple[bytes, bytes]] = []
    pbkdf2 = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        stretched.append((password, salt))
        return pbkdf2(name, password, salt, iterations)

    monkeypatch.setattr(paging.hashlib, "pbkdf2_hmac", counting)
    paging._STRETCHED.clear()
    token, other = "tok-stretch-once-1", "tok-stretch-once-2"
    keys = [cursor_key(token, BASE), cursor_key(token, BASE), cursor_key(other, BASE), cursor_key(token, BASE + "/v2")]
    assert keys[0] == keys[1] and len(set(keys)) == 3
    assert [password for password, _ in stretched] == [token.encode(), other.encode()]


def test_the_stretched_key_cache_holds_no_token() -> None:
    """Found by a breaking run: the cache was keyed by the plaintext token, so a team-mode user's token
    stayed in the process after the request was answered (rest/tokens.py: "gone when the message has been
    answered"). It is keyed by an HMAC of the token under a per-process secret; only derived keys are kept."""
    from footage_mcp.rest import paging

    token = "tok-team-user-not-kept-1"
    key = cursor_key(token, BASE)
    assert key == cursor_key(token, BASE)
    entries = list(paging._STRETCHED.items())
    assert entries and all(isinstance(digest, bytes) and len(digest) == 32 for digest, _ in entries)
    assert all(token not in repr(entry) and token.encode() not in repr(entry).encode() for entry in entries)
    assert all(value != key and len(value) == 32 for _, value in entries)  # the stretched token, not a key
