"""Asset tools: get_asset, get_asset_preview."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent

from footage_mcp.core.errors import BadResponse
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.http import release_memory
from footage_mcp.rest.models import Asset
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded
from footage_mcp.surface.imaging import PASSTHROUGH_TYPES, UnreadableImage, check_head, fit_preview_async
from footage_mcp.surface.params import AssetId, check_id


async def preview_image(
    api: FootageApi, asset_id: str, formats: tuple[str, ...] = PASSTHROUGH_TYPES
) -> tuple[bytes, str, int, int]:
    """The asset's preview rendition, re-encoded for a model without metadata (see
    :mod:`footage_mcp.surface.imaging`; decoded in a worker thread, bounded in pixels).

    Raises:
        NotFound: no such asset or no preview. BadResponse: not an image, too many pixels, corrupt.
    """
    reason: str | None = None
    try:
        data, mime = await api.get_preview(asset_id, head_check=check_head)
    except UnreadableImage as exc:  # refused from its first bytes: the rest was never read
        reason, data, mime = exc.reason, b"", ""
    if reason is None:
        try:
            image = await fit_preview_async(data, mime, formats)
        except UnreadableImage as exc:  # raised below, outside this block: no traceback keeps the body alive
            reason = exc.reason
    held = len(data)
    del data
    if reason is not None:
        if held >= 1024 * 1024:  # a large refused body: hand its pages back (a head refusal read 64 KiB)
            release_memory()
        raise BadResponse(
            f"the preview of asset '{asset_id}' {reason}; the service is at fault, retrying is unlikely to help"
        )
    return image.data, image.mime_type, image.width, image.height


def register(mcp: Any) -> None:
    server: MCPServer[Any] = mcp

    @server.tool(
        title="Get asset",
        description=(
            "Get one asset's details: name, media and MIME type, size, duration, pixel size, dates, "
            "description, keywords, labels, albums, relations, preview, and renditions (for download_asset)."
        ),
        annotations=READ_ONLY,
    )
    async def get_asset(ctx: Context[Any, Any], asset_id: AssetId) -> Annotated[CallToolResult, Asset]:
        return await guarded(ctx, lambda api: api.get_asset(check_id(asset_id, "asset")))

    @server.tool(
        title="Get asset preview",
        description=("Show an asset's preview image (a video's poster frame; ≤ 768 px) to look at a shot."),
        annotations=READ_ONLY,
    )
    async def get_asset_preview(ctx: Context[Any, Any], asset_id: AssetId) -> CallToolResult:
        async def op(api: FootageApi) -> CallToolResult:
            checked = check_id(asset_id, "asset")
            data, mime, width, height = await preview_image(api, checked)
            return CallToolResult(
                content=[
                    ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mime_type=mime),
                    TextContent(type="text", text=f"Preview of asset {checked} ({width}×{height}, {mime})"),
                ]
            )

        return await guarded(ctx, op)
