"""The result of every write tool (structured output): what was asked, what changed, per asset.

One model for all writes, so a model reads every write's outcome the same way. ``status`` is
``done`` (everything asked is so now), ``partial`` (some items failed), ``failed``, ``unchanged``
(everything already was so), ``dry_run`` (nothing was changed: the confirmation is missing) or
``declined`` (the user said no; nothing was changed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from footage_mcp.rest.models import Album, Asset

ItemOutcome = Literal["done", "unchanged", "failed", "would_change"]
WriteStatus = Literal["done", "partial", "failed", "unchanged", "dry_run", "declined"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemResult(_Model):
    """What happened (or would happen) to one asset."""

    id: str = Field(description="Asset id.")
    name: str | None = Field(default=None, description="Asset name, when it was read.")
    outcome: ItemOutcome = Field(description="done, unchanged (already so), failed, or would_change (dry run).")
    reason: str | None = Field(default=None, description="Why it failed or is unchanged.")


class KeywordMatch(_Model):
    """A requested keyword term and the taxonomy concept it resolved to."""

    term: str = Field(description="The term as given.")
    keyword: str | None = Field(default=None, description="The concept's preferred label; null when unknown.")
    concept_id: str | None = Field(default=None, description="The concept's id in the taxonomy.")
    suggestions: list[str] = Field(default_factory=list, description="Close concepts, for an unknown term.")


class Counts(_Model):
    done: int = 0
    unchanged: int = 0
    failed: int = 0
    would_change: int = 0


class WriteResult(_Model):
    """The outcome of one write tool call."""

    status: WriteStatus = Field(description="done, partial, failed, unchanged, dry_run or declined.")
    summary: str = Field(description="One sentence: what changed, or what would change.")
    counts: Counts | None = Field(default=None, description="Items per outcome (bulk calls).")
    items: list[ItemResult] = Field(default_factory=list, description="Per-asset outcomes.")
    album: Album | None = Field(default=None, description="The album after the change.")
    asset: Asset | None = Field(default=None, description="The asset after the change.")
    keywords: list[KeywordMatch] = Field(default_factory=list, description="How each keyword term resolved.")
    next_step: str | None = Field(default=None, description="What to do next (confirm, check, read again).")
    note: str | None = Field(default=None, description="What was cut to fit the output budget, if anything.")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """A compact output schema (the same for nine tools: the listing stays within its token budget):
        the outcome fields typed, the album and asset as objects (their fields are get_album's and
        get_asset's)."""
        return dict(WRITE_RESULT_SCHEMA)


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


WRITE_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": _enum(("done", "partial", "failed", "unchanged", "dry_run", "declined")),
        "summary": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
        "next_step": {"type": "string"},
    },
    "required": ["status", "summary"],
}
"""Also present when they apply: ``counts``, ``album``, ``asset``, ``keywords`` (see :class:`WriteResult`)."""
