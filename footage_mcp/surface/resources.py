"""MCP resources (interface.md, 'Resources').

=====================================  ====================================
URI                                    content
=====================================  ====================================
footage://albums                       first page of albums (JSON)
footage://albums/{album_id}            one album (JSON)
footage://assets/{asset_id}            one asset (JSON)
footage://assets/{asset_id}/preview    the preview image (blob)
footage://archive/configuration        the public archive configuration (JSON)
=====================================  ====================================

A failure becomes a JSON-RPC error with the same short message a tool would give
(-32602 for a missing album/asset, as the SDK maps ``ResourceNotFoundError``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from footage_mcp.core.errors import FootageError, NotFound
from footage_mcp.rest.api import FootageApi, Listing
from footage_mcp.rest.models import ArchiveConfiguration
from footage_mcp.surface.context import server_api
from footage_mcp.surface.guard import within_budget
from footage_mcp.surface.hints import explain
from footage_mcp.surface.params import DEFAULT_LIMIT, check_id
from footage_mcp.surface.render import to_result
from footage_mcp.surface.tools.assets import preview_image

T = TypeVar("T")
JSON = "application/json"


async def _safe(api: FootageApi, op: Callable[[FootageApi], Awaitable[T]]) -> T:
    """Run ``op`` within the call budget; map failures to the SDK's resource errors."""
    try:
        result = await within_budget(api, op)
        return cast(T, api.rest.redactor.text(result)) if isinstance(result, str) else result
    except NotFound as exc:
        raise ResourceNotFoundError(explain(exc)) from None
    except FootageError as exc:
        raise ResourceError(explain(exc)) from None


def _json(outcome: BaseModel | Listing[Any], api: FootageApi) -> str:
    """The same compact JSON within the same output budget as the matching tool's result."""
    result = to_result(outcome, api.rest.settings.output_budget, api.rest.redactor)
    return json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))


def register(mcp: MCPServer[Any], api_of: Callable[[], FootageApi]) -> None:
    """Add the resources; ``api_of`` returns the lifespan's API (static resources get no Context; the
    templates reach the same API through theirs, :func:`~footage_mcp.surface.context.server_api`)."""

    @mcp.resource(
        "footage://albums",
        name="albums",
        title="Albums",
        mime_type=JSON,
        description="The first page of albums (id, name, short description, asset count).",
    )
    async def albums_resource() -> str:
        api = api_of()
        return _json(await _safe(api, lambda a: a.list_albums(query=None, limit=DEFAULT_LIMIT, cursor=None)), api)

    # the templates are module-level functions (their definitions derived once per process, see
    # surface.tooldefs); they reach this server's API through their Context
    mcp.resource(
        "footage://albums/{album_id}", name="album", title="Album", mime_type=JSON, description="One album's details."
    )(album_resource)
    mcp.resource(
        "footage://assets/{asset_id}", name="asset", title="Asset", mime_type=JSON, description="One asset's details."
    )(asset_resource)
    mcp.resource(
        "footage://assets/{asset_id}/preview",
        name="asset_preview",
        title="Asset preview",
        mime_type="image/jpeg",
        description="The asset's preview image, at most 768 px on the long edge.",
    )(preview_resource)

    @mcp.resource(
        "footage://archive/configuration",
        name="archive_configuration",
        title="Archive configuration",
        mime_type=JSON,
        description="The public archive configuration (no token needed).",
    )
    async def archive_resource() -> str:
        async def op(api: FootageApi) -> ArchiveConfiguration:
            return ArchiveConfiguration(configuration=await api.archive_configuration())

        api = api_of()
        return _json(await _safe(api, op), api)


async def album_resource(album_id: str, ctx: Context[Any, Any]) -> str:
    api = server_api(ctx)
    return _json(await _safe(api, lambda a: a.get_album(check_id(album_id, "album"))), api)


async def asset_resource(asset_id: str, ctx: Context[Any, Any]) -> str:
    api = server_api(ctx)
    return _json(await _safe(api, lambda a: a.get_asset(check_id(asset_id, "asset"))), api)


async def preview_resource(asset_id: str, ctx: Context[Any, Any]) -> bytes:
    async def op(api: FootageApi) -> bytes:
        data, _mime, _w, _h = await preview_image(api, check_id(asset_id, "asset"), formats=("image/jpeg",))
        return data

    return await _safe(server_api(ctx), op)
