"""What to do next, in MCP terms: the hints the surface adds to the domain layer's errors.

:mod:`footage_mcp.rest.api` raises structured errors that name no tool (``NotFound(kind="album",
id="x")`` says "album 'x' not found"); :func:`explain` is the one place that knows which tool helps
("list_albums shows valid ids"). Tools, resources and prompts all report errors through it.
"""

from __future__ import annotations

from collections.abc import Mapping

from footage_mcp.core.errors import BadResponse, FootageError, InvalidCursor, NotFound

NOT_FOUND_HINTS: Mapping[str, str] = {
    "album": "list_albums shows valid ids",
    "asset": "search_assets or list_album_assets shows valid ids",
    "preview": "get_asset shows its details",
    "path": "list_api_links shows the API's routes",
}
"""``NotFound.kind`` → the hint after the message."""

NOT_JSON_HINTS: Mapping[str, str] = {
    "image": "api_get reads JSON only (use get_asset_preview for previews)",
    "binary": "api_get reads JSON only",
}
"""``BadResponse.kind`` of a path that answers with something other than JSON → the hint."""

LISTING_TOOLS: Mapping[str, str] = {
    "albums": "list_albums",
    "albumAssets": "list_album_assets",
    "search": "search_assets",
}
"""``InvalidCursor.listing`` (a route key) → the tool that lists it."""


def explain(exc: FootageError) -> str:
    """``exc``'s message with the hint for its kind, if it has one: ``album 'x' not found — list_albums
    shows valid ids``; ``the cursor has expired (...): start the search again — call search_assets
    without cursor``."""
    kind = (exc.kind if isinstance(exc, NotFound | BadResponse) else None) or ""
    if isinstance(exc, NotFound) and kind in NOT_FOUND_HINTS:
        return f"{exc.message} — {NOT_FOUND_HINTS[kind]}"
    if isinstance(exc, BadResponse) and kind in NOT_JSON_HINTS:
        return f"{exc.message}; {NOT_JSON_HINTS[kind]}"
    tool = LISTING_TOOLS.get(exc.listing or "") if isinstance(exc, InvalidCursor) else None
    if isinstance(exc, InvalidCursor) and tool is not None:
        hint = f"call {tool} without cursor" if exc.start_again else f"pass a next_cursor that {tool} returned"
        return f"{exc.message} — {hint}"
    return exc.message
