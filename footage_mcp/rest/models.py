"""Pydantic models the tools return (structured output).

Units: sizes in bytes, durations in seconds, timestamps ISO 8601 UTC strings
(``2019-05-01T12:00:00Z``). A field the API did not send is None (or an empty list),
never invented. These models are the MCP output schemas: change them deliberately
(tests/snapshots/ catches an unnoticed change).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

MediaType = Literal["image", "video", "audio", "document"]


ARRAY_NESTING = 2
"""How deep arrays nest directly in arrays in a :data:`JsonBody` (``[[1, 2]]`` is 2, ``[1, {"a": [2]}]`` is 1)."""


def _json_value(arrays: int) -> dict[str, Any]:
    """Any JSON value whose arrays nest directly in each other at most ``arrays`` deep."""
    branches: list[dict[str, Any]] = [{"type": t} for t in ("object", "string", "number", "boolean", "null")]
    if arrays:
        branches.insert(1, {"type": "array", "items": _json_value(arrays - 1)})
    return {"anyOf": branches}


JsonBody = Annotated[Any, WithJsonSchema(_json_value(ARRAY_NESTING))]
"""Any JSON value, spelled as one branch per JSON type: a schema with no type at all is an "accepts
anything" node that portability linters (MCP Inspector --strict) flag, and every array carries
``items`` (OpenAI and Gemini refuse an array without). JSON Schema cannot say "any JSON" with
``items`` on every array without a recursive ``$ref``, which hosts do not resolve; so arrays nested
directly in arrays are described :data:`ARRAY_NESTING` deep (objects inside are free-form), and the
caller hands deeper ones on as JSON text (``api_get`` does, with a note)."""


class _Model(BaseModel):
    # inf/nan stay floats when dumped, so that rendering can drop them (an absent field), not null them
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")


class Relation(_Model):
    """A relation from one asset to another (footage-api.md: 9 types, one- or two-way)."""

    type: str = Field(
        description="variant, derivative, composition, segment, version, audio_track, "
        "model_release, behind_the_scenes or related (as the API names it)."
    )
    target_id: str | None = Field(default=None, description="Id of the related asset.")
    direction: str | None = Field(default=None, description="one-way or two-way.")
    description: str | None = Field(default=None, description="Free-text note on the relation.")
    time_in_seconds: float | None = Field(default=None, description="Start of the related segment (video), seconds.")
    time_out_seconds: float | None = Field(default=None, description="End of the related segment (video), seconds.")


class Rendition(_Model):
    """A file the API offers for an asset besides its original (a web-sized image, a video proxy …)."""

    name: str = Field(description="Rendition name, as download_asset's rendition argument takes it.")
    mime_type: str | None = Field(default=None, description="MIME type of the rendition file.")
    width: int | None = Field(default=None, description="Width in pixels.")
    height: int | None = Field(default=None, description="Height in pixels.")
    size_bytes: int | None = Field(default=None, description="File size in bytes.")


class AlbumSummary(_Model):
    """An album in a list."""

    id: str = Field(description="Album id (use with get_album / list_album_assets).")
    name: str | None = Field(default=None, description="Album name.")
    description: str | None = Field(default=None, description="First line of the description, shortened.")
    asset_count: int | None = Field(default=None, description="Number of assets in the album.")
    updated: str | None = Field(default=None, description="Last change, ISO 8601.")


class Album(_Model):
    """One album with its details."""

    id: str = Field(description="Album id.")
    name: str | None = Field(default=None, description="Album name.")
    description: str | None = Field(default=None, description="Album description.")
    asset_count: int | None = Field(default=None, description="Number of assets in the album.")
    created: str | None = Field(default=None, description="Creation time, ISO 8601.")
    updated: str | None = Field(default=None, description="Last change, ISO 8601.")
    keywords: list[str] = Field(default_factory=list, description="Controlled-vocabulary keywords.")
    labels: list[str] = Field(default_factory=list, description="Free #hashtag labels.")
    url: str | None = Field(default=None, description="Web address of the album, when the API gives one.")
    note: str | None = Field(default=None, description="What was cut to fit the output budget, if anything.")


class AssetSummary(_Model):
    """An asset in a list."""

    id: str = Field(description="Asset id (use with get_asset / get_asset_preview).")
    name: str | None = Field(default=None, description="Asset title or file name.")
    media_type: MediaType | None = Field(default=None, description="image, video, audio or document.")
    duration_seconds: float | None = Field(default=None, description="Duration of video/audio, seconds.")
    created: str | None = Field(default=None, description="Creation time, ISO 8601.")
    description: str | None = Field(default=None, description="First line of the description, shortened.")


class Asset(_Model):
    """One asset with its details."""

    id: str = Field(description="Asset id.")
    name: str | None = Field(default=None, description="Asset title or file name.")
    media_type: MediaType | None = Field(default=None, description="image, video, audio or document.")
    mime_type: str | None = Field(default=None, description="MIME type of the original file.")
    size_bytes: int | None = Field(default=None, description="File size in bytes.")
    duration_seconds: float | None = Field(default=None, description="Duration of video/audio, seconds.")
    width: int | None = Field(default=None, description="Width in pixels (image/video).")
    height: int | None = Field(default=None, description="Height in pixels (image/video).")
    created: str | None = Field(default=None, description="Creation time, ISO 8601.")
    updated: str | None = Field(default=None, description="Last change, ISO 8601.")
    description: str | None = Field(default=None, description="Asset description.")
    keywords: list[str] = Field(default_factory=list, description="Controlled-vocabulary keywords.")
    labels: list[str] = Field(default_factory=list, description="Free #hashtag labels.")
    albums: list[str] | None = Field(default=None, description="Ids of the albums holding the asset.")
    relations: list[Relation] | None = Field(default=None, description="Relations to other assets.")
    preview_available: bool = Field(default=False, description="True when get_asset_preview can show an image.")
    renditions: list[Rendition] | None = Field(
        default=None, description="Files download_asset can fetch besides the original, when the API names them."
    )
    extra: dict[str, Any] | None = Field(default=None, description="Other fields the API sent, trimmed.")
    note: str | None = Field(default=None, description="What was cut to fit the output budget, if anything.")


class AlbumList(_Model):
    """A page of albums."""

    albums: list[AlbumSummary] = Field(description="Albums on this page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next page; null on the last page."
    )
    total: int | None = Field(default=None, description="Total number of matching albums, when the API says.")
    note: str | None = Field(default=None, description="Anything the caller should know about this page.")


class AssetList(_Model):
    """A page of assets."""

    assets: list[AssetSummary] = Field(description="Assets on this page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next page; null on the last page."
    )
    total: int | None = Field(default=None, description="Total number of matching assets, when the API says.")
    note: str | None = Field(default=None, description="Anything the caller should know about this page.")


class ApiLink(_Model):
    """A named link of the discovery root."""

    name: str = Field(description="Link relation name, e.g. albums.")
    href: str = Field(description="Target URL or RFC 6570 URI template.")
    templated: bool = Field(description="True when href is a URI template.")


class ApiLinks(_Model):
    """The discovery root's links."""

    links: list[ApiLink] = Field(description="Links of GET {base}/.")
    note: str | None = Field(default=None, description="Anything the caller should know.")


class ArchiveConfiguration(_Model):
    """The public archive configuration (``GET /configuration/archive``, public per footage-api.md)."""

    configuration: dict[str, Any] = Field(description="The configuration object as the API returns it.")
    note: str | None = Field(default=None, description="What was cut to fit the output budget, if anything.")


class ApiResponse(_Model):
    """The JSON body of a GET under the base URL."""

    path: str = Field(description="The path requested, relative to the base URL.")
    body: JsonBody = Field(default=None, description="The JSON body, trimmed to the output budget.")
    truncated: bool = Field(default=False, description="True when the body was trimmed to fit the output budget.")
    note: str | None = Field(default=None, description="What was cut, if anything.")
