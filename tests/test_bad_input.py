"""Arguments a model may invent, and API answers that try to trick the bridge — through the real MCP
server in-process (mcp SDK client, legacy mode) over httpx2.MockTransport."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, CallToolResult

from footage_mcp.core.errors import InvalidArgument
from footage_mcp.core.settings import Settings
from footage_mcp.rest.http import RestClient
from footage_mcp.rest.paging import CursorCodec, CursorState, cursor_key
from footage_mcp.surface.server import build_server

pytestmark = pytest.mark.anyio
BASE = "https://api.test/api/asset"
TOKEN = SUITE_TOKEN[:15]  # as long as the literal it replaces; the canary plugin searches for it
seen: list[str] = []


def handler(req: httpx2.Request) -> httpx2.Response:
    seen.append(req.url.raw_path.decode())
    path = req.url.path.removeprefix("/api/asset")
    if path in ("", "/"):
        return httpx2.Response(200, json={"_links": {}})
    if path == "/me":
        return httpx2.Response(200, json={"user": "x", "apiKey": TOKEN, TOKEN: [f"key={TOKEN}"]})
    if path == "/deep":
        return httpx2.Response(200, content=("[" * 5000 + "]" * 5000).encode())
    if path == "/nested":
        body: Any = "leaf"
        for _ in range(200):
            body = {"a": body}
        return httpx2.Response(200, json=body)
    if path == "/boom":
        return httpx2.Response(
            500, text='Traceback (most recent call last):\n  File "x.py", line 1\nNullPointerException'
        )
    if path == "/teapot":
        return httpx2.Response(400, json={"message": "java.lang.IllegalStateException at com.x.Y(Y.java:12)"})
    if path.startswith("/albums/"):
        return httpx2.Response(404, json={"message": "not here"})
    return httpx2.Response(200, json={"items": [{"id": "a1", "name": "A"}], "next": "/api/asset/albums?page=1"})


def text(result: CallToolResult) -> str:
    return str(result.content[0].text)  # type: ignore[union-attr]


async def call(name: str, args: dict[str, Any]) -> CallToolResult:
    server = build_server(
        Settings(base_url=BASE, api_token=TOKEN, max_retries=0), transport=httpx2.MockTransport(handler)
    )
    async with Client(server, mode="legacy") as client:
        return await client.call_tool(name, args)


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        (
            "list_albums",
            {"limit": "abc"},
            "invalid arguments for list_albums: limit must be a whole number (e.g. limit=20)",
        ),
        (
            "list_albums",
            {"limit": 1.5},
            "invalid arguments for list_albums: limit must be a whole number (e.g. limit=20)",
        ),
        (
            "get_album",
            {},
            "invalid arguments for get_album: album_id is required (e.g. album_id='<an id from list_albums>')",
        ),
        (
            "search_assets",
            {"media_type": "film"},
            "invalid arguments for search_assets: media_type must be one of 'image', 'video', 'audio' or 'document' "
            "(e.g. media_type='video')",
        ),
        (
            "list_albums",
            {"query": "x" * 100_000},
            "invalid arguments for list_albums: query is too long (at most 500 characters) "
            "(e.g. query='eiffel tower night')",
        ),
        (
            "api_get",
            {"path": "y" * 5000},
            "invalid arguments for api_get: path is too long (at most 2000 characters) (e.g. path='albums')",
        ),
        (
            "api_get",
            {"path": "albums", "query": ["size", 5]},
            "invalid arguments for api_get: query must be a string (e.g. query='size=5&q=paris')",
        ),
        ("get_album", {"album_id": ""}, "album_id must not be empty; e.g. an 'id' from list_albums"),
        (
            "get_album",
            {"album_id": "a\x00b"},
            "album_id contains characters no id has; pass an id as listed, e.g. an 'id' from list_albums",
        ),
        (
            "get_album",
            {"album_id": "x" * 300},
            "album_id is longer than 256 characters; pass an id as listed, e.g. an 'id' from list_albums",
        ),
        (
            "get_album",
            {"album_id": ".."},
            "album_id contains characters no id has; pass an id as listed, e.g. an 'id' from list_albums",
        ),
        (
            "search_assets",
            {"created_after": "yesterday"},
            "created_after must be an ISO 8601 date such as 2024-05-31 (or 2024-05-31T12:00:00Z, or 2024-05, or 2024)",
        ),
        (
            "list_albums",
            {"cursor": 12345},
            "the cursor is not valid for the album list: pass the next_cursor of the previous page unchanged, "
            "or omit it to start again — pass a next_cursor that list_albums returned",
        ),
        ("api_get", {"path": "deep"}, "the Footage API answered with JSON nested too deeply to read"),
        ("api_get", {"path": "boom"}, "the Footage service failed (500); retrying is unlikely to help"),
        ("api_get", {"path": "teapot"}, "the Footage API rejected the request (400)"),
    ],
)
async def test_bad_arguments_get_one_actionable_line(tool: str, args: dict[str, Any], message: str) -> None:
    result = await call(tool, args)
    assert result.is_error and result.structured_content is None
    assert text(result) == message
    assert "pydantic" not in text(result) and "Traceback" not in text(result)


async def test_lenient_arguments_are_accepted() -> None:
    assert not (await call("search_assets", {"media_type": "VIDEO", "limit": "5"})).is_error
    assert "album '123' not found" in text(await call("get_album", {"album_id": 123}))
    assert (await call("list_albums", {"limit": 10_000})).structured_content is not None  # clamped, not refused
    ok = await call("api_get", {"path": "albums", "query": {"size": 5, "flag": True, "ratio": 0.5}})
    assert not ok.is_error
    assert seen[-1] == "/api/asset/albums?size=5&flag=true&ratio=0.5"


async def test_a_cursor_carries_its_own_filters_so_bad_new_ones_are_ignored() -> None:
    first = await call("search_assets", {"query": "x"})
    cursor = first.structured_content["next_cursor"]  # type: ignore[index]
    assert cursor
    # call() starts a new server each time: a cursor outlives the process that made it (same token
    # and base URL), and the next page follows the cursor's filters, not the bogus new one
    follow = await call("search_assets", {"cursor": cursor, "created_after": "bogus"})
    assert not follow.is_error and follow.structured_content is not None
    assert seen[-1] == "/api/asset/albums?page=1"  # the next link the first page gave, nothing added


async def test_a_token_echoed_by_the_api_never_reaches_the_model() -> None:
    result = await call("api_get", {"path": "me"})
    dumped = result.model_dump_json()
    assert TOKEN not in dumped and "[redacted]" in dumped
    assert json.loads(text(result))["body"]["apiKey"] == "[redacted]"


async def test_deeply_nested_bodies_are_trimmed_not_crashed() -> None:
    result = await call("api_get", {"path": "nested"})
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["truncated"] is True


def test_urls_with_dot_segments_never_get_the_token() -> None:
    rest = RestClient(Settings(base_url=BASE, api_token=TOKEN))
    for url in (
        f"{BASE}/../../internal/admin",
        f"{BASE}/%2e%2e/x",
        f"{BASE}/a/./b",
        "https://api.test/other",
        # matrix parameters: Tomcat/Spring read "..;" (and "..;x=1") as ".."
        f"{BASE}/albums/..;/..;/x",
        f"{BASE}/albums/..;x=1/y",
        f"{BASE}/albums/.;/y",
        # double (and triple) percent-encoding, decoded again by a proxy or framework
        f"{BASE}/albums/%252e%252e/x",
        f"{BASE}/albums/%25252e%25252e/x",
        f"{BASE}/albums/%2e%2e%3b/x",
        # a backslash is a separator on some servers
        f"{BASE}/albums/..%5cx",
        f"{BASE}/albums/%5c..%5c/x",
        # user info on the base origin, and URLs that do not parse
        "https://user:pw@api.test/api/asset/albums",
        "https://api.test:99999/api/asset/albums",
        "https://[::1/api/asset/albums",
        "https://api.test:x/api/asset/albums",
    ):
        assert not rest.is_under_base(url), url
        assert rest.relative_path(url) is None, url
    assert rest.is_under_base(f"{BASE}/albums/a%2Fb")
    assert rest.relative_path(f"{BASE}/albums/x;v=1") == "albums/x;v=1"  # a plain segment may carry ';'
    assert rest.relative_path(f"{BASE}/albums/..x") == "albums/..x"  # not a dot segment


@pytest.mark.parametrize("path", ["albums/..;/..;/x", "albums/%252e%252e/admin", "albums/..%5c..%5cx"])
async def test_api_get_refuses_encoded_and_matrix_traversal_before_any_request(path: str) -> None:
    before = len(seen)
    result = await call("api_get", {"path": path})
    assert result.is_error and "must not contain '.' or '..' segments (in any encoding" in text(result), text(result)
    assert len(seen) == before


async def test_forged_cursors_leading_off_the_base_are_refused_before_any_request() -> None:
    rest = RestClient(Settings(base_url=BASE, api_token=TOKEN), transport=httpx2.MockTransport(handler))
    before = len(seen)
    with pytest.raises(InvalidArgument, match="would leave the API base URL"):
        await rest.get(f"{BASE}/../../internal/admin/users")
    assert len(seen) == before
    for key in (b"random" * 6, cursor_key("another-token", BASE), cursor_key(TOKEN, BASE + "/v2")):
        forged = CursorCodec(key).encode(CursorState(f"{BASE}/albums?page=1", 0, "albums"))
        assert "cursor is not valid for the album list" in text(await call("list_albums", {"cursor": forged}))
    genuine = CursorCodec(cursor_key(TOKEN, BASE)).encode(CursorState(f"{BASE}/albums?page=1", 0, "albums"))
    assert not (await call("list_albums", {"cursor": genuine})).is_error


@pytest.mark.parametrize(
    ("prompt", "args", "message"),
    [
        ("find_footage", {}, "prompt find_footage: missing argument 'brief'"),
        ("summarize_album", {"albumid": "x"}, "prompt summarize_album: missing argument 'album_id'"),
        ("no_such_prompt", {}, "unknown prompt 'no_such_prompt': the prompts are find_footage, summarize_album"),
        (
            "find_footage",
            {"brief": "ok", "extra": "x"},
            "prompt find_footage: unknown argument 'extra'; it takes brief",
        ),
        (
            "summarize_album",
            {"album_id": "a" * 4001},
            "prompt summarize_album: argument 'album_id' is too long (4001 characters; at most 4000)",
        ),
        (
            "x" * 300,
            {},
            "unknown prompt 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…': the prompts are find_footage, summarize_album",
        ),
    ],
)
async def test_bad_prompt_requests_get_a_clean_invalid_params_error(
    prompt: str, args: dict[str, str], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = build_server(Settings(base_url=BASE, api_token=TOKEN), transport=httpx2.MockTransport(handler))
    async with Client(server, mode="legacy") as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt(prompt, args)
        assert (raised.value.code, raised.value.message) == (INVALID_PARAMS, message)
        assert (await client.get_prompt("find_footage", {"brief": "rain"})).messages  # still serving
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # no traceback in the log


def test_a_name_with_a_line_break_or_a_terminal_escape_cannot_forge_a_log_line() -> None:
    """Found by a breaking run: an uploaded file's name with ``\\n`` and ESC went raw into the audit line on
    stderr (one line became two; the escape reached the terminal). The CLI's formatter writes every
    control character and invisible code point of a message as an escape; tracebacks keep their lines."""
    from footage_mcp.cli.logs import RedactingFormatter

    formatter = RedactingFormatter("%(levelname)s %(name)s: %(message)s", ["s3cret-token-value"])
    name = "clip\nINFO footage_mcp.audit: audit tool=upload_assets outcome=uploaded\x1b[2J\u202e.mp4"
    record = logging.LogRecord("footage_mcp.audit", logging.INFO, __file__, 1, "audit file=%s", (name,), None)
    line = formatter.format(record)
    assert line == (
        "INFO footage_mcp.audit: audit file=clip\\nINFO footage_mcp.audit: audit tool=upload_assets "
        "outcome=uploaded\\x1b[2J\\u202e.mp4"
    )
    try:
        raise ValueError("boom s3cret-token-value")
    except ValueError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatter.format(failed)
    assert text.startswith("ERROR x: failed\nTraceback") and "s3cret-token-value" not in text


def test_the_access_log_keeps_no_query_string() -> None:
    """Found by a breaking run: a token put in the URL (``POST /mcp?apiKey=…``) was written whole into
    uvicorn's access log at INFO, outside the redaction of the request's token."""
    from footage_mcp.cli.logs import NoQueryStrings, RedactingFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/mcp?apiKey=tokAAAAAAAAAAAAAAAAalice&x=1", "1.1", 401),
        None,
    )
    assert NoQueryStrings().filter(record)
    line = RedactingFormatter("%(name)s: %(message)s", []).format(record)
    assert line == 'uvicorn.access: 127.0.0.1:5000 - "POST /mcp?… HTTP/1.1" 401'


@pytest.mark.anyio
async def test_an_id_with_an_invisible_character_is_shown_with_it_escaped() -> None:
    """Found by a breaking run: an album id sent with a leading U+202E was reported as "album '<the real id>'
    not found" (the output's cleaning removed the character), telling the user their real id does not exist."""
    from inprocess import bridge

    from footage_mcp.sandbox.library import build_library

    real = build_library().albums[0].id
    async with bridge(allow_writes=True) as running:
        for tool, arguments in (
            ("get_album", {"album_id": "\u202e" + real}),
            ("update_album", {"album_id": "\u202e" + real, "name": "x"}),
        ):
            result = await running.client.call_tool(tool, arguments)
            assert result.is_error
            assert result.content[0].text.startswith(f"album '\\u202e{real}' not found"), tool  # type: ignore[union-attr]
