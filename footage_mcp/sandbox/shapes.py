"""How the sandbox spells objects, list envelopes and discovery links in each response shape.

``hal``: camelCase objects with ``_links``, lists as ``_embedded`` + ``page`` + ``_links.next``.
``array``: snake_case objects (epoch-millisecond times, size as a numeric string), bare JSON arrays
with ``Link: <…>; rel="next"`` and ``X-Total-Count`` headers.
``items``: ``assetId``/``albumId`` objects without a media-kind field, lists as
``{"items", "nextCursor", "total"}``. Relation objects are the same in every shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import URL

from .constants import BASE_PATH, VERSION
from .library import Album, Asset, Relation
from .paging import Paging, encode_cursor
from .writepaths import write_paths

__all__ = ["ListPage", "Site", "album_json", "asset_json", "list_body", "relation_json", "root_body"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Site:
    """Where the sandbox is reached (``origin`` = scheme://host[:port]) and which route names it uses."""

    origin: str
    shape: str
    alt_routes: bool = False

    @property
    def album_assets_segment(self) -> str:
        """Last path segment of the album-assets route."""
        return "contents" if self.alt_routes else "assets"

    @property
    def search_path(self) -> str:
        """Search route path under BASE_PATH."""
        return "/find/assets" if self.alt_routes else "/search/assets"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (relative to BASE_PATH)."""
        return f"{self.origin}{BASE_PATH}{path}"

    def paging_vars(self) -> str:
        """RFC 6570 variable names for list paging in this shape."""
        return "cursor,size" if self.shape == "items" else "page,size"


def _iso(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix, whole seconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(moment.timestamp()) * 1000


def _drop_none(obj: Json) -> Json:
    """``obj`` without keys whose value is None."""
    return {k: v for k, v in obj.items() if v is not None}


def relation_json(relation: Relation) -> Json:
    """``{"type", "target", "direction", "description"?, "timeIn"?, "timeOut"?}`` (every shape)."""
    return _drop_none(
        {
            "type": relation.type,
            "target": relation.target,
            "direction": relation.direction,
            "description": relation.description,
            "timeIn": relation.time_in,
            "timeOut": relation.time_out,
        }
    )


def _asset_hal(asset: Asset, site: Site) -> Json:
    """HAL spelling: camelCase, ``durationMs``, ISO times, ``_links``; None fields omitted."""
    links: Json = {"self": {"href": site.url(f"/assets/{quote(asset.id)}")}}
    paths = write_paths(site.alt_routes)
    if asset.preview_available:
        links["preview"] = {"href": site.url(f"/assets/{quote(asset.id)}/preview")}
    for rel, template in (("labels", paths.labels), ("keywords", paths.keywords), ("relations", paths.relations)):
        links[rel] = {"href": site.url(template.replace("{id}", quote(asset.id)))}
    body = {
        "id": asset.id,
        "name": asset.name,
        "description": asset.description,
        "mediaType": asset.kind,
        "mimeType": asset.mime_type,
        "fileSize": asset.size_bytes,
        "durationMs": round(asset.duration * 1000) if asset.duration is not None else None,
        "width": asset.width,
        "height": asset.height,
        "createdAt": _iso(asset.created),
        "updatedAt": _iso(asset.updated),
        "keywords": list(asset.keywords),
        "labels": list(asset.labels),
        "albumIds": list(asset.album_ids),
        "relations": [relation_json(r) for r in asset.relations],
        "previewAvailable": asset.preview_available,
        "rating": asset.rating,
        "colorLabel": asset.color_label,
        "checksum": f"sha256:{asset.checksum}" if asset.checksum else None,
        "_links": links,
    }
    return _drop_none(body)


def _asset_array(asset: Asset) -> Json:
    """Array spelling: snake_case, size as a numeric string, epoch ms, nulls kept."""
    return {
        "uuid": asset.id,
        "title": asset.name,
        "description": asset.description,
        "type": asset.kind,
        "mime_type": asset.mime_type,
        "size_bytes": str(asset.size_bytes),
        "duration": asset.duration,
        "width": asset.width,
        "height": asset.height,
        "created_at": _epoch_ms(asset.created),
        "updated_at": _epoch_ms(asset.updated),
        "keywords": list(asset.keywords),
        "labels": list(asset.labels),
        "album_ids": list(asset.album_ids),
        "relations": [relation_json(r) for r in asset.relations],
        "preview_available": asset.preview_available,
        "rating": asset.rating,
        "color_label": asset.color_label,
        "checksum_sha256": asset.checksum or None,
    }


def _asset_items(asset: Asset) -> Json:
    """Items spelling: ``assetId``/``title``, no media kind (only ``mimeType``), None omitted."""
    return _drop_none(
        {
            "assetId": asset.id,
            "title": asset.name,
            "description": asset.description,
            "mimeType": asset.mime_type,
            "size": asset.size_bytes,
            "duration": asset.duration,
            "width": asset.width,
            "height": asset.height,
            "dateCreated": _iso(asset.created),
            "dateModified": _iso(asset.updated),
            "keywords": list(asset.keywords),
            "labels": list(asset.labels),
            "albums": list(asset.album_ids),
            "relations": [relation_json(r) for r in asset.relations],
            "hasPreview": asset.preview_available,
            "starRating": asset.rating,
        }
    )


def asset_json(asset: Asset, site: Site) -> Json:
    """``asset`` spelled for ``site.shape``."""
    if site.shape == "array":
        return _asset_array(asset)
    if site.shape == "items":
        return _asset_items(asset)
    return _asset_hal(asset, site)


def album_json(album: Album, site: Site) -> Json:
    """``album`` spelled for ``site.shape``."""
    if site.shape == "array":
        return {
            "uuid": album.id,
            "title": album.name,
            "description": album.description,
            "asset_count": len(album.asset_ids),
            "created_at": _epoch_ms(album.created),
            "updated_at": _epoch_ms(album.updated),
            "keywords": list(album.keywords),
            "labels": list(album.labels),
            "cover_uuid": album.asset_ids[0] if album.asset_ids else None,
        }
    if site.shape == "items":
        return {
            "albumId": album.id,
            "name": album.name,
            "description": album.description,
            "totalAssets": len(album.asset_ids),
            "dateCreated": _iso(album.created),
            "dateModified": _iso(album.updated),
            "keywords": list(album.keywords),
            "labels": list(album.labels),
        }
    self_href = site.url(f"/albums/{quote(album.id)}")
    return {
        "id": album.id,
        "name": album.name,
        "description": album.description,
        "assetCount": len(album.asset_ids),
        "createdAt": _iso(album.created),
        "updatedAt": _iso(album.updated),
        "keywords": list(album.keywords),
        "labels": list(album.labels),
        "_links": {
            "self": {"href": self_href},
            "assets": {"href": f"{self_href}/{site.album_assets_segment}"},
        },
    }


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a list: the serialized rows, the total, and the request it answers."""

    rel: str
    rows: Sequence[Json]
    total: int
    paging: Paging
    request_url: URL


def list_body(page: ListPage, shape: str) -> tuple[Any, dict[str, str]]:
    """The JSON body and extra headers for ``page`` in ``shape``."""
    following = page.paging.next_offset(page.total)
    if shape == "items":
        cursor = encode_cursor(following) if following is not None else None
        return {"items": list(page.rows), "nextCursor": cursor, "total": page.total}, {}
    next_url = None
    if following is not None:
        next_url = str(page.request_url.include_query_params(page=page.paging.page + 1, size=page.paging.size))
    if shape == "array":
        headers = {"X-Total-Count": str(page.total)}
        if next_url:
            headers["Link"] = f'<{next_url}>; rel="next"'
        return list(page.rows), headers
    links: Json = {"self": {"href": str(page.request_url)}}
    if next_url:
        links["next"] = {"href": next_url}
    size = page.paging.size
    meta = {"size": size, "totalElements": page.total, "totalPages": -(-page.total // size), "number": page.paging.page}
    return {"_embedded": {page.rel: list(page.rows)}, "_links": links, "page": meta}, {}


def root_body(site: Site) -> Json:
    """The discovery root: named links, templated ones as RFC 6570 templates.

    Hrefs mix absolute (``http://host/api/asset/albums{?q,page,size}``) and root-relative
    (``/api/asset/assets/{id}``) forms on purpose; in the ``items`` shape the album-assets link is
    spelled ``album-assets`` and lists page by ``cursor``.
    """
    paging = site.paging_vars()
    rel = BASE_PATH
    search_vars = f"q,type,album,label,keyword,from,to,{paging}"
    links: Json = {
        "self": {"href": site.url("/")},
        "albums": {"href": site.url(f"/albums{{?q,{paging}}}"), "templated": True},
        "album": {"href": f"{rel}/albums/{{id}}", "templated": True},
        "album-assets" if site.shape == "items" else "albumAssets": {
            "href": site.url(f"/albums/{{id}}/{site.album_assets_segment}{{?{paging}}}"),
            "templated": True,
        },
        "assets": {"href": f"{rel}/assets{{?{paging}}}", "templated": True},
        "asset": {"href": f"{rel}/assets/{{id}}", "templated": True},
        "assetPreview": {"href": site.url("/assets/{id}/preview{?size}"), "templated": True},
        "search": {"href": site.url(f"{site.search_path}{{?{search_vars}}}"), "templated": True},
        "archiveConfiguration": {"href": site.url("/configuration/archive")},
        "publicStatus": {"href": f"{rel}/public/status"},
    }
    for name, template in write_paths(site.alt_routes).root_links().items():
        links[name] = {"href": site.url(template), "templated": True}
    return {"_links": links, "name": "Footage Sandbox", "version": VERSION}
