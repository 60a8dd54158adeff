"""Search tool: search_assets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from footage_mcp.core.errors import InvalidArgument
from footage_mcp.rest.api import FootageApi, Listing
from footage_mcp.rest.models import AssetList
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded
from footage_mcp.surface.params import (
    DEFAULT_LIMIT,
    MAX_TEXT_CHARS,
    Cursor,
    Limit,
    Lowercase,
    Text,
    check_date,
    check_id,
    clamp_limit,
)


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Search assets",
        description=(
            "Search the library's assets by free text (titles, descriptions, keywords; keywords match "
            "synonyms and narrower places, so 'France' also finds 'Paris') and filters: media type, album, "
            "label, keyword and creation date range. Returns asset summaries and a next_cursor; when "
            "cursor is given, it continues the earlier search and the other arguments are ignored."
        ),
        annotations=READ_ONLY,
    )
    async def search_assets(
        ctx: Context[Any, Any],
        query: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="Free text, e.g. 'eiffel tower night'.")
        ] = None,
        media_type: Annotated[
            Literal["image", "video", "audio", "document"] | None,
            Lowercase,
            Field(description="Only assets of this kind."),
        ] = None,
        album_id: Annotated[
            str | None, Text, Field(description="Only assets in this album (id from list_albums).")
        ] = None,
        label: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="Only assets with this #label, e.g. 'editorial'.")
        ] = None,
        keyword: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="Only assets with this keyword or a narrower one.")
        ] = None,
        created_after: Annotated[
            str | None,
            Field(description="Only assets created on/after this ISO date, e.g. 2020-01-01, 2020-01 or 2020."),
        ] = None,
        created_before: Annotated[
            str | None,
            Field(description="Only assets created on/before this ISO date, e.g. 2023-12-31, 2023-12 or 2023."),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, AssetList]:
        async def op(api: FootageApi) -> Listing[AssetList]:
            if cursor:  # a cursor continues the earlier search: its filters are inside it
                return await api.search_assets({}, limit=clamp_limit(limit), cursor=cursor)
            filters = {
                "q": query.strip() if query else None,
                "type": media_type,
                "album": check_id(album_id, "album") if album_id else None,
                "label": label.strip() if label else None,
                "keyword": keyword.strip() if keyword else None,
                "from": check_date(created_after, "created_after"),
                "to": check_date(created_before, "created_before", end=True),
            }
            after, before = filters["from"], filters["to"]
            if after and before and after[:10] > before[:10]:
                raise InvalidArgument(
                    f"created_after ({after[:10]}) is later than created_before ({before[:10]}); swap them"
                )
            return await api.search_assets(filters, limit=clamp_limit(limit), cursor=cursor)

        return await guarded(ctx, op)
