"""Write tools (registered only with FOOTAGE_ALLOW_WRITES=true): albums, membership, names and
descriptions, labels, keywords, relations. No delete tool: deleting stays in the web app.

Each tool is a plan resolver (:func:`~footage_mcp.surface.confirm.prepare`), a confirmation resolver
(:func:`~footage_mcp.surface.confirm.ask`) and a body (:func:`~footage_mcp.surface.confirm.finish`);
see :mod:`footage_mcp.surface.confirm`. Argument checks live in :mod:`footage_mcp.rest.changes`
(the same for the dry run and the real call); list bounds are stated in the schemas and enforced there
with one clear message each.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from footage_mcp.rest.changes import RELATION_TYPES
from footage_mcp.rest.write_models import WriteResult
from footage_mcp.surface.annotations import ADDITIVE, CREATES, OVERWRITES
from footage_mcp.surface.confirm import AUDIT_LOGGER, Confirmation, NoQuestion, Prepared, ask, finish, prepare
from footage_mcp.surface.params import Text

AssetIds = Annotated[
    list[Annotated[str, Text]],
    Field(
        description="Asset ids (1–500, each once).",
        json_schema_extra={"minItems": 1, "maxItems": 500},
    ),
]
AlbumId = Annotated[str, Text, Field(description="Album id (list_albums).")]
AssetId = Annotated[str, Text, Field(description="Asset id.")]
Labels = Annotated[
    list[str],
    Field(
        description="Labels (1–20), one word each, e.g. '#approved'.",
        json_schema_extra={"minItems": 1, "maxItems": 20},
    ),
]
Keywords = Annotated[
    list[str],
    Field(
        description="Taxonomy terms (1–20), any language or synonym, e.g. 'Paris', 'Frankreich'.",
        json_schema_extra={"minItems": 1, "maxItems": 20},
    ),
]
Confirm = Annotated[
    bool | None,
    Field(
        description="true applies a change that needs confirmation when the client cannot ask the user; "
        "otherwise the call is a dry run."
    ),
]
Name = Annotated[str | None, Field(description="New name (one line, ≤ 200 characters).")]
Description = Annotated[str | None, Field(description="New description (≤ 5000 characters).")]
Relation = Literal[
    "variant",
    "derivative",
    "composition",
    "segment",
    "version",
    "audio_track",
    "model_release",
    "behind_the_scenes",
    "related",
]
assert tuple(Relation.__args__) == RELATION_TYPES  # type: ignore[attr-defined]

Answer = ElicitationResult[Confirmation]
Question = Elicit[Confirmation] | NoQuestion


# ---------------------------------------------------------------- plan resolvers (module level: the SDK
# resolves their annotations against this module's globals)


async def plan_create_album(ctx: Context[Any, Any], name: str, description: str | None) -> Prepared:
    return await prepare(ctx, lambda c, p: c.create_album(name, description))


async def plan_update_album(
    ctx: Context[Any, Any], album_id: str, name: str | None, description: str | None
) -> Prepared:
    return await prepare(ctx, lambda c, p: c.update_album(album_id, name, description))


async def plan_add_to_album(ctx: Context[Any, Any], album_id: str, asset_ids: list[str]) -> Prepared:
    return await prepare(ctx, lambda c, p: c.membership(album_id, asset_ids, add=True, progress=p), len(asset_ids))


async def plan_remove_from_album(ctx: Context[Any, Any], album_id: str, asset_ids: list[str]) -> Prepared:
    return await prepare(ctx, lambda c, p: c.membership(album_id, asset_ids, add=False, progress=p), len(asset_ids))


async def plan_update_asset(
    ctx: Context[Any, Any], asset_id: str, name: str | None, description: str | None
) -> Prepared:
    return await prepare(ctx, lambda c, p: c.update_asset(asset_id, name, description))


async def plan_add_labels(ctx: Context[Any, Any], asset_ids: list[str], labels: list[str]) -> Prepared:
    return await prepare(ctx, lambda c, p: c.labels(asset_ids, labels, add=True, progress=p), len(asset_ids))


async def plan_remove_labels(ctx: Context[Any, Any], asset_ids: list[str], labels: list[str]) -> Prepared:
    return await prepare(ctx, lambda c, p: c.labels(asset_ids, labels, add=False, progress=p), len(asset_ids))


async def plan_add_keywords(
    ctx: Context[Any, Any], asset_ids: list[str], keywords: list[str], language: str | None
) -> Prepared:
    return await prepare(ctx, lambda c, p: c.keywords(asset_ids, keywords, language, progress=p), len(asset_ids))


async def plan_relate_assets(
    ctx: Context[Any, Any],
    asset_id: str,
    related_asset_id: str,
    relation: str,
    two_way: bool | None,
    description: str | None,
    time_in: float | None,
    time_out: float | None,
) -> Prepared:
    return await prepare(
        ctx,
        lambda c, p: c.relate(asset_id, related_asset_id, relation, bool(two_way), description, time_in, time_out),
    )


# ---------------------------------------------------------------- confirmation resolvers


def ask_create_album(ctx: Context[Any, Any], plan: Annotated[Prepared, Resolve(plan_create_album)]) -> Question:
    return ask(ctx, "create_album", plan, None)


def ask_update_album(ctx: Context[Any, Any], plan: Annotated[Prepared, Resolve(plan_update_album)]) -> Question:
    return ask(ctx, "update_album", plan, None)


def ask_add_to_album(
    ctx: Context[Any, Any], confirm: bool | None, plan: Annotated[Prepared, Resolve(plan_add_to_album)]
) -> Question:
    return ask(ctx, "add_to_album", plan, confirm)


def ask_remove_from_album(
    ctx: Context[Any, Any], confirm: bool | None, plan: Annotated[Prepared, Resolve(plan_remove_from_album)]
) -> Question:
    return ask(ctx, "remove_from_album", plan, confirm)


def ask_update_asset(ctx: Context[Any, Any], plan: Annotated[Prepared, Resolve(plan_update_asset)]) -> Question:
    return ask(ctx, "update_asset", plan, None)


def ask_add_labels(
    ctx: Context[Any, Any], confirm: bool | None, plan: Annotated[Prepared, Resolve(plan_add_labels)]
) -> Question:
    return ask(ctx, "add_labels", plan, confirm)


def ask_remove_labels(
    ctx: Context[Any, Any], confirm: bool | None, plan: Annotated[Prepared, Resolve(plan_remove_labels)]
) -> Question:
    return ask(ctx, "remove_labels", plan, confirm)


def ask_add_keywords(
    ctx: Context[Any, Any], confirm: bool | None, plan: Annotated[Prepared, Resolve(plan_add_keywords)]
) -> Question:
    return ask(ctx, "add_keywords", plan, confirm)


def ask_relate_assets(ctx: Context[Any, Any], plan: Annotated[Prepared, Resolve(plan_relate_assets)]) -> Question:
    return ask(ctx, "relate_assets", plan, None)


# ---------------------------------------------------------------- tools


def register(mcp: MCPServer[Any]) -> None:
    """Register the write tools. Their audit lines (INFO on ``footage_mcp.audit``) are then shown whatever
    FOOTAGE_LOG_LEVEL says: an audit trail that is off by default is none."""
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)

    @mcp.tool(
        title="Create album",
        description=(
            "Create an empty album. Returns it with its id (then add_to_album). Calling it twice makes two "
            "albums (or a conflict)."
        ),
        annotations=CREATES,
    )
    async def create_album(
        ctx: Context[Any, Any],
        name: Annotated[str, Field(description="Album name (one line, ≤ 200 characters).")],
        *,
        plan: Annotated[Prepared, Resolve(plan_create_album)],
        answer: Annotated[Answer, Resolve(ask_create_album)],
        description: Description = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "create_album", plan, answer)

    @mcp.tool(
        title="Update album",
        description=(
            "Overwrite an album's name and/or description. If the album changed since it was read, nothing "
            "is overwritten and the result says so."
        ),
        annotations=OVERWRITES,
    )
    async def update_album(
        ctx: Context[Any, Any],
        album_id: AlbumId,
        *,
        plan: Annotated[Prepared, Resolve(plan_update_album)],
        answer: Annotated[Answer, Resolve(ask_update_album)],
        name: Name = None,
        description: Description = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "update_album", plan, answer)

    @mcp.tool(
        title="Add to album",
        description=(
            "Add assets to an album; reports per asset done, unchanged or failed. Over 20 assets need the "
            "user's confirmation (the client asks, or confirm=true), else a dry run."
        ),
        annotations=ADDITIVE,
    )
    async def add_to_album(
        ctx: Context[Any, Any],
        album_id: AlbumId,
        asset_ids: AssetIds,
        *,
        plan: Annotated[Prepared, Resolve(plan_add_to_album)],
        answer: Annotated[Answer, Resolve(ask_add_to_album)],
        confirm: Confirm = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "add_to_album", plan, answer)

    @mcp.tool(
        title="Remove from album",
        description=(
            "Remove assets from an album (they stay in the library). Needs the user's confirmation (the "
            "client asks, or confirm=true), else a dry run of what would be removed."
        ),
        annotations=OVERWRITES,
    )
    async def remove_from_album(
        ctx: Context[Any, Any],
        album_id: AlbumId,
        asset_ids: AssetIds,
        *,
        plan: Annotated[Prepared, Resolve(plan_remove_from_album)],
        answer: Annotated[Answer, Resolve(ask_remove_from_album)],
        confirm: Confirm = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "remove_from_album", plan, answer)

    @mcp.tool(
        title="Update asset",
        description=(
            "Overwrite an asset's name and/or description. If the asset changed since it was read, nothing "
            "is overwritten and the result says so."
        ),
        annotations=OVERWRITES,
    )
    async def update_asset(
        ctx: Context[Any, Any],
        asset_id: AssetId,
        *,
        plan: Annotated[Prepared, Resolve(plan_update_asset)],
        answer: Annotated[Answer, Resolve(ask_update_asset)],
        name: Name = None,
        description: Description = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "update_asset", plan, answer)

    @mcp.tool(
        title="Add labels",
        description=(
            "Add #hashtag labels to assets; reports per asset done, unchanged or failed. Over 20 assets need "
            "the user's confirmation (or confirm=true), else a dry run."
        ),
        annotations=ADDITIVE,
    )
    async def add_labels(
        ctx: Context[Any, Any],
        asset_ids: AssetIds,
        labels: Labels,
        *,
        plan: Annotated[Prepared, Resolve(plan_add_labels)],
        answer: Annotated[Answer, Resolve(ask_add_labels)],
        confirm: Confirm = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "add_labels", plan, answer)

    @mcp.tool(
        title="Remove labels",
        description=(
            "Remove #hashtag labels from assets; reports per asset. Needs the user's confirmation (or "
            "confirm=true), else a dry run."
        ),
        annotations=OVERWRITES,
    )
    async def remove_labels(
        ctx: Context[Any, Any],
        asset_ids: AssetIds,
        labels: Labels,
        *,
        plan: Annotated[Prepared, Resolve(plan_remove_labels)],
        answer: Annotated[Answer, Resolve(ask_remove_labels)],
        confirm: Confirm = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "remove_labels", plan, answer)

    @mcp.tool(
        title="Add keywords",
        description=(
            "Add keywords of the library's taxonomy to assets. Terms resolve to concepts (any language, "
            "synonyms); unknown ones are reported, never created. Over 20 assets need confirmation."
        ),
        annotations=ADDITIVE,
    )
    async def add_keywords(
        ctx: Context[Any, Any],
        asset_ids: AssetIds,
        keywords: Keywords,
        *,
        plan: Annotated[Prepared, Resolve(plan_add_keywords)],
        answer: Annotated[Answer, Resolve(ask_add_keywords)],
        language: Annotated[str | None, Field(max_length=10, description="Language of the terms, e.g. 'de'.")] = None,
        confirm: Confirm = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "add_keywords", plan, answer)

    @mcp.tool(
        title="Relate assets",
        description=(
            "Relate one asset to another (one- or two-way), with an optional note and, for a video, the "
            "time in/out in seconds."
        ),
        annotations=CREATES,
    )
    async def relate_assets(
        ctx: Context[Any, Any],
        asset_id: AssetId,
        related_asset_id: Annotated[str, Text, Field(description="The related asset's id.")],
        relation: Annotated[Relation, Field(description="The kind of relation.")],
        *,
        plan: Annotated[Prepared, Resolve(plan_relate_assets)],
        answer: Annotated[Answer, Resolve(ask_relate_assets)],
        two_way: Annotated[bool | None, Field(description="true: both ways.")] = None,
        description: Annotated[str | None, Field(description="A note on the relation.")] = None,
        time_in: Annotated[float | None, Field(description="Video: segment start, seconds.")] = None,
        time_out: Annotated[float | None, Field(description="Video: segment end, seconds.")] = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        return await finish(ctx, "relate_assets", plan, answer)


WRITE_TOOLS = frozenset(
    {
        "create_album",
        "update_album",
        "add_to_album",
        "remove_from_album",
        "update_asset",
        "add_labels",
        "remove_labels",
        "add_keywords",
        "relate_assets",
    }
)
"""The names of the write tools (interface.md, Version 0.2)."""
