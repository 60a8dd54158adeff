"""Tools that work without a token, plus the raw GET escape hatch: get_archive_configuration,
list_api_links, api_get."""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from footage_mcp.api import FootageApi
from footage_mcp.models import ApiLinks, ApiResponse, ArchiveConfiguration
from footage_mcp.tools._common import READ_ONLY, guarded, ok

MAX_DEPTH = 24
API_GET_BUDGET_CHARS = 60_000
"""Largest JSON text api_get hands back; bigger bodies are trimmed (lists shortened, strings cut)."""


def trim_json(value: Any, budget: int = API_GET_BUDGET_CHARS) -> tuple[Any, bool]:
    """``value`` shrunk until its compact JSON fits ``budget`` characters; (value, trimmed?)."""

    def size(v: Any) -> int:
        return len(json.dumps(v, ensure_ascii=False, separators=(",", ":")))

    deep = _shrink(value, 10**9, 10**9, 0)  # only cuts nesting deeper than MAX_DEPTH
    if deep != value:
        value = deep
        if size(value) <= budget:
            return value, True
    elif size(value) <= budget:
        return value, False
    for max_items, max_chars in ((50, 2000), (20, 500), (10, 200), (5, 100), (2, 60), (1, 40), (0, 20)):
        shrunk = _shrink(value, max_items, max_chars, 0)
        if size(shrunk) <= budget:
            return shrunk, True
    return {"note": "the body is too large to show; request a narrower path or fewer items"}, True


def _shrink(value: Any, max_items: int, max_chars: int, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(value, str):
        return value if len(value) <= max_chars else value[: max_chars - 1] + "…"
    if isinstance(value, list):
        return [_shrink(v, max_items, max_chars, depth + 1) for v in value[:max_items]]
    if isinstance(value, dict):
        return {k: _shrink(v, max_items, max_chars, depth + 1) for k, v in value.items()}
    return value


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Get archive configuration",
        description=(
            "Get the public configuration of the Footage archive (languages, media types and similar "
            "settings). Works without an API token."
        ),
        annotations=READ_ONLY,
    )
    async def get_archive_configuration(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ArchiveConfiguration]:
        async def op(api: FootageApi) -> CallToolResult:
            return ok(ArchiveConfiguration(configuration=await api.archive_configuration()))

        return await guarded(ctx, op)

    @mcp.tool(
        title="List API links",
        description=(
            "List the named links of the Footage REST API's discovery root (name, href, whether it is a URI "
            "template). Useful to find routes for api_get. Works without an API token."
        ),
        annotations=READ_ONLY,
    )
    async def list_api_links(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ApiLinks]:
        async def op(api: FootageApi) -> CallToolResult:
            return ok(await api.api_links())

        return await guarded(ctx, op)

    @mcp.tool(
        title="GET an API path",
        description=(
            "GET any JSON path under the Footage REST API base URL (read-only escape hatch for data the other "
            'tools do not cover), e.g. path \'albums\' with query {"page": "1"}. The body is trimmed to fit.'
        ),
        annotations=READ_ONLY,
    )
    async def api_get(
        ctx: Context[Any, Any],
        path: Annotated[
            str,
            Field(max_length=2000, description="Path relative to the API base URL, e.g. 'configuration/archive'."),
        ],
        query: Annotated[
            dict[str, str | int | float | bool] | None,
            Field(description='Query parameters as name → value, e.g. {"size": 5, "q": "paris"}.'),
        ] = None,
    ) -> Annotated[CallToolResult, ApiResponse]:
        async def op(api: FootageApi) -> CallToolResult:
            body = await api.api_get(path, query)
            trimmed, was_trimmed = trim_json(body)
            return ok(ApiResponse(path=path.strip().lstrip("/"), body=trimmed, truncated=was_trimmed))

        return await guarded(ctx, op)
