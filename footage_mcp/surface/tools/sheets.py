"""Contact-sheet tool: get_contact_sheet (many previews in one numbered image, plus a text legend).

The assets come from ``asset_ids``, an album, or a search with the filters of search_assets. Their
previews are fetched concurrently (at most :data:`PREVIEW_CONCURRENCY` at a time) and decoded in
worker threads, so the event loop keeps answering other calls while a sheet is made; the grid is
drawn and encoded in a worker thread too (:mod:`footage_mcp.surface.sheets`). A preview that is
missing, broken, too large or too slow becomes a labelled placeholder cell: the sheet never fails
because of one asset.

The result is ONE image block and ONE text block (the legend ``n → id, "name", media type,
duration`` and ``next_cursor``), and no structured content: some clients drop images when structured
content is present.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from footage_mcp.core.errors import FootageError, InvalidArgument, InvalidCursor, NotFound, TransportError
from footage_mcp.core.redact import redact_text
from footage_mcp.core.text import one_line
from footage_mcp.rest.api import FootageApi, Listing
from footage_mcp.rest.models import AssetList, AssetSummary
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded
from footage_mcp.surface.params import Cursor, Text, check_id
from footage_mcp.surface.sheets import MAX_CELLS, Cell, PreviewProblem, decode_thumbnail, format_duration, layout_for
from footage_mcp.surface.tools.search import (
    CreatedAfter,
    CreatedBefore,
    KeywordFilter,
    LabelFilter,
    MediaTypeFilter,
    QueryText,
    search_filters,
)

DEFAULT_SHEET_LIMIT = 24
PREVIEW_CONCURRENCY = 8
"""Previews fetched (and decoded) at the same time for one sheet."""
PREVIEW_SECONDS = 15.0
"""A preview that takes longer (or FOOTAGE_TIMEOUT, if shorter) becomes a "preview timed out" cell."""
MAX_NAME_CHARS = 120
"""Names in the legend are cut to this many characters."""

SheetLimit = Annotated[
    int | None,
    Field(description=f"Assets per sheet, 1–{MAX_CELLS} (default {DEFAULT_SHEET_LIMIT}); ignored with asset_ids."),
]


@dataclass(frozen=True, slots=True)
class Entry:
    """An asset to show: what the legend says about it, or why it could not be read."""

    asset_id: str
    name: str | None
    media_type: str | None
    duration_seconds: float | None
    problem: str | None = None


def clamp_sheet_limit(limit: int | None) -> int:
    return DEFAULT_SHEET_LIMIT if limit is None else max(1, min(MAX_CELLS, int(limit)))


# ---------------------------------------------------------------- sheet cursors
# A sheet cursor is the listing's own cursor (signed by the API layer) with the listing's kind and the
# sheet size in front: "s24:" for a search, "a48:<album id, base64url>:" for an album. Editing the album
# id cannot redirect the cursor: the inner cursor is signed for its own album and refuses another.


def wrap_cursor(inner: str | None, album_id: str | None, limit: int) -> str | None:
    if inner is None:
        return None
    if album_id is None:
        return f"s{limit}:{inner}"
    return f"a{limit}:{base64.urlsafe_b64encode(album_id.encode()).decode().rstrip('=')}:{inner}"


_BAD_CURSOR = (
    "the cursor is not valid for get_contact_sheet: pass the next_cursor of the previous sheet unchanged, "
    "or omit it to start again"
)


def unwrap_cursor(cursor: str) -> tuple[str | None, int | None, str]:
    """(album id or None for a search, the sheet size it was made for, the listing's cursor). A cursor
    without a prefix is taken as a search's (a next_cursor of search_assets). Raises InvalidCursor."""
    text = cursor.strip()
    if ":" not in text:
        return None, None, text
    head, _, rest = text.partition(":")
    kind, digits = head[:1], head[1:]
    if not (digits.isdigit() and 1 <= int(digits) <= MAX_CELLS) or not rest:
        raise InvalidCursor(_BAD_CURSOR)
    if kind == "s":
        return None, int(digits), rest
    if kind == "a":
        encoded, _, inner = rest.partition(":")
        try:
            album_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise InvalidCursor(_BAD_CURSOR) from None
        if album_id and inner:
            return album_id, int(digits), inner
    raise InvalidCursor(_BAD_CURSOR)


# ---------------------------------------------------------------- gathering


def _entry(summary: AssetSummary) -> Entry:
    return Entry(summary.id, summary.name, summary.media_type, summary.duration_seconds)


async def _listing(
    api: FootageApi, album_id: str | None, filters: dict[str, str | None] | None, limit: int, cursor: str | None
) -> Listing[AssetList]:
    try:
        if album_id is not None:
            return await api.list_album_assets(album_id, limit=limit, cursor=cursor)
        return await api.search_assets(filters or {}, limit=limit, cursor=cursor)
    except InvalidCursor:
        raise InvalidCursor(_BAD_CURSOR) from None


async def _entries_for_ids(api: FootageApi, asset_ids: Sequence[str]) -> list[Entry]:
    """One entry per id, in order, read concurrently; an unreadable asset is an entry with a problem."""
    entries: list[Entry | None] = [None] * len(asset_ids)
    limiter = anyio.CapacityLimiter(PREVIEW_CONCURRENCY)

    async def read(index: int, asset_id: str) -> None:
        async with limiter:
            try:
                asset = await api.get_asset(asset_id)
                entries[index] = Entry(asset.id, asset.name, asset.media_type, asset.duration_seconds)
            except NotFound:
                entries[index] = Entry(asset_id, None, None, None, "asset not found")
            except FootageError:
                entries[index] = Entry(asset_id, None, None, None, "asset unreadable")

    async with anyio.create_task_group() as group:
        for index, asset_id in enumerate(asset_ids):
            group.start_soon(read, index, asset_id)
    return [e for e in entries if e is not None]


async def _cells(api: FootageApi, entries: Sequence[Entry]) -> list[Cell]:
    """The cells of ``entries``: previews fetched and decoded concurrently, each bounded in time."""
    box = layout_for(len(entries)).picture_box
    limiter = anyio.CapacityLimiter(PREVIEW_CONCURRENCY)
    deadline = min(PREVIEW_SECONDS, api.rest.settings.timeout)
    secret = api.rest.token
    cells: list[Cell | None] = [None] * len(entries)

    def clean(name: str | None) -> str | None:
        """One line (control characters, a terminal escape among them, become spaces; invisible code
        points go), the token redacted in every encoding first, then cut to :data:`MAX_NAME_CHARS`."""
        if name is None:
            return None
        return one_line(redact_text(name, secret), MAX_NAME_CHARS)

    async def fill(index: int, entry: Entry) -> None:
        picture, problem = None, entry.problem
        if problem is None:
            async with limiter:
                with anyio.move_on_after(deadline) as scope:
                    try:
                        data, _mime = await api.get_preview(entry.asset_id)
                        picture = await anyio.to_thread.run_sync(decode_thumbnail, data, box)
                    except PreviewProblem as exc:
                        problem = str(exc)
                    except NotFound:
                        problem = "no preview"
                    except TransportError:
                        problem = "preview unreachable"
                    except FootageError:
                        problem = "preview unreadable"
                if scope.cancelled_caught:
                    problem = "preview timed out"
        cells[index] = Cell(
            number=index + 1,
            asset_id=entry.asset_id,
            name=clean(entry.name),
            media_type=entry.media_type,
            duration_seconds=entry.duration_seconds,
            picture=picture,
            problem=problem,
        )

    async with anyio.create_task_group() as group:
        for index, entry in enumerate(entries):
            group.start_soon(fill, index, entry)
    return [c for c in cells if c is not None]


# ---------------------------------------------------------------- the result


def legend(cells: Sequence[Cell], heading: str, next_cursor: str | None, notes: Sequence[str]) -> str:
    """The text block: a heading, ``n → id, "name", media type, duration`` per cell, and next_cursor."""
    lines = [heading]
    for cell in cells:
        quoted = json.dumps(cell.name, ensure_ascii=False) if cell.name is not None else "(no name)"  # \" inside
        parts = [cell.asset_id, quoted]
        parts.append(cell.media_type or "unknown type")
        duration = format_duration(cell.duration_seconds)
        if duration:
            parts.append(duration)
        line = f"{cell.number} → " + ", ".join(parts)
        if cell.problem:
            line += f" [{cell.problem}]"
        lines.append(line)
    lines.extend(f"note: {note}" for note in notes if note)
    if next_cursor:
        lines.append(f"next_cursor: {next_cursor}")
        lines.append("(pass it as cursor to get_contact_sheet for the next sheet of the same listing)")
    else:
        lines.append("next_cursor: null")
        lines.append("(this is the last sheet of the listing)")
    return "\n".join(lines)


async def contact_sheet(
    api: FootageApi,
    *,
    asset_ids: Sequence[str] | None,
    album_id: str | None,
    filters: dict[str, str | None] | None,
    limit: int,
    cursor: str | None,
    source: str,
) -> CallToolResult:
    """The finished result (see the module docstring). Raises FootageError for bad arguments, an
    unknown album or a failed listing; never for a preview."""
    from footage_mcp.surface.sheets import render_sheet  # Pillow is imported by the worker

    notes: list[str] = []
    next_cursor: str | None = None
    total: int | None = None
    if asset_ids:
        entries = await _entries_for_ids(api, asset_ids)
    else:
        listing = await _listing(api, album_id, filters, limit, cursor)
        entries = [_entry(a) for a in listing.result.assets]
        next_cursor = wrap_cursor(listing.result.next_cursor, album_id, limit)
        total = listing.result.total
        if listing.result.note:
            notes.append(listing.result.note)
    if not entries:
        message = "nothing to show: the listing is empty" if cursor is None else "nothing more to show"
        return CallToolResult(content=[TextContent(type="text", text=f"{message} ({source}); next_cursor: null")])
    cells = await _cells(api, entries)
    data, width, height, quality = await anyio.to_thread.run_sync(render_sheet, cells)
    layout = layout_for(len(cells))
    count = f"{len(cells)} of {total} assets" if total is not None else f"{len(cells)} asset{'s' * (len(cells) != 1)}"
    heading = (
        f"Contact sheet of {count} ({source}): {layout.cols}×{layout.rows} grid, "
        f"{width}×{height} px JPEG, {len(data)} bytes (quality {quality}). Cells are numbered left to right, "
        "top to bottom:"
    )
    return CallToolResult(
        content=[
            ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mime_type="image/jpeg"),
            TextContent(type="text", text=legend(cells, heading, next_cursor, notes)),
        ]
    )


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Get contact sheet",
        description=(
            "See many assets in ONE image: previews in a numbered grid (media type, duration on each cell) and "
            "a legend 'n → id, name, media type, duration'. Give asset_ids, album_id, or search_assets' "
            "filters; the legend's next_cursor gives the next sheet."
        ),
        annotations=READ_ONLY,
    )
    async def get_contact_sheet(
        ctx: Context[Any, Any],
        asset_ids: Annotated[
            list[Annotated[str, Text]] | None,
            Field(
                max_length=MAX_CELLS,
                description=f"Asset ids to show, in this order (at most {MAX_CELLS}).",
            ),
        ] = None,
        album_id: Annotated[
            str | None, Text, Field(description="Show this album's assets (id from list_albums).")
        ] = None,
        query: QueryText = None,
        media_type: MediaTypeFilter = None,
        label: LabelFilter = None,
        keyword: KeywordFilter = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        limit: SheetLimit = None,
        cursor: Cursor = None,
    ) -> CallToolResult:
        async def op(api: FootageApi) -> CallToolResult:
            size = clamp_sheet_limit(limit)
            if cursor:
                sheet_album, sheet_size, inner = unwrap_cursor(cursor)
                size = clamp_sheet_limit(limit if limit is not None else sheet_size)
                if sheet_album is not None:
                    sheet_album = check_id(sheet_album, "album")
                where = f"album {sheet_album}" if sheet_album else "search"
                return await contact_sheet(
                    api,
                    asset_ids=None,
                    album_id=sheet_album,
                    filters=None,
                    limit=size,
                    cursor=inner,
                    source=f"{where}, continued",
                )
            if asset_ids is not None:
                if not asset_ids:  # [] is not "no ids given": it would have shown every asset
                    raise InvalidArgument(
                        "asset_ids is empty: give at least one asset id, or leave asset_ids out to show an album "
                        "or a search"
                    )
                ids = [check_id(i, "asset") for i in asset_ids]
                if album_id or query or media_type or label or keyword or created_after or created_before:
                    raise InvalidArgument(
                        "give asset_ids alone, or album_id, or a search (query and filters), not several of them"
                    )
                return await contact_sheet(
                    api,
                    asset_ids=ids,
                    album_id=None,
                    filters=None,
                    limit=size,
                    cursor=None,
                    source=f"{len(ids)} asset ids",
                )
            searching = any(v for v in (query, media_type, label, keyword, created_after, created_before))
            if album_id and not searching:
                checked = check_id(album_id, "album")
                return await contact_sheet(
                    api,
                    asset_ids=None,
                    album_id=checked,
                    filters=None,
                    limit=size,
                    cursor=None,
                    source=f"album {checked}",
                )
            filters = search_filters(query, media_type, album_id, label, keyword, created_after, created_before)
            shown = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v) or "all assets"
            return await contact_sheet(
                api,
                asset_ids=None,
                album_id=None,
                filters=filters,
                limit=size,
                cursor=None,
                source=f"search {shown}",
            )

        return await guarded(ctx, op)
