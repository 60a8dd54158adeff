"""Tools that work without a token, plus the raw GET escape hatch: get_archive_configuration,
list_api_links, api_get."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BeforeValidator, Field, StringConstraints

from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.models import ARRAY_NESTING, ApiLinks, ApiResponse, ArchiveConfiguration
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded
from footage_mcp.surface.render import MAX_DEPTH, cap_depth, depth_of

MAX_QUERY_DEPTH = 8
"""Deepest query object accepted (a nested value is sent as JSON; deeper is never a real query)."""


def query_text(value: Any) -> Any:
    """Accept the query as a string (``size=5&q=paris``), an object of name → value, or that object as
    a JSON string (some hosts send object arguments so); hand on a query string. In an object, a list
    value repeats the parameter, null leaves it out, and a nested object is sent as JSON."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return value
        except RecursionError:
            raise ValueError(f"the query object is nested too deeply (at most {MAX_QUERY_DEPTH} levels)") from None
    if isinstance(value, dict | list) and depth_of(value, MAX_QUERY_DEPTH) > MAX_QUERY_DEPTH:
        raise ValueError(f"the query object is nested too deeply (at most {MAX_QUERY_DEPTH} levels)")
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            for one in item if isinstance(item, list) else [item]:
                if one is not None:
                    pairs.append((str(key), _query_value(one)))
        return urlencode(pairs)
    return value.strip().lstrip("?") if isinstance(value, str) else value


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def fold_nested_arrays(value: Any, room: int = ARRAY_NESTING) -> tuple[Any, bool]:
    """``value`` with every array nested directly in arrays deeper than ``room`` (see
    :data:`~footage_mcp.rest.models.ARRAY_NESTING`) replaced by its compact JSON text, so that the body
    matches the output schema; (value, was anything folded?). Objects are free-form in that schema:
    what is inside them stays as it is."""
    if not isinstance(value, list):
        return value, False
    if room <= 0:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")), True
    folded = [fold_nested_arrays(item, room - 1) for item in value]
    return [item for item, _ in folded], any(cut for _, cut in folded)


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Get archive configuration",
        description=("Get the archive's public configuration (languages, media types, …); needs no token."),
        annotations=READ_ONLY,
    )
    async def get_archive_configuration(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ArchiveConfiguration]:
        async def op(api: FootageApi) -> ArchiveConfiguration:
            configuration, cut = cap_depth(await api.archive_configuration())
            note = f"nesting deeper than {MAX_DEPTH} levels was cut" if cut else None
            return ArchiveConfiguration(configuration=configuration, note=note)

        return await guarded(ctx, op)

    @mcp.tool(
        title="List API links",
        description=(
            "List the REST API's discovery links (name, href, templated), e.g. routes for api_get; needs no token."
        ),
        annotations=READ_ONLY,
    )
    async def list_api_links(ctx: Context[Any, Any]) -> Annotated[CallToolResult, ApiLinks]:
        return await guarded(ctx, lambda api: api.api_links())

    @mcp.tool(
        title="GET an API path",
        description=(
            "GET any JSON path under the REST API base (read-only, for what other tools do not cover), e.g. "
            "path 'albums', query 'page=1&size=5'. The body is trimmed to fit."
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
            Annotated[str, StringConstraints(max_length=2000)] | None,
            BeforeValidator(query_text),
            Field(
                description="Query string, e.g. 'size=5&q=paris', or an object of name → value.",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, ApiResponse]:
        async def op(api: FootageApi) -> ApiResponse:
            pairs = parse_qsl(query or "", keep_blank_values=True)
            body, cut = cap_depth(await api.api_get(path, pairs))
            body, folded = fold_nested_arrays(body)
            notes = [f"nesting deeper than {MAX_DEPTH} levels was cut"] if cut else []
            if folded:
                notes.append(
                    f"arrays nested directly in arrays deeper than {ARRAY_NESTING} levels are given as JSON text"
                )
            note = "; ".join(notes) or None
            return ApiResponse(path=path.strip().lstrip("/"), body=body, truncated=cut, note=note)

        return await guarded(ctx, op)
