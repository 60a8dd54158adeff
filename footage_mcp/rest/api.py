"""The Footage domain on top of :mod:`footage_mcp.rest.http`: routes, paging and shapes → models.

:class:`FootageApi` is what the MCP tools call. It knows albums, assets, search, previews and
the discovery root; it knows nothing of MCP, and its errors name no MCP tool. Every method raises only
:class:`~footage_mcp.core.errors.FootageError` subclasses: structured where the caller needs to tell
what they are about (``NotFound(kind="album", id=...)``, ``InvalidCursor(listing=...)``), so that the
MCP surface can add its hints (:mod:`footage_mcp.surface.hints`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit

import anyio
import httpx2

from footage_mcp.core.errors import BadResponse, FootageError, Forbidden, InvalidArgument, InvalidCursor, NotFound
from footage_mcp.core.text import escape_control
from footage_mcp.rest.discovery import Link, Route, build_route_map, normalise_overrides, parse_root_links
from footage_mcp.rest.http import RestClient, decode_json
from footage_mcp.rest.keywords import Concept, KeywordRoute
from footage_mcp.rest.models import Album, AlbumList, ApiLink, ApiLinks, Asset, AssetList
from footage_mcp.rest.paging import (
    INLINE_CURSOR_CHARS,
    MAX_CURSOR_CHARS,
    CursorCodec,
    CursorState,
    cursor_key,
)
from footage_mcp.rest.renditions import with_renditions
from footage_mcp.rest.shapes import (
    RawPage,
    parse_album,
    parse_album_summary,
    parse_asset,
    parse_asset_summary,
    parse_list,
)
from footage_mcp.rest.tokens import state_secret
from footage_mcp.rest.urls import is_dot_segment

log = logging.getLogger(__name__)

ROOT_TTL_SECONDS = 300.0
"""How long the discovery root is cached."""
ROOT_RETRY_SECONDS = 30.0
"""After a failed root read, how long the defaults are used before trying again."""
CONFIGURATION_TTL_SECONDS = 60.0
"""How long the public archive configuration is cached."""

PARAMETER_NAMES: Mapping[str, tuple[str, ...]] = {
    # logical parameter → template variable names it may have (first match wins).
    "q": ("q", "query", "text", "search", "term"),
    "type": ("type", "mediaType", "media_type", "kind"),
    "album": ("album", "albumId", "album_id"),
    "label": ("label", "labels", "tag", "hashtag"),
    "keyword": ("keyword", "keywords"),
    "from": ("from", "createdAfter", "created_after", "since", "dateFrom", "start"),
    "to": ("to", "createdBefore", "created_before", "until", "dateTo", "end"),
    "size": ("size", "limit", "pageSize", "page_size", "per_page", "perPage"),
    "page": ("page", "pageNumber", "page_number"),
    "cursor": ("cursor", "pageToken", "page_token", "after", "continuation"),
}


LISTING_NAMES: Mapping[str, str] = {
    "albums": "the album list",
    "albumAssets": "the album's asset list",
    "search": "the search",
}
"""How messages name each listing (by route key); the surface names the tool."""


def variable_for(route: Route, logical: str) -> str | None:
    """The route's template variable for a logical parameter, or None."""
    names = set(route.variables)
    return next((n for n in PARAMETER_NAMES[logical] if n in names), None)


@dataclass(slots=True)
class ListPage:
    """Objects of one page plus the opaque continuation for the model.

    ``state`` is where the page's first item came from, so a cursor can resume after any item.
    """

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None
    state: CursorState
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) if self.notes else None


ListResult = TypeVar("ListResult", AlbumList, AssetList)


@dataclass(frozen=True, slots=True)
class Listing(Generic[ListResult]):
    """A list result plus ``resume(n)``: the cursor that continues right after its first ``n`` items
    (used to shrink a page to an output budget without losing or repeating items)."""

    result: ListResult
    resume: Callable[[int], str]


class FootageApi:
    """Albums, assets, search, previews and discovery for one base URL.

    The discovery root is read lazily, on the first call that needs a route (never at
    start), and cached for :data:`ROOT_TTL_SECONDS`.
    """

    def __init__(self, rest: RestClient, route_overrides: Mapping[str, str] | None = None) -> None:
        self.rest = rest
        self.base_url = rest.base_url
        self._overrides = normalise_overrides(route_overrides or {})
        shared = state_secret(rest.settings)  # several replicas: cursors carry their whole state
        self._cursors = CursorCodec(  # made on first use: per token (team mode builds one FootageApi per token)
            lambda: cursor_key(rest.token, rest.base_url, shared),
            inline_limit=MAX_CURSOR_CHARS if shared else INLINE_CURSOR_CHARS,
        )
        self._routes: dict[str, Route] | None = None
        self._links: list[Link] | None = None
        self._root_error: FootageError | None = None
        self._routes_expire = 0.0
        self._lock = anyio.Lock()
        self._configuration: tuple[float, dict[str, Any]] | None = None

    # ------------------------------------------------------------ discovery

    async def _refresh_routes(self) -> dict[str, Route]:
        now = time.monotonic()
        if self._routes is not None and now < self._routes_expire:
            return self._routes
        async with self._lock:
            if self._routes is not None and time.monotonic() < self._routes_expire:
                return self._routes
            try:
                body, _ = await self.rest.get_json(self.base_url + "/")
                links = parse_root_links(body)
                self._links, self._root_error = links, None
                ttl = ROOT_TTL_SECONDS
                if not links:
                    log.info("discovery: the root offered no links; using the default routes")
            except FootageError as exc:
                log.warning("discovery: cannot read the root (%s); using the default routes", exc.message)
                links, self._root_error, ttl = [], exc, ROOT_RETRY_SECONDS
            self._routes = build_route_map(self.base_url, links, self._overrides)
            self._routes_expire = time.monotonic() + ttl
            return self._routes

    async def route(self, key: str) -> Route:
        """The effective route for a route-map key (see :mod:`footage_mcp.rest.discovery`)."""
        return (await self._refresh_routes())[key]

    async def api_links(self) -> ApiLinks:
        """The discovery root's links (public; no token needed).

        Raises:
            FootageError: the root cannot be read.
        """
        await self._refresh_routes()
        if self._root_error is not None:
            raise self._root_error
        links = [ApiLink(name=k.name, href=k.href, templated=k.templated) for k in self._links or []]
        note = None if links else "the discovery root offers no links; the bridge uses its default routes"
        return ApiLinks(links=links, note=note)

    # ------------------------------------------------------------ single objects

    async def _object(self, key: str, object_id: str, kind: str) -> dict[str, Any]:
        route = await self.route(key)
        url = route.expand(self.base_url, {v: object_id for v in route.path_variables})
        try:
            body, _ = await self.rest.get_json(url)
        except (NotFound, Forbidden) as exc:
            raise _about(exc, kind, object_id) from None
        if isinstance(body, dict) and isinstance(body.get("_embedded"), dict) and not body.get("id"):
            inner = body["_embedded"].get(kind)
            if isinstance(inner, dict):
                body = inner
        for wrapper in ("data", kind, "item", "result"):
            if isinstance(body, dict) and isinstance(body.get(wrapper), dict) and len(body) <= 3:
                body = body[wrapper]
        if not isinstance(body, dict):
            raise BadResponse(
                f"the Footage API answered for {kind} '{escape_control(object_id)}' "
                "with something that is not an object"
            )
        return body

    async def get_album(self, album_id: str) -> Album:
        """One album. Raises NotFound (``kind="album"``), Forbidden, FootageError."""
        body = await self._object("album", album_id, "album")
        album = parse_album(body)
        if album is None:
            album = parse_album({**body, "id": album_id})
        assert album is not None
        return album

    async def get_asset(self, asset_id: str) -> Asset:
        """One asset. Raises NotFound (``kind="asset"``), Forbidden, FootageError."""
        body = await self.asset_object(asset_id)
        asset = parse_asset(body) or parse_asset({**body, "id": asset_id})
        assert asset is not None
        return with_renditions(asset, body)

    async def asset_object(self, asset_id: str) -> dict[str, Any]:
        """The asset's JSON object as the API sent it (for its links: :mod:`footage_mcp.rest.renditions`).
        Raises NotFound (message names the id), FootageError."""
        return await self._object("asset", asset_id, "asset")

    async def get_preview(
        self, asset_id: str, head_check: Callable[[bytes, str], None] | None = None
    ) -> tuple[bytes, str]:
        """The preview rendition's bytes and MIME type; ``head_check`` may refuse the body from its
        first bytes (see :meth:`RestClient.get`), its exception propagating.

        Raises:
            NotFound: no such asset, or it has no preview (``kind="preview"``).
            BadResponse: the answer is not an image.
        """
        route = await self.route("assetPreview")
        url = route.expand(self.base_url, {v: asset_id for v in route.path_variables})
        try:
            fetched = await self.rest.get(url, accept="image/*", binary=True, head_check=head_check)
        except NotFound:
            raise NotFound(
                f"asset '{asset_id}' has no preview (or does not exist)", 404, kind="preview", id=asset_id
            ) from None
        mime = fetched.content_type
        if not mime.startswith("image/"):
            raise BadResponse(
                f"the Footage API's preview for asset '{asset_id}' is not an image ({mime or 'no content type'})"
            )
        return fetched.content, mime

    def _missing_route(self, key: str, url: str) -> NotFound:
        path = self.rest.relative_path(url) or url
        return NotFound(
            f"the API answered 404 for its {key} route ('{path.split('?')[0]}'): check that FOOTAGE_BASE_URL "
            f"ends in /api/asset, or set the {key} route in FOOTAGE_ROUTES",
            404,
        )

    async def archive_configuration(self) -> dict[str, Any]:
        """The public archive configuration (footage-api.md: public, no token), cached for
        :data:`CONFIGURATION_TTL_SECONDS` (it changes rarely; a copy is returned)."""
        if self._configuration is not None and time.monotonic() < self._configuration[0]:
            return dict(self._configuration[1])
        route = await self.route("archiveConfiguration")
        url = route.expand(self.base_url, {})
        try:
            body, _ = await self.rest.get_json(url)
        except NotFound:
            raise self._missing_route("archiveConfiguration", url) from None
        configuration = body if isinstance(body, dict) else {"value": body}
        self._configuration = (time.monotonic() + CONFIGURATION_TTL_SECONDS, configuration)
        return dict(configuration)

    # ------------------------------------------------------------ keyword taxonomy

    async def suggest_keywords(self, text: str, language: str | None = None) -> list[Concept]:
        """Taxonomy concepts matching ``text`` (see :class:`footage_mcp.rest.keywords.KeywordRoute`)."""
        return await KeywordRoute(self).suggest_keywords(text, language)

    # ------------------------------------------------------------ lists

    async def list_albums(self, *, query: str | None, limit: int, cursor: str | None) -> Listing[AlbumList]:
        page = await self._list("albums", "albums", {}, {"q": query}, limit, cursor)
        parsed = [(i, a) for i, a in enumerate(parse_album_summary(o) for o in page.items) if a]
        _note_unreadable(page, len(parsed))
        result = AlbumList(
            albums=[a for _, a in parsed], next_cursor=page.next_cursor, total=page.total, note=page.note
        )
        return Listing(result, self._resumer(page, [i for i, _ in parsed]))

    def _resumer(self, page: ListPage, raw_indexes: list[int]) -> Callable[[int], str]:
        def resume(n: int) -> str:
            raw = raw_indexes[n] if n < len(raw_indexes) else len(page.items)
            state = page.state
            return self._cursors.encode(CursorState(state.url, state.skip + raw, state.scope))

        return resume

    async def list_album_assets(self, album_id: str, *, limit: int, cursor: str | None) -> Listing[AssetList]:
        try:
            page = await self._list(
                "albumAssets",
                "assets",
                {"id": album_id},
                {},
                limit,
                cursor,
                scope=f"albumAssets:{album_id}",
            )
        except (NotFound, Forbidden) as exc:
            raise _about(exc, "album", album_id) from None
        return self._asset_list(page)

    async def search_assets(
        self, filters: Mapping[str, str | None], *, limit: int, cursor: str | None
    ) -> Listing[AssetList]:
        """Search; ``filters`` keys are logical names: q, type, album, label, keyword, from, to.

        Raises:
            NotFound: ``kind="album"``: no hits with an ``album`` filter, and that album does not exist
                (one more request, only then: an API may answer an unknown album with no hits, as for an
                empty one).
        """
        page = await self._list("search", "assets", {}, filters, limit, cursor)
        album = filters.get("album")
        if album and not cursor and not page.items:
            await self._object("album", album, "album")  # raises NotFound(kind="album") when there is none
        return self._asset_list(page)

    def _asset_list(self, page: ListPage) -> Listing[AssetList]:
        parsed = [(i, a) for i, a in enumerate(parse_asset_summary(o) for o in page.items) if a]
        _note_unreadable(page, len(parsed))
        result = AssetList(
            assets=[a for _, a in parsed], next_cursor=page.next_cursor, total=page.total, note=page.note
        )
        return Listing(result, self._resumer(page, [i for i, _ in parsed]))

    async def _list(
        self,
        key: str,
        rel: str,
        path_values: Mapping[str, str],
        filters: Mapping[str, str | None],
        limit: int,
        cursor: str | None,
        *,
        scope: str | None = None,
    ) -> ListPage:
        scope = scope or key
        route = await self.route(key)
        notes: list[str] = []
        if cursor:
            state = self._cursors.decode(cursor, scope, LISTING_NAMES[key])
            if not self.rest.is_under_base(state.url):
                raise InvalidCursor(
                    f"the cursor leads outside the Footage API: start {LISTING_NAMES[key]} again",
                    listing=key,
                    start_again=True,
                )
            url, skip = state.url, state.skip
        else:
            values: dict[str, Any] = {}
            for path_var in route.path_variables:
                values[path_var] = path_values.get("id")
            for logical, value in filters.items():
                if value is None or value == "":
                    continue
                var = variable_for(route, logical)
                if var is None:
                    notes.append(
                        f"this API's {key} route takes no '{logical}' parameter, so that filter was not applied"
                    )
                else:
                    values[var] = value
            size_var = variable_for(route, "size")
            if size_var:
                values[size_var] = limit
            url, skip = route.expand(self.base_url, values), 0

        try:
            body, fetched = await self.rest.get_json(url)
        except NotFound:
            if key == "albumAssets":
                raise
            raise self._missing_route(key, url) from None
        raw = parse_list(body, rel=rel, link_next=fetched.next_link, total_header=fetched.headers.get("x-total-count"))
        if raw.note:
            notes.append(raw.note)
        items = raw.items[skip : skip + limit]
        next_state = self._next_state(route, url, raw, skip + limit, scope, notes)
        next_cursor = self._cursors.encode(next_state) if next_state else None
        return ListPage(
            items=items, next_cursor=next_cursor, total=raw.total, state=CursorState(url, skip, scope), notes=notes
        )

    def _next_state(
        self, route: Route, url: str, raw: RawPage, consumed: int, scope: str, notes: list[str]
    ) -> CursorState | None:
        """Where the next page starts, or None at the end (with a note when the end is forced)."""
        if consumed < len(raw.items):
            return CursorState(url, consumed, scope)
        target: str | None = None
        if raw.next_url is not None:
            try:  # the API's link is outside data: a bad port or bracket must not lose this page
                target = str(httpx2.URL(url).join(raw.next_url))
                _ = urlsplit(target).port
            except (httpx2.InvalidURL, ValueError):
                notes.append("the API's next-page link is not a valid URL, so the listing ends here")
                return None
            if not self.rest.is_under_base(target):
                notes.append("the API's next-page link leads outside the base URL, so the listing ends here")
                return None
        elif raw.next_cursor is not None:
            if not raw.next_cursor.strip():
                notes.append("the API returned an empty continuation cursor, so the listing ends here")
                return None
            var = variable_for(route, "cursor") or "cursor"
            if httpx2.URL(url).params.get(var) == raw.next_cursor:
                notes.append("the API returned the same cursor again, so the listing ends here")
                return None
            target = str(httpx2.URL(url).copy_set_param(var, raw.next_cursor))
        elif raw.next_page is not None:
            var = variable_for(route, "page") or "page"
            target = str(httpx2.URL(url).copy_set_param(var, raw.next_page))
        if target is None:
            return None
        if self.rest.redactor.contains(target):
            notes.append(
                "the API's next-page link contains the API token, so the listing ends here (the bridge never hands "
                "the token out)"
            )
            return None
        if target == url:
            notes.append("the API's next page is the same as this one, so the listing ends here")
            return None
        return CursorState(target, 0, scope)

    # ------------------------------------------------------------ raw GET

    async def api_get(self, path: str, query: Sequence[tuple[str, str]] | None) -> Any:
        """The JSON body of ``GET {base}/{path}?{query}``; ``path`` must stay under the base path.

        Raises:
            InvalidArgument: an absolute URL, a host, ``..`` segments, or a backslash in ``path``.
            NotFound: nothing at ``path`` (``kind="path"``).
            BadResponse: the path answers with something other than JSON (``kind`` ``image`` or
                ``binary``).
            FootageError: as :meth:`RestClient.get_json`.
        """
        url = self.resolve_path(path)
        if query:
            url = str(httpx2.URL(url).copy_merge_params(list(query)))
        try:
            fetched = await self.rest.get(url)
        except NotFound:
            raise NotFound(f"nothing at '{path}' (404)", 404, kind="path", id=path) from None
        kind = fetched.content_type
        if kind and "json" not in kind and not kind.startswith("text/"):
            raise BadResponse(
                f"'{path}' answers with {kind}, not JSON",
                kind="image" if kind.startswith("image/") else "binary",
                id=path,
            )
        return decode_json(fetched)

    def resolve_path(self, path: str) -> str:
        """The absolute URL of ``path`` under the base URL.

        Raises:
            InvalidArgument: when ``path`` could leave the base path.
        """
        text = path.strip()
        example = "e.g. 'albums' or 'configuration/archive'"
        if "://" in text or text.startswith("//") or "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise InvalidArgument(f"path must be relative to the API base URL, {example}")
        if "?" in text or "#" in text:
            raise InvalidArgument(f"path must not contain '?' or '#'; pass query parameters in 'query', {example}")
        segments = text.split("/")
        if any(is_dot_segment(seg) or "/" in unquote(seg) or "\\" in unquote(seg) for seg in segments):
            raise InvalidArgument(
                f"path must not contain '.' or '..' segments (in any encoding, or with ';' parameters) or encoded "
                f"slashes, {example}"
            )
        url = self.base_url + "/" + text.lstrip("/")
        if not self.rest.is_under_base(url):
            raise InvalidArgument(f"path must stay under the API base URL, {example}")
        return url


def _about(exc: NotFound | Forbidden, kind: str, object_id: str) -> NotFound | Forbidden:
    """A 404 or 403 restated for one album or asset: which id (``kind`` and ``id`` set)."""
    if isinstance(exc, NotFound):
        return NotFound(f"{kind} '{escape_control(object_id)}' not found", 404, kind=kind, id=object_id)
    return Forbidden(
        f"the token's user has no permission to see {kind} '{escape_control(object_id)}' (403); ask the library's "
        "owner to share it, or use another id",
        403,
        kind=kind,
        id=object_id,
    )


def _note_unreadable(page: ListPage, parsed: int) -> None:
    missing = len(page.items) - parsed
    if missing:
        page.notes.append(f"{missing} entries had no recognisable id and were left out")


__all__ = ["FootageApi", "ListPage", "Listing"]
