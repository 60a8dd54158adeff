"""Keyword tool: suggest_keywords (the library's controlled, multilingual taxonomy)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.keywords import MAX_TEXT_CHARS, ConceptList, KeywordRoute
from footage_mcp.surface.annotations import READ_ONLY
from footage_mcp.surface.guard import guarded


def register(mcp: MCPServer[Any]) -> None:
    @mcp.tool(
        title="Suggest keywords",
        description=(
            "Find taxonomy keywords by prefix or synonym in any language ('Par' → Paris, 'Frankreich' → "
            "France), with synonyms, broader and narrower terms."
        ),
        annotations=READ_ONLY,
    )
    async def suggest_keywords(
        ctx: Context[Any, Any],
        text: Annotated[
            str,
            Field(
                min_length=2,
                max_length=MAX_TEXT_CHARS,
                description="The start of a term or synonym, e.g. 'Par'.",
            ),
        ],
        language: Annotated[
            str | None,
            Field(
                max_length=16,
                description="Language code for the terms, e.g. 'de'; default: the language matched.",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, ConceptList]:
        async def op(api: FootageApi) -> ConceptList:
            concepts, note = await KeywordRoute(api).suggest(text, language)
            if not concepts and note is None:
                note = f"no concept of the taxonomy matches {text.strip()!r}; try a shorter start or a synonym"
            return ConceptList(concepts=concepts, note=note)

        return await guarded(ctx, op)
