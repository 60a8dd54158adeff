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

QueryText = Annotated[str | None, Field(max_length=MAX_TEXT_CHARS, description="Free text.")]
MediaTypeFilter = Annotated[
    Literal["image", "video", "audio", "document"] | None,
    Lowercase,
    Field(description="Only assets of this kind."),
]
AlbumFilter = Annotated[str | None, Text, Field(description="Only assets in this album.")]
LabelFilter = Annotated[str | None, Field(max_length=MAX_TEXT_CHARS, description="Only assets with this #label.")]
KeywordFilter = Annotated[
    str | None, Field(max_length=MAX_TEXT_CHARS, description="Only assets with this keyword (or a narrower one).")
]
CreatedAfter = Annotated[str | None, Field(description="Created on/after this ISO date: 2020-01-01, 2020-01 or 2020.")]
CreatedBefore = Annotated[
    str | None, Field(description="Created on/before this ISO date: 2023-12-31, 2023-12 or 2023.")
]


def search_filters(
    query: str | None,
    media_type: str | None,
    album_id: str | None,
    label: str | None,
    keyword: str | None,
    created_after: str | None,
    created_before: str | None,
) -> dict[str, str | None]:
    """The logical search filters (q, type, album, label, keyword, from, to) of the tool arguments.

    Raises:
        InvalidArgument: a bad album id or date, or created_after later than created_before.
    """
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
        raise InvalidArgument(f"created_after ({after[:10]}) is later than created_before ({before[:10]}); swap them")
    return filters


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Search assets",
        description=(
            "Search assets by text (keywords match synonyms and narrower places: 'France' finds 'Paris') and "
            "filters; returns summaries and next_cursor (with cursor, the rest is ignored). Terms: "
            "suggest_keywords; hits as one image: get_contact_sheet."
        ),
        annotations=READ_ONLY,
    )
    async def search_assets(
        ctx: Context[Any, Any],
        query: QueryText = None,
        media_type: MediaTypeFilter = None,
        album_id: AlbumFilter = None,
        label: LabelFilter = None,
        keyword: KeywordFilter = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, AssetList]:
        async def op(api: FootageApi) -> Listing[AssetList]:
            if cursor:  # a cursor continues the earlier search: its filters are inside it
                return await api.search_assets({}, limit=clamp_limit(limit), cursor=cursor)
            filters = search_filters(query, media_type, album_id, label, keyword, created_after, created_before)
            return await api.search_assets(filters, limit=clamp_limit(limit), cursor=cursor)

        return await guarded(ctx, op)
