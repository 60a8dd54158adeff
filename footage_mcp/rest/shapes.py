"""Tolerant reading of Footage API responses: list envelopes and objects → models.

The real API's shapes are undocumented; footage-api.md ('Response shapes the bridge must
accept') lists the families this module accepts. The family is detected per response:

* HAL — ``{"_embedded": {rel: [...]}, "_links": {"next": {"href"}}, "page": {...}}``
* bare array — the body is a list; next page in ``Link: <url>; rel="next"``, total in ``X-Total-Count``
* items object — ``{items|content|data|results|albums|assets: [...], next|nextCursor|next_cursor|cursor,
  total|totalCount|totalElements}``

Objects: id from ``id``/``uuid``/``_id``/``assetId``/``albumId`` or the last segment of
``_links.self.href``; name from ``name``/``title``; media kind from ``type``/``mediaType`` or the
top level of ``mimeType`` (``application/*`` and ``text/*`` are documents); timestamps ISO 8601 or
epoch milliseconds; sizes numbers or numeric strings; camelCase, snake_case or plain names.
Unknown fields are kept, trimmed, in ``extra``. Each field's aliases are declared once (the
``*_KEYS`` tuples below); the parsers read them, and the asset's known-field set
(:data:`ASSET_KNOWN`) is made of them. Nothing here raises on odd input: the worst case is an
empty page with a ``note``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from footage_mcp.rest.models import Album, AlbumSummary, Asset, AssetSummary, MediaType, Relation

LIST_KEYS = ("items", "content", "data", "results", "albums", "assets")
NEXT_KEYS = ("next", "nextCursor", "next_cursor", "cursor")
TOTAL_KEYS = ("total", "totalCount", "totalElements", "total_count", "total_elements")

# ---------------------------------------------------------------- field aliases, each declared once
# Where a field may be found in an object, in order (the first non-empty one wins). The parsers read
# these and nothing else; the asset's known-field set (what does not go to ``extra``) is made of them.

ID_KEYS = ("id", "uuid", "_id")
"""Plus ``{kind}Id`` / ``{kind}_id`` (``assetId``, ``album_id`` ...): see :func:`object_id`."""
NAME_KEYS = ("name", "title")
ASSET_NAME_KEYS = (*NAME_KEYS, "fileName", "filename", "file_name")
KIND_KEYS = ("mediaType", "media_type", "type", "kind", "assetType")
MIME_KEYS = ("mimeType", "mime_type", "mimetype", "contentType", "content_type")
SIZE_KEYS = ("size_bytes", "sizeBytes", "fileSize", "file_size", "size", "bytes")
DURATION_MS_KEYS = ("durationMs", "duration_ms", "durationMillis")
DURATION_KEYS = ("duration", "durationSeconds", "duration_seconds", "length")
WIDTH_KEYS, HEIGHT_KEYS, DIMENSIONS_KEYS = ("width",), ("height",), ("dimensions",)
CREATED_KEYS = ("created", "createdAt", "created_at", "dateCreated", "creationDate")
UPDATED_KEYS = ("updated", "updatedAt", "updated_at", "dateModified", "modified", "lastModified", "modifiedAt")
DESCRIPTION_KEYS = ("description", "caption", "summary")
KEYWORD_KEYS = ("keywords",)
LABEL_KEYS = ("labels", "tags", "hashtags")
ALBUM_IDS_KEYS = ("albums", "albumIds", "album_ids")
RELATIONS_KEYS = ("relations",)
PREVIEW_FLAG_KEYS = ("previewAvailable", "preview_available", "hasPreview", "has_preview")
PREVIEW_LINK_KEYS = ("preview", "previewUrl", "preview_url", "thumbnailUrl", "thumbnail_url")
HAL_KEYS = ("_links", "_embedded")
ASSET_COUNT_KEYS = ("assetCount", "asset_count", "assetsCount", "totalAssets", "total_assets", "count", "size")
ALBUM_URL_KEYS = ("url", "webUrl", "web_url", "shareUrl", "publicUrl")
NAME_ITEM_KEYS = ("name", "label", "title", "value", "prefLabel", "text")
"""A keyword or label given as an object: where its text is."""

ASSET_ALIASES = (
    ID_KEYS,
    ("assetId", "asset_id"),
    ASSET_NAME_KEYS,
    KIND_KEYS,
    MIME_KEYS,
    SIZE_KEYS,
    DURATION_MS_KEYS,
    DURATION_KEYS,
    WIDTH_KEYS,
    HEIGHT_KEYS,
    DIMENSIONS_KEYS,
    CREATED_KEYS,
    UPDATED_KEYS,
    DESCRIPTION_KEYS,
    KEYWORD_KEYS,
    LABEL_KEYS,
    ALBUM_IDS_KEYS,
    RELATIONS_KEYS,
    PREVIEW_FLAG_KEYS,
    PREVIEW_LINK_KEYS,
    HAL_KEYS,
)
"""Every alias :func:`parse_asset` reads (tests/test_shapes.py checks that it reads exactly these)."""
ASSET_KNOWN = frozenset(key for keys in ASSET_ALIASES for key in keys)
"""The asset fields that are parsed; the others go, trimmed, to ``extra``."""

SUMMARY_DESCRIPTION_CHARS = 160
EXTRA_MAX_KEYS = 20
EXTRA_MAX_STRING = 200
EXTRA_MAX_ITEMS = 10


@dataclass(slots=True)
class RawPage:
    """One page of a list response, family-independent.

    At most one continuation is set: ``next_url`` (a URL, possibly relative), ``next_cursor``
    (an opaque API cursor to send back as a query parameter) or ``next_page`` (a 0-based page
    number derived from a page block).
    """

    items: list[dict[str, Any]]
    next_url: str | None = None
    next_cursor: str | None = None
    next_page: int | None = None
    total: int | None = None
    note: str | None = None


# ---------------------------------------------------------------- scalars


def _first(obj: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None and value != "":
            return value
    return None


def as_int(value: Any) -> int | None:
    """An int from a number or numeric string; None otherwise (bools are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    number = as_float(value)
    return int(number) if number is not None else None


def as_float(value: Any) -> float | None:
    """A finite float from a number or numeric string; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str | None:
    """A non-empty string from a string or number; None otherwise."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


_CANONICAL_UTC = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
"""A timestamp in the form :func:`iso_timestamp` gives (whole seconds, UTC ``Z``, a four-digit year).
Read and written again it comes out the same, and one that is not a real moment (a 30 February) is
kept as the API said it either way: so it is returned as it is."""


def iso_timestamp(value: Any) -> str | None:
    """ISO 8601 UTC (``...Z``) from an ISO string or epoch milliseconds (seconds if < 1e11)."""
    if isinstance(value, str) and len(value) == 20 and _CANONICAL_UTC.fullmatch(value):
        return value  # the common case: no parse and no reformat (a list page has one per item)
    number = as_float(value) if not isinstance(value, str) or re.fullmatch(r"\s*\d+(\.\d+)?\s*", value) else None
    try:
        if number is not None:
            seconds = number / 1000 if abs(number) >= 1e11 else number
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        elif isinstance(value, str) and value.strip():
            text = value.strip()
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return as_text(value)  # keep what the API said rather than invent or drop it
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def duration_seconds(obj: Mapping[str, Any]) -> float | None:
    """Seconds from ``duration``/``durationSeconds`` (s, or ``HH:MM:SS``) or ``durationMs`` (ms)."""
    ms = as_float(_first(obj, *DURATION_MS_KEYS))
    if ms is not None:
        return round(ms / 1000, 3)
    raw = _first(obj, *DURATION_KEYS)
    if isinstance(raw, str) and ":" in raw:
        try:
            parts = [float(p) for p in raw.strip().split(":")]
        except ValueError:
            return None
        total = 0.0
        for part in parts:
            total = total * 60 + part
        return total if math.isfinite(total) and total >= 0 else None  # "NaN:0", "inf:00": absent
    seconds = as_float(raw)
    return round(seconds, 3) if seconds is not None else None


_KIND_WORDS: Mapping[str, MediaType] = {
    "image": "image",
    "photo": "image",
    "picture": "image",
    "still": "image",
    "graphic": "image",
    "video": "video",
    "movie": "video",
    "clip": "video",
    "footage": "video",
    "audio": "audio",
    "sound": "audio",
    "music": "audio",
    "document": "document",
    "doc": "document",
    "pdf": "document",
    "text": "document",
    "file": "document",
}


def media_type_of(obj: Mapping[str, Any]) -> MediaType | None:
    """image/video/audio/document from a kind field, else from the MIME type's top level."""
    kind = as_text(_first(obj, *KIND_KEYS))
    if kind:
        found = _KIND_WORDS.get(kind.lower().split("/")[0])
        if found:
            return found
    mime = mime_type_of(obj)
    if mime:
        top = mime.split("/", 1)[0].lower()
        if top in ("image", "video", "audio"):
            return top  # type: ignore[return-value]
        if top in ("application", "text"):
            return "document"
    return None


def mime_type_of(obj: Mapping[str, Any]) -> str | None:
    return as_text(_first(obj, *MIME_KEYS))


def _names(value: Any) -> list[str]:
    """Strings from a list of strings or of objects with a name/label/title/value."""
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;]", value)]
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for item in value:
        text = as_text(item) if not isinstance(item, dict) else as_text(_first(item, *NAME_ITEM_KEYS))
        if text and text not in out:
            out.append(text)
    return out


def _self_href_id(obj: Mapping[str, Any]) -> str | None:
    links = obj.get("_links")
    if isinstance(links, dict):
        self_link = links.get("self")
        if isinstance(self_link, list):
            self_link = self_link[0] if self_link else None
        href = self_link.get("href") if isinstance(self_link, dict) else None
        if isinstance(href, str):
            path = urlsplit(href).path.rstrip("/")
            segment = unquote(path.rsplit("/", 1)[-1]) if path else ""
            return segment or None
    return None


def object_id(obj: Mapping[str, Any], kind: str) -> str | None:
    """The id of an album (kind="album") or asset (kind="asset")."""
    return as_text(_first(obj, *ID_KEYS, f"{kind}Id", f"{kind}_id")) or _self_href_id(obj)


def one_line(text: str | None, limit: int = SUMMARY_DESCRIPTION_CHARS) -> str | None:
    """The first line of ``text``, cut to ``limit`` characters with an ellipsis."""
    if not text:
        return None
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line or None


def _link_href(obj: Mapping[str, Any], rel: str) -> str | None:
    links = obj.get("_links")
    if isinstance(links, dict):
        link = links.get(rel)
        if isinstance(link, list):
            link = link[0] if link else None
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            return str(link["href"])
    return None


# ---------------------------------------------------------------- objects


def _trim(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return value if len(value) <= EXTRA_MAX_STRING else value[: EXTRA_MAX_STRING - 1] + "…"
    if isinstance(value, list):
        return [_trim(v, depth + 1) for v in value[:EXTRA_MAX_ITEMS]] if depth < 2 else f"[{len(value)} items]"
    if isinstance(value, dict):
        if depth >= 2:
            return "{…}"
        return {str(k): _trim(v, depth + 1) for k, v in list(value.items())[:EXTRA_MAX_KEYS]}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any] | None:
    rest = {k: _trim(v) for k, v in obj.items() if k not in known and v is not None}
    if not rest:
        return None
    return dict(list(rest.items())[:EXTRA_MAX_KEYS])


def _dimension(obj: Mapping[str, Any], axis: str) -> int | None:
    direct = as_int(_first(obj, *(WIDTH_KEYS if axis == "width" else HEIGHT_KEYS)))
    if direct is not None:
        return direct
    dims = _first(obj, *DIMENSIONS_KEYS)
    if isinstance(dims, dict):
        return as_int(dims.get(axis))
    return None


def _relation(raw: Any) -> Relation | None:
    if not isinstance(raw, dict):
        return None
    rtype = as_text(_first(raw, "type", "relationType", "relation_type", "kind"))
    target = raw.get("target")
    if isinstance(target, dict):
        target = object_id(target, "asset")
    target_id = as_text(target) or as_text(_first(raw, "targetId", "target_id", "assetId", "asset_id", "to"))
    if rtype is None and target_id is None:
        return None
    return Relation(
        type=rtype or "related",
        target_id=target_id,
        direction=as_text(_first(raw, "direction", "directionality")),
        description=as_text(raw.get("description")),
        time_in_seconds=as_float(_first(raw, "timeIn", "time_in", "in")),
        time_out_seconds=as_float(_first(raw, "timeOut", "time_out", "out")),
    )


def _album_ids(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    ids = [as_text(v) if not isinstance(v, dict) else object_id(v, "album") for v in value]
    return [i for i in ids if i]


def _preview_available(obj: Mapping[str, Any]) -> bool:
    flag = _first(obj, *PREVIEW_FLAG_KEYS)
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, str):
        return flag.strip().lower() in ("true", "1", "yes")
    return bool(_link_href(obj, "preview") or _first(obj, *PREVIEW_LINK_KEYS))


def parse_asset(obj: Mapping[str, Any]) -> Asset | None:
    """An :class:`Asset` from any accepted object variant; None without an id."""
    asset_id = object_id(obj, "asset")
    if asset_id is None:
        return None
    relations = _first(obj, *RELATIONS_KEYS)
    parsed_relations = [r for r in (_relation(x) for x in relations) if r] if isinstance(relations, list) else None
    return Asset(
        id=asset_id,
        name=as_text(_first(obj, *ASSET_NAME_KEYS)),
        media_type=media_type_of(obj),
        mime_type=mime_type_of(obj),
        size_bytes=as_int(_first(obj, *SIZE_KEYS)),
        duration_seconds=duration_seconds(obj),
        width=_dimension(obj, "width"),
        height=_dimension(obj, "height"),
        created=iso_timestamp(_first(obj, *CREATED_KEYS)),
        updated=iso_timestamp(_first(obj, *UPDATED_KEYS)),
        description=as_text(_first(obj, *DESCRIPTION_KEYS)),
        keywords=_names(_first(obj, *KEYWORD_KEYS)),
        labels=_names(_first(obj, *LABEL_KEYS)),
        albums=_album_ids(_first(obj, *ALBUM_IDS_KEYS)),
        relations=parsed_relations,
        preview_available=_preview_available(obj),
        extra=_extra(obj, ASSET_KNOWN),
    )


def parse_album(obj: Mapping[str, Any]) -> Album | None:
    """An :class:`Album` from any accepted object variant; None without an id."""
    album_id = object_id(obj, "album")
    if album_id is None:
        return None
    return Album(
        id=album_id,
        name=as_text(_first(obj, *NAME_KEYS)),
        description=as_text(_first(obj, *DESCRIPTION_KEYS)),
        asset_count=as_int(_first(obj, *ASSET_COUNT_KEYS)),
        created=iso_timestamp(_first(obj, *CREATED_KEYS)),
        updated=iso_timestamp(_first(obj, *UPDATED_KEYS)),
        keywords=_names(_first(obj, *KEYWORD_KEYS)),
        labels=_names(_first(obj, *LABEL_KEYS)),
        url=as_text(_first(obj, *ALBUM_URL_KEYS)),
    )


def parse_album_summary(obj: Mapping[str, Any]) -> AlbumSummary | None:
    """An :class:`AlbumSummary` read straight from any accepted album variant (only the fields a list
    shows are parsed); None without an id."""
    album_id = object_id(obj, "album")
    if album_id is None:
        return None
    return AlbumSummary(
        id=album_id,
        name=as_text(_first(obj, *NAME_KEYS)),
        description=one_line(as_text(_first(obj, *DESCRIPTION_KEYS))),
        asset_count=as_int(_first(obj, *ASSET_COUNT_KEYS)),
        updated=iso_timestamp(_first(obj, *UPDATED_KEYS)),
    )


def parse_asset_summary(obj: Mapping[str, Any]) -> AssetSummary | None:
    """An :class:`AssetSummary` read straight from any accepted asset variant; None without an id."""
    asset_id = object_id(obj, "asset")
    if asset_id is None:
        return None
    return AssetSummary(
        id=asset_id,
        name=as_text(_first(obj, *ASSET_NAME_KEYS)),
        media_type=media_type_of(obj),
        duration_seconds=duration_seconds(obj),
        created=iso_timestamp(_first(obj, *CREATED_KEYS)),
        description=one_line(as_text(_first(obj, *DESCRIPTION_KEYS))),
    )


# ---------------------------------------------------------------- lists


def _dict_items(values: Iterable[Any]) -> tuple[list[dict[str, Any]], int]:
    items = [v for v in values if isinstance(v, dict)]
    return items, sum(1 for v in values if not isinstance(v, dict))


def _continuation(value: Any) -> tuple[str | None, str | None]:
    """(next_url, next_cursor) from a continuation field value."""
    if isinstance(value, dict):
        value = value.get("href") or value.get("url") or value.get("cursor")
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None, None
    text = str(value)
    if text.startswith(("http://", "https://", "/")):
        return text, None
    return None, text


def parse_list(body: Any, *, rel: str, link_next: str | None = None, total_header: str | None = None) -> RawPage:
    """One page from a list response body of any accepted family.

    Args:
        body: the decoded JSON body.
        rel: the expected collection name (``albums`` or ``assets``), preferred in ``_embedded``.
        link_next: the ``rel="next"`` target of the RFC 8288 ``Link`` header, if any.
        total_header: the ``X-Total-Count`` header, if any.
    """
    header_total = as_int(total_header)
    if isinstance(body, list):
        items, skipped = _dict_items(body)
        return RawPage(items, next_url=link_next, total=header_total, note=_skipped_note(skipped))
    if not isinstance(body, dict):
        return RawPage([], note="the API answered with a body that is not a list; no items read")

    if isinstance(body.get("_embedded"), dict):
        embedded: dict[str, Any] = body["_embedded"]
        values = embedded.get(rel)
        if not isinstance(values, list):
            values = next((v for v in embedded.values() if isinstance(v, list)), [])
        items, skipped = _dict_items(values)
        page = RawPage(items, next_url=_link_href(body, "next") or link_next, note=_skipped_note(skipped))
        _apply_page_block(page, body.get("page") if isinstance(body.get("page"), dict) else body)
        page.total = page.total if page.total is not None else header_total
        return page

    key = next((k for k in (*LIST_KEYS, rel) if isinstance(body.get(k), list)), None)
    if key is None:
        if "_links" in body or "page" in body:  # an empty HAL page omits _embedded
            page = RawPage([], next_url=_link_href(body, "next") or link_next)
            _apply_page_block(page, body.get("page") if isinstance(body.get("page"), dict) else body)
            return page
        return RawPage([], note="the API answered with an unrecognised list shape; no items read")
    items, skipped = _dict_items(body[key])
    page = RawPage(items, note=_skipped_note(skipped))
    for next_key in NEXT_KEYS:
        if next_key in body:
            page.next_url, page.next_cursor = _continuation(body[next_key])
            break
    if page.next_url is None and page.next_cursor is None:
        page.next_url = _link_href(body, "next") or link_next
    page.total = as_int(_first(body, *TOTAL_KEYS))
    if page.total is None:
        page.total = header_total
    if page.next_url is None and page.next_cursor is None:
        _apply_page_block(page, body.get("page") if isinstance(body.get("page"), dict) else body)
    return page


def _apply_page_block(page: RawPage, block: Any) -> None:
    """Fill total and, when no next link was given, the next page number from a page block."""
    if not isinstance(block, dict):
        return
    if page.total is None:
        page.total = as_int(_first(block, "totalElements", "total", "totalCount", "total_elements"))
    if page.next_url is None and page.next_cursor is None:
        number = as_int(block.get("number"))
        pages = as_int(block.get("totalPages", block.get("total_pages")))
        last = block.get("last")
        if number is not None and pages is not None and number + 1 < pages and last is not True and page.items:
            page.next_page = number + 1


def _skipped_note(skipped: int) -> str | None:
    return f"{skipped} list entries were not objects and were skipped" if skipped else None
