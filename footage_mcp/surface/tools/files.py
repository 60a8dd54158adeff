"""File tools: download_asset (always registered) and upload_assets (a write tool: only with
FOOTAGE_ALLOW_WRITES=true and FOOTAGE_UPLOAD_DIRS set). The bytes never pass through the model: they go
between the API and the local disk (:mod:`footage_mcp.rest.download`, :mod:`footage_mcp.rest.upload`).

A transfer is not bound by the call budget of the read tools (a large file takes as long as it takes);
it stops when no data moves for FOOTAGE_TIMEOUT seconds. Progress notifications go out when the request
carries a progress token; cancelling a download keeps its ``.part`` file for a resume.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ResourceLink, ToolAnnotations
from pydantic import BaseModel, Field

from footage_mcp.core.settings import Settings
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.download import ORIGINAL, Downloader
from footage_mcp.rest.file_models import DownloadResult, UploadReport
from footage_mcp.rest.files import check_download_dir, resolve_upload_path, select_upload_files, upload_roots
from footage_mcp.rest.upload import CONFIRM_ABOVE_FILES, Uploader
from footage_mcp.surface.context import api_of
from footage_mcp.surface.guard import failure_result, redact_result
from footage_mcp.surface.params import MAX_TEXT_CHARS, AlbumId, AssetId, Text, check_id
from footage_mcp.surface.render import to_result

log = logging.getLogger("footage_mcp.surface.tools")

DOWNLOAD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
"""download_asset writes a new local file on every call (interface.md 0.2): not read-only, not destructive,
not idempotent."""
UPLOAD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
"""upload_assets creates assets: additive, not idempotent (interface.md 0.2)."""

_downloaders: weakref.WeakKeyDictionary[FootageApi, Downloader] = weakref.WeakKeyDictionary()
_uploaders: weakref.WeakKeyDictionary[FootageApi, Uploader] = weakref.WeakKeyDictionary()

T = TypeVar("T")

Rendition = Annotated[
    Annotated[str, Field(max_length=64)] | None,
    Text,
    Field(
        description="'original' (default), 'preview', or a rendition get_asset lists (e.g. 'web').",
    ),
]


def _megabytes(n: float) -> str:
    return f"{n / 1_000_000:.1f} MB"


async def _transfer(
    ctx: Context[Any, Any],
    op: Callable[[FootageApi], Awaitable[BaseModel]],
    finish: Callable[[BaseModel, CallToolResult], CallToolResult] | None = None,
) -> CallToolResult:
    """Run a transfer: its result rendered within the output budget, a failure as one ``isError`` line."""
    api = api_of(ctx)
    settings = api.rest.settings
    try:
        model = await op(api)
        result = to_result(model, settings.output_budget, api.rest.redactor)  # redacts as it renders
        if finish is not None:  # what finish adds is redacted too
            result = redact_result(finish(model, result), api.rest.redactor)
    except Exception as exc:  # no call budget: a transfer takes as long as its bytes need
        result = redact_result(failure_result(exc), api.rest.redactor)
    return result


def _with_link(model: BaseModel, result: CallToolResult) -> CallToolResult:
    assert isinstance(model, DownloadResult)
    path = Path(model.path)
    link = ResourceLink(
        type="resource_link",
        name=path.name,
        uri=path.as_uri(),
        mime_type=model.mime_type,
        size=model.size_bytes,
        description=f"asset {model.asset_id}, {model.rendition}",
    )
    return CallToolResult(
        content=[*result.content, link], structured_content=result.structured_content, is_error=result.is_error
    )


def register(mcp: Any, settings: Settings) -> None:
    """Register download_asset, and upload_assets when writes and upload folders are configured.

    Raises:
        ConfigError: FOOTAGE_DOWNLOAD_DIR is a relative path, or FOOTAGE_UPLOAD_DIRS names a relative or
            missing folder (with writes allowed).
    """
    server: MCPServer[Any] = mcp
    check_download_dir(settings.download_dir)

    @server.tool(
        title="Download asset",
        description=(
            "Save an asset's original (or preview, or a rendition) to the download folder "
            "(FOOTAGE_DOWNLOAD_DIR): returns path, size, MIME type, SHA-256. Streamed to disk, not through the "
            "model; never overwrites; an interrupted download resumes on the next call."
        ),
        annotations=DOWNLOAD,
    )
    async def download_asset(
        ctx: Context[Any, Any], asset_id: AssetId, rendition: Rendition = None
    ) -> Annotated[CallToolResult, DownloadResult]:
        async def op(api: FootageApi) -> DownloadResult:
            checked = check_id(asset_id, "asset")
            downloader = _downloaders.get(api)
            if downloader is None:
                downloader = _downloaders[api] = Downloader(api)

            async def progress(done: int, total: int | None) -> None:
                of = f" of {_megabytes(total)}" if total else ""
                await ctx.report_progress(done, total, f"{_megabytes(done)}{of}")

            return await downloader.download(checked, (rendition or ORIGINAL).strip() or ORIGINAL, progress=progress)

        return await _transfer(ctx, op, _with_link)

    if not (settings.allow_writes and settings.upload_dirs):
        return
    roots = upload_roots(settings.upload_dirs)
    folders = ", ".join(str(r) for r in roots)

    @server.tool(
        title="Upload assets",
        description=(
            "Upload a local file, or a folder's media files (not subfolders or hidden files; at most 500), from "
            f"the upload folders ({folders}) as new assets, optionally into an album with labels. Per file: "
            "uploaded (new id), skipped (same name and size already in the album) or failed and why. Over "
            f"{CONFIRM_ABOVE_FILES} files need confirm=true; without it: a dry run."
        ),
        annotations=UPLOAD,
    )
    async def upload_assets(
        ctx: Context[Any, Any],
        path: Annotated[
            str,
            Field(
                max_length=4096,
                description="A file or folder inside the upload folders: absolute, or relative to the first one.",
            ),
        ],
        album_id: Annotated[
            AlbumId | None, Field(description="Album to add the new assets to (an id from list_albums).")
        ] = None,
        labels: Annotated[
            list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] | None,
            Field(
                max_length=20,
                description="Labels (#hashtags) to give every new asset, e.g. ['#drone'].",
            ),
        ] = None,
        confirm: Annotated[
            bool, Field(description=f"Required (true) to upload more than {CONFIRM_ABOVE_FILES} files in one call.")
        ] = False,
    ) -> Annotated[CallToolResult, UploadReport]:
        async def op(api: FootageApi) -> UploadReport:
            album = check_id(album_id, "album") if album_id is not None else None
            target = resolve_upload_path(path, roots)
            selection = select_upload_files(target, roots)
            uploader = _uploaders.get(api)
            if uploader is None:
                uploader = _uploaders[api] = Uploader(api)

            async def progress(done: int, total: int, message: str) -> None:
                await ctx.report_progress(done, total, message)

            return await uploader.upload(
                selection, album_id=album, labels=labels or [], confirm=confirm, progress=progress
            )

        return await _transfer(ctx, op)
