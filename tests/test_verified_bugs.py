"""Bugs outside clients found in version 0.1 (issue 10, part 6), each a test that failed before its fix.
In process: the bridge (``build_server``) against the sandbox app over ``httpx2.ASGITransport``, driven
by the SDK's in-memory client. The process-level ones (serve's port, Host header, token at start) are
in tests/test_serve_start.py."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx2
import pytest
from canary_plugin import TOKEN as SUITE_TOKEN
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from footage_mcp.core.settings import Settings
from footage_mcp.sandbox.app import create_app
from footage_mcp.sandbox.library import shared_library
from footage_mcp.surface.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = SUITE_TOKEN[:10]  # as long as the literal it replaces; the canary plugin searches for it
BASE = "http://127.0.0.1:9/api/asset"
LIB = shared_library()


def bridge(**settings: Any) -> Client:
    """The in-memory client of a bridge in front of the sandbox app (in process)."""
    config = Settings(**{"api_token": TOKEN, "base_url": BASE, **settings})
    server = build_server(config, transport=httpx2.ASGITransport(app=create_app(token=TOKEN)))
    return Client(server, mode="legacy")


def text(result: Any) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


# ---------------------------------------------------------------- unknown tool: JSON-RPC -32602


async def test_an_unknown_tool_is_a_json_rpc_invalid_params_error() -> None:
    """Failed before: an isError result "Unknown tool: nope" (the spec answers -32602)."""
    async with bridge() as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("list_albumz", {})
        assert raised.value.error.code == INVALID_PARAMS
        assert raised.value.error.message == (
            "unknown tool 'list_albumz' (did you mean list_albums?); tools/list names them"
        )
        with pytest.raises(MCPError) as raised:
            await client.call_tool("x" * 500, {})
        assert raised.value.error.code == INVALID_PARAMS
        assert len(raised.value.error.message) < 200
        assert not (await client.call_tool("list_albums", {"limit": 1})).is_error  # and it keeps answering


# ---------------------------------------------------------------- reduced-precision dates


@pytest.mark.parametrize(
    ("after", "before", "first", "last"),
    [
        ("2019", "2019", "2019-01-01", "2019-12-31"),
        ("2019-06", "2019-06", "2019-06-01", "2019-06-30"),
        ("2016-02", "2016-02", "2016-02-01", "2016-02-29"),
        ("2019-06-15", None, "2019-06-15", None),
    ],
)
async def test_a_year_or_a_month_is_a_date_range(after: str, before: str | None, first: str, last: str | None) -> None:
    """Failed before: "created_after must be an ISO 8601 date" for '2019' and '2019-06'. A year or a
    month means its first day for created_after and its last day for created_before."""
    days = {a.id: a.created.date().isoformat() for a in LIB.assets}
    expected = sorted(i for i, day in days.items() if day >= first and (last is None or day <= last))
    found: list[str] = []
    async with bridge() as client:
        cursor = None
        while True:
            arguments = {"created_after": after, "created_before": before, "limit": 100, "cursor": cursor}
            result = await client.call_tool("search_assets", arguments)
            assert not result.is_error, text(result)
            data = result.structured_content
            assert data is not None
            found += [a["id"] for a in data["assets"]]
            cursor = data.get("next_cursor")
            if not cursor:
                break
    assert expected and sorted(found) == expected


@pytest.mark.parametrize("value", ["19", "2019-13", "2019-6", "2019-00", "June 2019", "2019-02-30"])
async def test_a_date_that_is_no_iso_8601_date_is_still_refused(value: str) -> None:
    async with bridge() as client:
        result = await client.call_tool("search_assets", {"created_after": value})
    assert result.is_error
    assert text(result) == (
        "created_after must be an ISO 8601 date such as 2024-05-31 (or 2024-05-31T12:00:00Z, or 2024-05, or 2024)"
    )


# ---------------------------------------------------------------- search in an album that does not exist


async def test_searching_an_album_that_does_not_exist_says_so() -> None:
    """Failed before: 0 hits, exactly like an empty album."""
    async with bridge() as client:
        result = await client.call_tool("search_assets", {"album_id": "nope", "query": "paris"})
        assert result.is_error
        assert text(result) == "album 'nope' not found — list_albums shows valid ids"
        album = LIB.albums[0]
        hits = await client.call_tool("search_assets", {"album_id": album.id, "limit": 100})
    assert not hits.is_error and hits.structured_content is not None
    assert {a["id"] for a in hits.structured_content["assets"]} == set(album.asset_ids)


# ---------------------------------------------------------------- api_get under a small output budget


async def test_api_get_under_a_small_budget_keeps_the_path_and_a_trimmed_body() -> None:
    """Failed before: path "" and the whole body dropped ({}), under a budget the albums page exceeds."""
    async with bridge(output_budget=500) as client:
        result = await client.call_tool("api_get", {"path": "albums", "query": "size=20"})
    data = result.structured_content
    assert not result.is_error and data is not None
    assert data["path"] == "albums"
    assert data["truncated"] is True
    assert data["body"] not in ({}, [], None, "")
    assert LIB.albums[0].id in json.dumps(data["body"])
    assert "output budget" in data["note"]
    assert len(json.dumps(data, ensure_ascii=False, separators=(",", ":"))) <= 500 * 4 // 2


# ---------------------------------------------------------------- connection refused: host and port


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


async def test_a_refused_connection_names_host_and_port() -> None:
    """Failed before rest/diagnose.py: "the connection to 127.0.0.1 was refused" named no port (check's line did)."""
    port = closed_port()
    server = build_server(
        Settings(api_token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/asset", max_retries=0)  # type: ignore[arg-type]
    )
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("list_albums", {})
    assert result.is_error
    assert f"127.0.0.1:{port}" in text(result), text(result)
    assert "refused" in text(result)
