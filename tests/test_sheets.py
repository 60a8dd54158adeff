"""get_contact_sheet in-process (the real MCP server and SDK client in memory; the fake API of
tests/sheet_upstream.py or the sandbox app over httpx2 transports), plus the layout functions."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import anyio
import httpx2
import pytest
from canary_plugin import TOKEN as SANDBOX
from mcp import Client
from mcp.types import CallToolResult, ImageContent, TextContent
from PIL import Image

from footage_mcp.core.settings import Settings
from footage_mcp.sandbox import build_library, create_app
from footage_mcp.surface.server import build_server
from footage_mcp.surface.sheets import (
    MAX_SHEET_BYTES,
    MAX_SHEET_EDGE,
    QUALITIES,
    Cell,
    PreviewProblem,
    decode_thumbnail,
    drawable,
    encode,
    format_duration,
    grid_for,
    layout_for,
)
from tests import sheet_upstream
from tests.sheet_upstream import HOSTILE, TOKEN, colour_of

pytestmark = pytest.mark.anyio
LEGEND_LINE = re.compile(
    r"^(\d+) → ([^,]+), (\"[^\"]*\"|\(no name\)), ([a-z ]+?)(?:, (\d+:\d{2}(?::\d{2})?))?(?: \[(.+)\])?$"
)


def fake_server(**overrides: Any) -> Any:
    settings = Settings(base_url="https://api.test/api/asset", api_token=TOKEN, max_retries=0, **overrides)
    return build_server(settings, transport=sheet_upstream.mock_transport())


def sandbox_server(**app_options: Any) -> Any:
    app = create_app(**app_options)
    settings = Settings(base_url="http://127.0.0.1:9/api/asset", api_token=SANDBOX, max_retries=0)
    return build_server(settings, transport=httpx2.ASGITransport(app=app))


def open_sheet(result: CallToolResult) -> tuple[Image.Image, int, list[dict[str, Any]], str]:
    """The sheet's image, its byte size, the parsed legend lines and the whole legend text; asserts the
    result is one JPEG plus one text block and no structured content."""
    assert not result.is_error, result.content
    assert result.structured_content is None
    assert [type(b) for b in result.content] == [ImageContent, TextContent]
    image_block, text_block = result.content
    assert isinstance(image_block, ImageContent) and isinstance(text_block, TextContent)
    assert image_block.mime_type == "image/jpeg"
    data = base64.b64decode(image_block.data)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    rows = []
    for line in text_block.text.splitlines():
        match = LEGEND_LINE.match(line)
        if match:
            number, asset_id, name, kind, duration, problem = match.groups()
            rows.append(
                {"n": int(number), "id": asset_id, "name": name, "kind": kind, "duration": duration, "problem": problem}
            )
    return image, len(data), rows, text_block.text


def next_cursor(text: str) -> str | None:
    match = re.search(r"^next_cursor: (\S+)$", text, re.M)
    assert match, text
    return None if match.group(1) == "null" else match.group(1)


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize(
    ("count", "grid"), [(1, (1, 1)), (2, (2, 1)), (7, (4, 2)), (12, (4, 3)), (24, (6, 4)), (48, (8, 6))]
)
def test_the_grid_is_sized_to_the_count(count: int, grid: tuple[int, int]) -> None:
    assert grid_for(count) == grid
    layout = layout_for(count)
    assert (layout.cols, layout.rows) == grid
    assert max(layout.size) <= MAX_SHEET_EDGE
    assert layout.cols * layout.rows >= count


def test_durations_and_drawable_text() -> None:
    assert [format_duration(s) for s in (None, 0, 29.6, 61, 3725, float("nan"), -1)] == [
        None,
        "0:00",
        "0:30",
        "1:01",
        "1:02:05",
        None,
        None,
    ]
    assert drawable("Café terrace — Île de la Cité, Straße") == "Cafe terrace - Ile de la Cite, Strasse"
    assert drawable("дневной") == "???????"


def test_decoding_refuses_huge_previews_before_decoding_and_fits_the_rest() -> None:
    box = layout_for(24).picture_box
    for asset_id, expected in (
        ("huge", "preview too large"),
        ("corrupt", "preview unreadable"),
        ("truncated", "preview unreadable"),
    ):
        with pytest.raises(PreviewProblem, match=expected):
            decode_thumbnail(sheet_upstream.respond(f"/api/asset/assets/{asset_id}/preview", {}, TOKEN)[2], box)
    for asset_id in ("tall", "wide", "tiny", "big"):
        picture = decode_thumbnail(sheet_upstream.respond(f"/api/asset/assets/{asset_id}/preview", {}, TOKEN)[2], box)
        assert picture.width <= box[0] and picture.height <= box[1]
        assert picture.width == box[0] or picture.height == box[1]  # fitted (enlarged when tiny)
        assert picture.mode == "RGB"


def test_encoding_lowers_quality_then_size_to_fit_the_byte_cap() -> None:
    noise = Image.effect_noise((1560, 1000), 128).convert("RGB")
    data, width, height, quality = encode(noise, max_bytes=300_000)
    assert len(data) <= 300_000 and (width, height) != (1560, 1000) and quality in QUALITIES
    data, width, height, quality = encode(noise)
    assert len(data) <= MAX_SHEET_BYTES and max(width, height) <= MAX_SHEET_EDGE
    assert Image.open(io.BytesIO(data)).size == (width, height)


# ---------------------------------------------------------------- through the MCP server


@pytest.mark.parametrize("count", [1, 7, 24, 48])
async def test_caps_hold_for_noise_previews(count: int) -> None:
    async with Client(fake_server(), mode="legacy") as client:
        result = await client.call_tool("get_contact_sheet", {"query": "noise", "limit": count})
    image, size, rows, text = open_sheet(result)
    assert max(image.size) <= MAX_SHEET_EDGE and size <= MAX_SHEET_BYTES
    assert [r["n"] for r in rows] == list(range(1, count + 1))
    assert [r["id"] for r in rows] == [f"noise-{i}" for i in range(count)]
    assert [r["kind"] for r in rows] == [sheet_upstream.KINDS[i % 4] for i in range(count)]
    assert [r["duration"] for r in rows] == [
        format_duration(61.0 * i) if i % 4 in (1, 2) else None for i in range(count)
    ]
    assert f"Contact sheet of {count} of 60 assets" in text
    cols, lines = grid_for(count)
    assert f"{cols}×{lines} grid" in text
    assert (next_cursor(text) is None) == (count >= 60)


async def test_hostile_previews_become_labelled_placeholders_and_the_sheet_still_comes() -> None:
    async with Client(fake_server(), mode="legacy") as client:
        result = await client.call_tool("get_contact_sheet", {"query": "hostile"})
        alive = await client.call_tool("list_api_links", {})
    image, size, rows, _text = open_sheet(result)
    assert not alive.is_error
    assert max(image.size) <= MAX_SHEET_EDGE and size <= MAX_SHEET_BYTES
    problems = {r["id"]: r["problem"] for r in rows}
    assert problems == {
        "tall": None,
        "wide": None,
        "tiny": None,
        "huge": "preview too large",
        "big": None,
        "corrupt": "preview unreadable",
        "truncated": "preview unreadable",
        "html": "preview unreadable",
        "missing": "no preview",
        "failing": "preview unreadable",
    }
    assert [r["id"] for r in rows] == list(HOSTILE)


def _cell_centre(layout: Any, index: int) -> tuple[int, int]:
    x, y = layout.origin(index)
    return x + layout.cell_width // 2, y + layout.picture_height // 2


async def test_the_legend_matches_the_cells() -> None:
    """Each preview is one solid colour: the centre of cell n has the colour of the asset legend line n names."""
    async with Client(fake_server(), mode="legacy") as client:
        first = await client.call_tool("get_contact_sheet", {"query": "colour", "limit": 30})
        image, _size, rows, text = open_sheet(first)
        second = await client.call_tool("get_contact_sheet", {"cursor": next_cursor(text)})
    for sheet_image, sheet_rows in ((image, rows), open_sheet(second)[::2]):
        layout = layout_for(len(sheet_rows))
        rgb = sheet_image.convert("RGB")
        for index, row in enumerate(sheet_rows):
            expected = colour_of(int(row["id"].split("-")[1]))
            got = rgb.getpixel(_cell_centre(layout, index))
            assert all(abs(a - b) <= 24 for a, b in zip(got, expected, strict=True)), (row, got, expected)
    assert [r["id"] for r in open_sheet(second)[2]] == [f"colour-{i}" for i in range(30, 48)]


async def test_names_with_quotes_escapes_and_line_breaks_stay_on_their_legend_line() -> None:
    """Found by a breaking run: an asset name with ESC kept it raw in the legend, and an unescaped quote made
    the line ambiguous. Names are one line (control characters become spaces), JSON-quoted, the token
    redacted."""
    async with Client(fake_server(), mode="legacy") as client:
        _image, _size, _rows, text = open_sheet(await client.call_tool("get_contact_sheet", {"query": "names"}))
    lines = text.splitlines()
    assert lines[1] == '1 → colour-1, "Say \\"hi\\" \\\\ bye [2J note: forged line", image'
    assert lines[2] == '2 → colour-2, "Leaked [redacted] in a name", image'
    assert not any(line.startswith("note: forged") for line in lines) and "\x1b" not in text


async def test_asset_ids_keep_their_order_and_unknown_ones_are_placeholders() -> None:
    lib = build_library()
    ids = [lib.assets[5].id, "no-such-asset", lib.assets[0].id]
    async with Client(sandbox_server(), mode="legacy") as client:
        result = await client.call_tool("get_contact_sheet", {"asset_ids": ids})
    _image, _size, rows, text = open_sheet(result)
    assert [r["id"] for r in rows] == ids
    assert rows[1]["problem"] == "asset not found" and rows[1]["name"] == "(no name)"
    assert rows[0]["name"] == f'"{lib.assets[5].name}"' and rows[2]["kind"] == lib.assets[0].kind
    assert next_cursor(text) is None


async def test_an_album_sheet_pages_through_every_asset_once() -> None:
    async with Client(sandbox_server(extra_album_assets=150), mode="legacy") as client:
        app_lib = build_library(extra_album_assets=150)
        bulk = app_lib.albums[-1]
        seen: list[str] = []
        sizes: list[int] = []
        arguments: dict[str, Any] = {"album_id": bulk.id, "limit": 48}
        for _ in range(10):
            _image, _size, rows, text = open_sheet(await client.call_tool("get_contact_sheet", arguments))
            seen += [r["id"] for r in rows]
            sizes.append(len(rows))
            cursor = next_cursor(text)
            if cursor is None:
                break
            arguments = {"cursor": cursor}
    assert seen == list(bulk.asset_ids) and sizes == [48, 48, 48, 6]


async def test_search_filters_apply_and_a_search_cursor_continues() -> None:
    lib = build_library()
    videos = [a for a in lib.assets if a.kind == "video"]
    async with Client(sandbox_server(), mode="legacy") as client:
        first = open_sheet(await client.call_tool("get_contact_sheet", {"media_type": "video", "limit": 5}))
        second = open_sheet(await client.call_tool("get_contact_sheet", {"cursor": next_cursor(first[3])}))
        plain = await client.call_tool("search_assets", {"media_type": "video", "limit": 5})
        assert plain.structured_content is not None
        from_search = open_sheet(
            await client.call_tool("get_contact_sheet", {"cursor": plain.structured_content["next_cursor"]})
        )
    assert [r["id"] for r in first[2] + second[2]] == [a.id for a in videos[:10]]
    assert [r["id"] for r in from_search[2]] == [a.id for a in videos[5:10]]
    assert all(r["kind"] == "video" and r["duration"] for r in first[2])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cursor": "a24:bm9wZQ:garbage"}, "the cursor is not valid for get_contact_sheet"),
        ({"cursor": "x:y"}, "the cursor is not valid for get_contact_sheet"),
        ({"cursor": "s99:abc"}, "the cursor is not valid for get_contact_sheet"),
        ({"cursor": "garbage"}, "the cursor is not valid for get_contact_sheet"),
        ({"asset_ids": ["a"], "query": "b"}, "give asset_ids alone"),
        ({"asset_ids": [" "]}, "asset_id must not be empty"),
        ({"asset_ids": []}, "asset_ids is empty: give at least one asset id"),  # it showed every asset
        ({"album_id": "no-such-album"}, "album 'no-such-album' not found — list_albums shows valid ids"),
        ({"asset_ids": [f"id{i}" for i in range(49)]}, "asset_ids"),
        ({"created_after": "2020-01-01", "created_before": "2019-01-01"}, "created_after (2020-01-01) is later"),
    ],
)
async def test_bad_arguments_get_one_clear_error(arguments: dict[str, Any], message: str) -> None:
    async with Client(sandbox_server(), mode="legacy") as client:
        result = await client.call_tool("get_contact_sheet", arguments)
        still = await client.call_tool("list_api_links", {})
    assert result.is_error and not still.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert message in text and "Traceback" not in text


async def test_an_empty_listing_says_so_without_an_image() -> None:
    async with Client(sandbox_server(), mode="legacy") as client:
        result = await client.call_tool("get_contact_sheet", {"query": "zzzz-no-match"})
    assert not result.is_error and [type(b) for b in result.content] == [TextContent]
    assert "nothing to show" in result.content[0].text  # type: ignore[union-attr]


async def test_a_slow_preview_becomes_a_timed_out_cell_and_other_calls_answer_meanwhile() -> None:
    gate = anyio.Event()
    inner = sheet_upstream.mock_transport()

    class Slow(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if request.url.path.endswith("/colour-1/preview"):
                await gate.wait()  # never set: the preview hangs until the cell's deadline
            return await inner.handle_async_request(request)

    settings = Settings(base_url="https://api.test/api/asset", api_token=TOKEN, max_retries=0, timeout=2)
    server = build_server(settings, transport=Slow())
    order: list[str] = []
    async with Client(server, mode="legacy") as client:
        await client.call_tool("list_api_links", {})

        async def sheet() -> None:
            order.append(
                "sheet:"
                + open_sheet(await client.call_tool("get_contact_sheet", {"query": "colour", "limit": 3}))[2][1][
                    "problem"
                ]
            )

        async with anyio.create_task_group() as group:
            group.start_soon(sheet)
            await anyio.sleep(0.3)
            await client.call_tool("list_api_links", {})
            order.append("links")
    assert order == ["links", "sheet:preview timed out"]


def test_a_cell_without_picture_says_why_on_the_sheet() -> None:
    from footage_mcp.surface.sheets import compose

    layout = layout_for(2)
    cells = [Cell(1, "a", "A", "video", 12.0), Cell(2, "b", None, None, None, problem="no preview")]
    sheet = compose(cells, layout)
    assert sheet.size == layout.size
    x, y = layout.origin(1)
    region = sheet.crop((x, y, x + layout.cell_width, y + layout.picture_height)).convert("L")
    assert region.getextrema()[1] >= 240  # the label's white text is drawn on the placeholder


async def test_previews_are_decoded_and_the_sheet_drawn_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from footage_mcp.surface import sheets as sheet_module
    from footage_mcp.surface.tools import sheets as tool_module

    threads: list[str] = []
    decode, render = tool_module.decode_thumbnail, sheet_module.render_sheet

    def watched_decode(data: bytes, box: tuple[int, int]) -> Any:
        threads.append("decode:" + ("loop" if threading.current_thread() is threading.main_thread() else "worker"))
        return decode(data, box)

    def watched_render(cells: Any) -> Any:
        threads.append("render:" + ("loop" if threading.current_thread() is threading.main_thread() else "worker"))
        return render(cells)

    monkeypatch.setattr(tool_module, "decode_thumbnail", watched_decode)
    monkeypatch.setattr(sheet_module, "render_sheet", watched_render)
    async with Client(fake_server(), mode="legacy") as client:
        open_sheet(await client.call_tool("get_contact_sheet", {"query": "colour", "limit": 6}))
    assert sorted(threads) == ["decode:worker"] * 6 + ["render:worker"]
