"""Where an asset's files are: the original's own link and the named renditions an asset body lists.

Guessed (footage-api.md, "Writes, files and keywords"): an asset may carry a link to its original
(HAL ``_links.download`` or ``_links.original``, or a ``downloadUrl``-like field) and list renditions
(name, MIME type, size) under ``renditions``, ``_embedded.renditions`` or ``_links.renditions``; each
may point to another origin (a CDN or signed storage URL). Nothing here raises on odd input: what
cannot be read is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from footage_mcp.rest.models import Asset, Rendition

ORIGINAL_LINK_RELS = ("download", "original", "file", "enclosure")
ORIGINAL_URL_KEYS = ("downloadUrl", "download_url", "originalUrl", "original_url", "fileUrl", "file_url")
_NAME_KEYS = ("name", "rel", "rendition", "profile", "key", "label", "title", "type")
_MIME_KEYS = ("mimeType", "mime_type", "contentType", "content_type", "type")
_SIZE_KEYS = ("size_bytes", "sizeBytes", "fileSize", "file_size", "size", "bytes", "length")
_HREF_KEYS = ("href", "url", "downloadUrl", "download_url", "link", "uri")
MAX_RENDITIONS = 50
MAX_NAME_CHARS = 64


@dataclass(frozen=True, slots=True)
class RenditionLink:
    """A rendition as listed, with the address it is fetched from (None when the asset gave none)."""

    rendition: Rendition
    href: str | None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _href(value: Any) -> str | None:
    """An href from a string, ``{"href": …}``, or a list of those (the first)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):
        for key in _HREF_KEYS:
            found = value.get(key)
            if isinstance(found, str) and found.strip():
                return found.strip()
        links = value.get("_links")
        if isinstance(links, Mapping):
            return _href(links.get("self")) or _href(links.get("download"))
    return None


def original_href(body: Mapping[str, Any]) -> str | None:
    """The original file's address the asset itself gives (``_links.download`` / ``original`` … or a
    ``downloadUrl``-like field), or None."""
    for container in (body.get("_links"), body.get("links")):
        if isinstance(container, Mapping):
            for rel in ORIGINAL_LINK_RELS:
                found = _href(container.get(rel))
                if found:
                    return found
    for key in ORIGINAL_URL_KEYS:
        found = body.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def _one(name: str | None, raw: Any) -> RenditionLink | None:
    if isinstance(raw, str):
        raw = {"href": raw}
    if not isinstance(raw, Mapping):
        return None
    if name is None:
        for key in _NAME_KEYS:
            value = raw.get(key)
            if isinstance(value, str) and value.strip() and "/" not in value:
                name = value
                break
    if not name or not name.strip():
        return None
    name = " ".join(name.split())[:MAX_NAME_CHARS]
    mime = next(
        (v.strip().lower() for k in _MIME_KEYS if isinstance(v := raw.get(k), str) and "/" in v),
        None,
    )
    size = next((s for k in _SIZE_KEYS if (s := _int(raw.get(k))) is not None), None)
    found_dims = raw.get("dimensions")
    dims: Mapping[str, Any] = found_dims if isinstance(found_dims, Mapping) else {}
    width = _int(raw.get("width")) if raw.get("width") is not None else _int(dims.get("width"))
    height = _int(raw.get("height")) if raw.get("height") is not None else _int(dims.get("height"))
    rendition = Rendition(name=name, mime_type=mime, width=width, height=height, size_bytes=size)
    return RenditionLink(rendition, _href(raw))


def _collect(value: Any, out: dict[str, RenditionLink]) -> None:
    items: list[tuple[str | None, Any]]
    if isinstance(value, list):
        items = [(None, v) for v in value]
    elif isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    else:
        return
    for name, raw in items[:MAX_RENDITIONS]:
        found = _one(name, raw)
        if found is None:
            continue
        key = found.rendition.name.lower()
        if key in out:  # the same rendition listed twice (field and link): merge what each knows
            known = out[key]
            merged = Rendition(
                name=known.rendition.name,
                mime_type=known.rendition.mime_type or found.rendition.mime_type,
                width=known.rendition.width if known.rendition.width is not None else found.rendition.width,
                height=known.rendition.height if known.rendition.height is not None else found.rendition.height,
                size_bytes=known.rendition.size_bytes
                if known.rendition.size_bytes is not None
                else found.rendition.size_bytes,
            )
            out[key] = RenditionLink(merged, known.href or found.href)
        elif len(out) < MAX_RENDITIONS:
            out[key] = found


def rendition_links(body: Mapping[str, Any]) -> list[RenditionLink]:
    """The renditions an asset body lists, in order, merged by name (case-insensitive): ``renditions``
    (a list or a name → object map), ``_embedded.renditions`` and ``_links.renditions``."""
    found: dict[str, RenditionLink] = {}
    _collect(body.get("renditions"), found)
    embedded = body.get("_embedded")
    if isinstance(embedded, Mapping):
        _collect(embedded.get("renditions"), found)
    links = body.get("_links")
    if isinstance(links, Mapping):
        _collect(links.get("renditions"), found)
    return [link for link in found.values() if link.rendition.name.lower() not in ("original", "preview")] + [
        link for link in found.values() if link.rendition.name.lower() in ("original", "preview")
    ]


def renditions_of(body: Mapping[str, Any]) -> list[Rendition] | None:
    """The :class:`Rendition` list for ``get_asset`` (None when the body names none)."""
    links = rendition_links(body)
    return [link.rendition for link in links] or None


__all__ = ["RenditionLink", "original_href", "rendition_links", "renditions_of", "with_renditions"]


def with_renditions(asset: Asset, body: Mapping[str, Any]) -> Asset:
    """``asset`` with the renditions ``body`` lists (and without them in ``extra``)."""
    renditions = renditions_of(body)
    extra = {k: v for k, v in (asset.extra or {}).items() if k != "renditions"} or None
    if renditions is None and extra == asset.extra:
        return asset
    return asset.model_copy(update={"renditions": renditions, "extra": extra})
