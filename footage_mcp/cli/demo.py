"""``footage-mcp demo``: the whole path, no account needed.

Starts the sandbox on loopback, starts the bridge as a stdio subprocess the way an MCP host
does, drives it with the ``mcp`` SDK client, and prints what a person wants to see: the tools
offered, a search and its hits, an album with its first assets, one asset's details and its
preview, and one image downloaded to a temporary folder (never the user's Downloads).
"""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.types import CallToolResult, ImageContent

from footage_mcp.cli.launch import bridge_parameters, sandbox_process

SEARCH = "France"


def _structured(result: CallToolResult, tool: str) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        text = result.content[0].text if result.content and hasattr(result.content[0], "text") else "no content"
        raise RuntimeError(f"{tool} failed: {text}")
    data: dict[str, Any] = result.structured_content
    return data


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    return f" {minutes}:{secs:02d}"


def _asset_line(asset: dict[str, Any]) -> str:
    kind = asset.get("media_type") or "?"
    date = (asset.get("created") or "")[:10]
    name = asset.get("name") or "(untitled)"
    name = name if len(name) <= 48 else name[:47] + "…"
    return f"    {name:<48} {kind:<8}{_duration(asset.get('duration_seconds')):>7}  {date}  [{asset['id']}]"


async def run_demo(out: Any = sys.stdout) -> None:
    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    kept = Path(tempfile.mkdtemp(prefix="footage-demo-"))  # what the demo writes stays for a look
    downloads = str(kept)
    with sandbox_process() as sandbox:
        say(f"Sandbox Footage API: {sandbox.base_url} (token: {sandbox.token})")
        say("Starting the bridge over stdio: python -m footage_mcp serve")
        env = {"FOOTAGE_DOWNLOAD_DIR": downloads}
        async with Client(bridge_parameters(sandbox.base_url, sandbox.token, env)) as client:
            info = client.server_info
            say(
                f"Connected to {info.name if info else 'footage'} {info.version if info else ''}, "
                f"protocol {client.protocol_version}"
            )
            tools = (await client.list_tools()).tools
            say(f"\nTools offered ({len(tools)}):")
            for tool in tools:
                say(f"    {tool.name:<28} {tool.title or ''}")

            found = _structured(await client.call_tool("search_assets", {"query": SEARCH, "limit": 8}), "search")
            say(
                f"\nsearch_assets(query={SEARCH!r}): {found.get('total', len(found['assets']))} hits, first "
                f"{len(found['assets'])}:"
            )
            for asset in found["assets"]:
                say(_asset_line(asset))
            sheet = await client.call_tool("get_contact_sheet", {"query": SEARCH, "limit": 24})
            image = next((c for c in sheet.content if isinstance(c, ImageContent)), None)
            if image is not None and not sheet.is_error:
                path = kept / "contact-sheet-france.jpg"
                path.write_bytes(base64.b64decode(image.data))
                legend = next((c.text for c in sheet.content if hasattr(c, "text")), "").splitlines()
                say(f"\nget_contact_sheet(query={SEARCH!r}): {legend[0] if legend else ''}")
                for line in legend[1:5]:
                    say(f"    {line}")
                if len(legend) > 5:
                    say(f"    … ({len(legend) - 5} more legend lines)")
                say(f"    written to {path}")

            albums = _structured(await client.call_tool("list_albums", {"limit": 5}), "list_albums")
            first = albums["albums"][0]
            album = _structured(await client.call_tool("get_album", {"album_id": first["id"]}), "get_album")
            say(f"\nAlbum {album.get('name')!r} [{album['id']}] — {album.get('asset_count', '?')} assets")
            if album.get("description"):
                say(f"    {album['description']}")
            if album.get("keywords"):
                say(f"    keywords: {', '.join(album['keywords'])}")
            listing = _structured(
                await client.call_tool("list_album_assets", {"album_id": album["id"], "limit": 5}), "list_album_assets"
            )
            say("  first assets:")
            for asset in listing["assets"]:
                say(_asset_line(asset))

            asset_id = found["assets"][0]["id"] if found["assets"] else listing["assets"][0]["id"]
            asset = _structured(await client.call_tool("get_asset", {"asset_id": asset_id}), "get_asset")
            say(f"\nAsset {asset.get('name')!r} [{asset['id']}]")
            for key in (
                "media_type",
                "mime_type",
                "size_bytes",
                "duration_seconds",
                "width",
                "height",
                "created",
                "description",
            ):
                if asset.get(key) is not None:
                    say(f"    {key:<17} {asset[key]}")
            for key in ("keywords", "labels", "albums"):
                if asset.get(key):
                    say(f"    {key:<17} {', '.join(asset[key])}")
            for rel in asset.get("relations") or []:
                span = ""
                if rel.get("time_in_seconds") is not None:
                    span = f" at {rel['time_in_seconds']}–{rel.get('time_out_seconds')} s"
                say(f"    relation          {rel['type']} → {rel.get('target_id')}{span}")

            preview = await client.call_tool("get_asset_preview", {"asset_id": asset_id})
            image = next((c for c in preview.content if isinstance(c, ImageContent)), None)
            if image is not None and not preview.is_error:
                say(f"    preview           {image.mime_type}, {len(image.data) * 3 // 4} bytes")
            await _download(client, found["assets"] or listing["assets"], say)
            say("\nDone: the bridge answered every call over stdio from the sandbox's REST API.")
            say(f"The contact sheet and the download are kept in {kept} (delete it when done).")


async def _download(client: Client, assets: list[dict[str, Any]], say: Any) -> None:
    """Download the first image of ``assets`` (a few MB) and say where it went."""
    image = next((a for a in assets if a.get("media_type") == "image"), assets[0])
    result = _structured(await client.call_tool("download_asset", {"asset_id": image["id"]}), "download_asset")
    path = Path(result["path"])
    say(f"\ndownload_asset({image['id']!r}): {result['size_bytes']:,} bytes, {result.get('mime_type')}")
    say(f"    saved to          {path}")
    say(f"    sha256            {result['sha256']}")
    say(f"    on disk           {path.stat().st_size:,} bytes")


def main() -> int:
    try:
        anyio.run(run_demo)
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
