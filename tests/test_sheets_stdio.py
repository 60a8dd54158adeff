"""get_contact_sheet over REAL stdio: the bridge as a subprocess driven by the SDK client, against the
hostile fake API of tests/sheet_upstream.py (loopback HTTP) and the sandbox (loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from forkrun import warm_parameters, warm_sandbox
from mcp import Client

from footage_mcp.cli.launch import RunningSandbox, bridge_parameters
from footage_mcp.sandbox import build_library
from footage_mcp.surface.sheets import MAX_SHEET_BYTES, MAX_SHEET_EDGE, layout_for
from tests import sheet_upstream
from tests.sheet_upstream import HOSTILE, TOKEN, colour_of
from tests.test_sheets import next_cursor, open_sheet

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with sheet_upstream.serve() as base_url:
        yield base_url


@pytest.fixture(scope="module")
def bulk_sandbox() -> Iterator[RunningSandbox]:
    with warm_sandbox(extra_album_assets=150) as running:
        yield running


async def test_caps_hold_for_every_count_and_every_hostile_preview(upstream: str) -> None:
    async with Client(warm_parameters(bridge_parameters(upstream, TOKEN)), mode="legacy") as client:
        for count in (1, 7, 24, 48):
            image, size, rows, text = open_sheet(
                await client.call_tool("get_contact_sheet", {"query": "noise", "limit": count})
            )
            assert max(image.size) <= MAX_SHEET_EDGE and size <= MAX_SHEET_BYTES, (count, image.size, size)
            assert [r["id"] for r in rows] == [f"noise-{i}" for i in range(count)]
            assert [r["n"] for r in rows] == list(range(1, count + 1))
            assert TOKEN not in text
        image, size, rows, _text = open_sheet(await client.call_tool("get_contact_sheet", {"query": "hostile"}))
        assert max(image.size) <= MAX_SHEET_EDGE and size <= MAX_SHEET_BYTES
        assert [r["id"] for r in rows] == list(HOSTILE)
        assert {r["id"]: r["problem"] for r in rows if r["problem"]} == {
            "huge": "preview too large",
            "corrupt": "preview unreadable",
            "truncated": "preview unreadable",
            "html": "preview unreadable",
            "missing": "no preview",
            "failing": "preview unreadable",
        }
        assert not (await client.call_tool("list_api_links", {})).is_error  # the bridge is still answering


async def test_the_legend_matches_the_cells(upstream: str) -> None:
    async with Client(warm_parameters(bridge_parameters(upstream, TOKEN)), mode="legacy") as client:
        image, _size, rows, _text = open_sheet(
            await client.call_tool("get_contact_sheet", {"query": "colour", "limit": 48})
        )
    layout = layout_for(48)
    rgb = image.convert("RGB")
    for index, row in enumerate(rows):
        x, y = layout.origin(index)
        got = rgb.getpixel((x + layout.cell_width // 2, y + layout.picture_height // 2))
        expected = colour_of(int(row["id"].split("-")[1]))
        assert all(abs(a - b) <= 24 for a, b in zip(got, expected, strict=True)), (row, got, expected)


async def test_a_150_asset_album_pages_sheet_by_sheet_seeing_every_asset_once(bulk_sandbox: RunningSandbox) -> None:
    bulk = build_library(extra_album_assets=150).albums[-1]
    seen: list[str] = []
    async with Client(
        warm_parameters(bridge_parameters(bulk_sandbox.base_url, bulk_sandbox.token)), mode="legacy"
    ) as client:
        arguments: dict[str, Any] = {"album_id": bulk.id, "limit": 48}
        for _ in range(6):
            image, size, rows, text = open_sheet(await client.call_tool("get_contact_sheet", arguments))
            assert max(image.size) <= MAX_SHEET_EDGE and size <= MAX_SHEET_BYTES
            seen += [r["id"] for r in rows]
            cursor = next_cursor(text)
            if cursor is None:
                break
            arguments = {"cursor": cursor}
    assert seen == list(bulk.asset_ids) and len(set(seen)) == 150
