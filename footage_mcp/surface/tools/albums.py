"""Album tools: list_albums, get_album, list_album_assets."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from footage_mcp.rest.models import Album, AlbumList, AssetList
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded
from footage_mcp.surface.params import DEFAULT_LIMIT, MAX_TEXT_CHARS, AlbumId, Cursor, Limit, check_id, clamp_limit


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="List albums",
        description=(
            "List the albums of the Footage library, optionally filtered by a text query on name and "
            "description. Returns album summaries (id, name, short description, asset count) and a "
            "next_cursor for the following page. Use an album id with get_album or list_album_assets."
        ),
        annotations=READ_ONLY,
    )
    async def list_albums(
        ctx: Context[Any, Any],
        query: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="Text to match in album names/descriptions.")
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, AlbumList]:
        return await guarded(ctx, lambda api: api.list_albums(query=query, limit=clamp_limit(limit), cursor=cursor))

    @mcp.tool(
        title="Get album",
        description=(
            "Get one album's details: name, description, asset count, dates, keywords and labels. "
            "Use list_album_assets to see the assets in it."
        ),
        annotations=READ_ONLY,
    )
    async def get_album(ctx: Context[Any, Any], album_id: AlbumId) -> Annotated[CallToolResult, Album]:
        return await guarded(ctx, lambda api: api.get_album(check_id(album_id, "album")))

    @mcp.tool(
        title="List album assets",
        description=(
            "List the assets in one album, in album order: id, name, media type, duration, date and a "
            "one-line description each, plus a next_cursor for the following page. Use get_asset for "
            "details or get_asset_preview to look at one."
        ),
        annotations=READ_ONLY,
    )
    async def list_album_assets(
        ctx: Context[Any, Any],
        album_id: AlbumId,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, AssetList]:
        return await guarded(
            ctx, lambda api: api.list_album_assets(check_id(album_id, "album"), limit=clamp_limit(limit), cursor=cursor)
        )
