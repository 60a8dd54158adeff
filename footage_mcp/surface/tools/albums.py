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
            "List the library's albums, optionally matching a text: id, name, short description, asset count, "
            "and next_cursor. Use an id with get_album or list_album_assets."
        ),
        annotations=READ_ONLY,
    )
    async def list_albums(
        ctx: Context[Any, Any],
        query: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="Text in album names or descriptions.")
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, AlbumList]:
        return await guarded(ctx, lambda api: api.list_albums(query=query, limit=clamp_limit(limit), cursor=cursor))

    @mcp.tool(
        title="Get album",
        description=(
            "Get one album: name, description, asset count, dates, keywords, labels (its assets: list_album_assets)."
        ),
        annotations=READ_ONLY,
    )
    async def get_album(ctx: Context[Any, Any], album_id: AlbumId) -> Annotated[CallToolResult, Album]:
        return await guarded(ctx, lambda api: api.get_album(check_id(album_id, "album")))

    @mcp.tool(
        title="List album assets",
        description=(
            "List one album's assets in order (id, name, media type, duration, date, short description) and "
            "next_cursor; details: get_asset."
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
