"""The sandbox ASGI app: a local emulator of the Footage REST API under ``/api/asset``.

Auth as on footage.one (confirmed): ``GET /``, ``GET /configuration/archive`` and ``/public/...`` are
public; everything else needs the header ``apiKey: <token>`` (401 JSON otherwise). GET and HEAD are
served, plus the write routes of :mod:`.writes` and ``OPTIONS`` (405 otherwise). Errors are
Spring-Boot-style JSON ``{"status", "error", "message", "path"}``.
The response shape (``hal``, ``array``, ``items``) is fixed per app; see :mod:`.shapes`.
Fault injection (:mod:`.faults`) applies before auth; the control API (:mod:`.control`) is under ``/_sandbox/``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .constants import ARCHIVE_NAME, BASE_PATH, MAX_PAGE_SIZE, SHAPES, VERSION, default_tokens
from .control import control_routes
from .errors import ApiError, bad_parameter, error_body, not_found
from .faults import CLOSED_ORIGIN, FaultMiddleware, SandboxState, parse_rules
from .files import FileStore
from .keywords import keyword_body
from .library import DEFAULT_SEED, MEDIA_KINDS, RELATION_TYPES, Album, Asset, Library, shared_library
from .paging import parse_paging
from .previews import PreviewUnavailable, render_preview
from .search import SearchIndex, parse_search
from .shapes import ListPage, Site, album_json, asset_json, list_body, root_body
from .store import Store
from .taxonomy import get_taxonomy
from .writepaths import write_paths
from .writes import WriteMode, extend_routes, with_etag

__all__ = ["create_app"]

_PUBLIC_PATHS = frozenset({BASE_PATH, f"{BASE_PATH}/", f"{BASE_PATH}/configuration/archive"})
_PUBLIC_PREFIX = f"{BASE_PATH}/public/"
_UNAUTHORIZED = "Full authentication is required to access this resource"
_MAX_UPLOAD_BYTES = 10 * 1024**3

Handler = Callable[[Request], Awaitable[Response]]


class JsonResponse(Response):
    """Compact UTF-8 JSON; ``media_type`` is ``application/json`` or ``application/hal+json``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize ``content`` without ASCII escaping or spaces."""
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error_response(status: int, message: str, path: str, headers: dict[str, str] | None = None) -> Response:
    """The JSON error response for ``status``."""
    return JsonResponse(error_body(status, message, path), status_code=status, headers=headers)


def requires_token(path: str) -> bool:
    """Whether ``path`` needs the ``apiKey`` header (paths outside BASE_PATH are simply 404)."""
    if path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIX):
        return False
    return path.startswith(f"{BASE_PATH}/")


class ApiKeyMiddleware:
    """Rejects requests without the exact ``apiKey`` header on non-public paths (401 JSON)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        """Wrap ``app``; ``token`` is the only accepted value."""
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorized or public requests through; answer 401 otherwise."""
        if scope["type"] == "http" and requires_token(scope["path"]):
            given = Headers(scope=scope).get("apikey", "").encode()
            if not hmac.compare_digest(given, self.token):
                await _error_response(401, _UNAUTHORIZED, scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass(frozen=True, slots=True)
class _Config:
    shape: str
    alt_routes: bool
    archive_name: str = ARCHIVE_NAME


class _Api:
    """Route handlers over one library, in one response shape."""

    def __init__(self, library: Library, config: _Config) -> None:
        """Index ``library`` for search."""
        self.library = library
        self.config = config
        self.taxonomy = get_taxonomy()
        self.index = SearchIndex(library, self.taxonomy)
        self.files: FileStore  # set by create_app

    def replace_library(self, library: Library) -> None:
        """Serve ``library`` from now on (after a write), with a fresh search index."""
        self.library = library
        self.index = SearchIndex(library, self.taxonomy)
        if getattr(self, "files", None) is not None:  # the file side reads and extends the same library
            self.files.library, self.files.index = library, self.index

    # -- helpers ---------------------------------------------------------------------------

    def site(self, request: Request) -> Site:
        """Origin (from the request's Host) plus this app's shape and route names."""
        url = request.url
        return Site(origin=f"{url.scheme}://{url.netloc}", shape=self.config.shape, alt_routes=self.config.alt_routes)

    def json(self, body: Any, headers: dict[str, str] | None = None) -> Response:
        """A 200 JSON response, ``application/hal+json`` in the HAL shape."""
        media = "application/hal+json" if self.config.shape == "hal" else "application/json"
        return JsonResponse(body, headers=headers, media_type=media)

    def album_or_404(self, request: Request) -> Album:
        """The album named by the ``id`` path parameter."""
        album_id = request.path_params["id"]
        album = self.library.album(album_id)
        if album is None:
            raise not_found(f"Album '{album_id}' not found")
        return album

    def asset_or_404(self, request: Request) -> Asset:
        """The asset named by the ``id`` path parameter."""
        asset_id = request.path_params["id"]
        asset = self.library.asset(asset_id)
        if asset is None:
            raise not_found(f"Asset '{asset_id}' not found")
        return asset

    def asset_list(self, request: Request, assets: Sequence[Asset]) -> Response:
        """One page of ``assets`` in the configured shape."""
        return self.paged(request, "assets", assets, asset_json)

    def paged(self, request: Request, rel: str, rows: Sequence[Any], render: Callable[[Any, Site], Any]) -> Response:
        """Slice ``rows`` by the request's paging parameters and wrap them in the shape's envelope."""
        paging = parse_paging(request.query_params, cursor_based=self.config.shape == "items")
        site = self.site(request)
        window = rows[paging.offset : paging.offset + paging.size]
        page = ListPage(rel, [render(row, site) for row in window], len(rows), paging, request.url)
        body, headers = list_body(page, self.config.shape)
        return self.json(body, headers)

    # -- public ----------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        """``GET /``: the discovery root with named (templated) links."""
        return self.json(root_body(self.site(request)))

    async def archive_configuration(self, request: Request) -> Response:
        """``GET /configuration/archive``: public archive settings."""
        return self.json(
            {
                "archiveName": self.config.archive_name,
                "languages": ["en", "de", "fr"],
                "mediaTypes": list(MEDIA_KINDS),
                "maxUploadBytes": _MAX_UPLOAD_BYTES,
                "uploadField": "files",
                "relationTypes": list(RELATION_TYPES),
                "maxPageSize": MAX_PAGE_SIZE,
                "version": VERSION,
            }
        )

    async def public_status(self, request: Request) -> Response:
        """``GET /public/status``: liveness."""
        return self.json({"status": "ok"})

    # -- albums ----------------------------------------------------------------------------

    async def albums(self, request: Request) -> Response:
        """``GET /albums?q=``: albums, optionally filtered by name/description substring."""
        return self.paged(request, "albums", self.index.albums(request.query_params.get("q")), album_json)

    async def album(self, request: Request) -> Response:
        """``GET /albums/{id}``, with validators (see :func:`conditional`)."""
        album = self.album_or_404(request)
        return conditional(request, with_etag(self.json(album_json(album, self.site(request))), album), album)

    async def album_assets(self, request: Request) -> Response:
        """``GET /albums/{id}/assets`` (``/contents`` with alt routes): assets in album order."""
        album = self.album_or_404(request)
        return self.asset_list(request, self.library.album_assets(album))

    # -- assets ----------------------------------------------------------------------------

    async def assets(self, request: Request) -> Response:
        """``GET /assets``: every asset, newest first."""
        return self.asset_list(request, self.library.assets)

    async def asset(self, request: Request) -> Response:
        """``GET /assets/{id}``, with its download link and renditions (see :mod:`.files`)."""
        asset, site = self.asset_or_404(request), self.site(request)
        response = with_etag(self.json(self.files.decorate(asset_json(asset, site), asset, site)), asset)
        return conditional(request, response, asset)

    async def asset_preview(self, request: Request) -> Response:
        """``GET /assets/{id}/preview[?size=large]``: a JPEG, 320 px (or 1600 px) on the long edge."""
        asset = self.asset_or_404(request)
        size = request.query_params.get("size", "").strip().lower()
        if size not in ("", "small", "large"):
            raise bad_parameter("size", f"expected 'small' or 'large', got {size!r}")
        if not asset.preview_available:
            raise not_found(f"Asset '{asset.id}' has no preview")
        try:
            home = self.library.album(asset.album_ids[0]) if asset.album_ids else None
            data = render_preview(
                asset.id,
                asset.kind,
                asset.width,
                asset.height,
                large=size == "large",
                title=asset.name,
                theme=home.name if home else "",
                keywords=asset.keywords,
            )
        except PreviewUnavailable as exc:
            raise ApiError(503, str(exc)) from None
        headers = {"Cache-Control": "public, max-age=86400", "ETag": f'"{asset.id}-{size or "small"}"'}
        return Response(data, media_type="image/jpeg", headers=headers)

    async def search(self, request: Request) -> Response:
        """``GET /search/assets`` (``/find/assets`` with alt routes): filtered, ranked assets."""
        query = parse_search(request.query_params, self.taxonomy)
        return self.asset_list(request, self.index.search(query))

    async def keywords(self, request: Request) -> Response:
        """``GET /keywords?q=&lang=`` (``/taxonomy/concepts`` with alt routes): taxonomy concepts matching
        ``q`` (see :mod:`.keywords`)."""
        url = self.site(request).url(write_paths(self.config.alt_routes).taxonomy)
        return self.json(keyword_body(self.taxonomy, request.query_params, self.config.shape, url))

    # -- routing ---------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """All routes under BASE_PATH (GET, with HEAD added by Starlette)."""
        album_assets = "contents" if self.config.alt_routes else "assets"
        search = "/find/assets" if self.config.alt_routes else "/search/assets"
        table: list[tuple[str, Handler]] = [
            ("", self.root),
            ("/", self.root),
            ("/configuration/archive", self.archive_configuration),
            ("/public/status", self.public_status),
            ("/albums", self.albums),
            ("/albums/{id}", self.album),
            (f"/albums/{{id}}/{album_assets}", self.album_assets),
            ("/assets", self.assets),
            ("/assets/{id}", self.asset),
            ("/assets/{id}/preview", self.asset_preview),
            (search, self.search),
            (write_paths(self.config.alt_routes).taxonomy, self.keywords),
        ]
        return [Route(f"{BASE_PATH}{path}", handler, methods=["GET"]) for path, handler in table]


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def conditional(request: Request, response: Response, obj: Album | Asset) -> Response:
    """``response`` (200, with the object's ``ETag``) plus ``Last-Modified`` (the object's ``updated``, an HTTP
    date), or a bodiless ``304 Not Modified`` with both when the request's ``If-None-Match`` names the ETag
    (weak comparison, ``*`` matches) or, without ``If-None-Match``, its ``If-Modified-Since`` is not before
    ``updated`` (RFC 9110 §13.1.2, §13.1.3, §15.4.5). The fault knob ``validators`` (:mod:`.faults`) strips
    or spoils validators, because the real API's behaviour is unknown (footage-api.md)."""
    etag = response.headers["etag"]
    modified = obj.updated.astimezone(UTC).replace(microsecond=0)
    response.headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    validators = {"etag": etag, "last-modified": response.headers["last-modified"]}
    given = request.headers.get("if-none-match")
    if given is not None:
        tags = [_opaque(t) for t in given.split(",")]
        if "*" in tags or _opaque(etag) in tags:
            return Response(status_code=304, headers=validators)
        return response
    since = request.headers.get("if-modified-since")
    if since is not None:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return response
        if when.tzinfo is not None and modified <= when:
            return Response(status_code=304, headers=validators)
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    """Render an ApiError."""
    assert isinstance(exc, ApiError)
    return _error_response(exc.status, exc.message, request.url.path, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Render Starlette's routing errors (404 unknown path, 405 wrong method) as JSON."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"No endpoint {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Request method '{request.method}' is not supported"
    else:
        message = str(exc.detail)
    return _error_response(exc.status_code, message, request.url.path, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    """Any unexpected failure: a JSON 500 without internals."""
    return _error_response(500, "Internal sandbox error", request.url.path)


def create_app(
    *,
    shape: str = "hal",
    token: str | None = None,
    alt_routes: bool = False,
    seed: int = DEFAULT_SEED,
    extra_album_assets: int = 0,
    echo_origin: str | None = None,
    faults: Mapping[str, Any] | Sequence[Any] | None = None,
    data_file: str | None = None,
    state: SandboxState | None = None,
    archive_name: str = ARCHIVE_NAME,
) -> Starlette:
    """Build the sandbox app.

    ``shape``: one of SHAPES; ``token``: the accepted ``apiKey`` value (default: the first of
    :func:`~.constants.default_tokens`, ``$FOOTAGE_SANDBOX_TOKEN`` or ``sandbox-token``); ``alt_routes``: serve search
    at ``/find/assets`` and album assets at ``/albums/{id}/contents`` (the default paths then 404);
    ``seed``/``extra_album_assets``: see :func:`~.library.build_library`; ``echo_origin``: where
    other-origin redirects point (default ``http://127.0.0.1:9``, closed); ``faults``: initial fault
    rules, ``{"rules": [...]}`` or a list (see :mod:`.faults`); ``state``: a :class:`~.faults.SandboxState`
    to share with other apps (one per token, see :mod:`.tenants`); ``archive_name``: the archive
    configuration's ``archiveName``. The control API is under ``/_sandbox/``
    (see :mod:`.control`); its state is ``app.state.sandbox``. Writes (:mod:`.writes`) change an in-memory
    copy of the library (``app.state.store``), kept in the SQLite file ``data_file`` when given. Raises
    ValueError on an unknown shape,
    an empty token or invalid rules (:class:`~.faults.RuleError`).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    token = default_tokens()[0] if token is None else token
    if not token:
        raise ValueError("token must not be empty")
    state = state or SandboxState(echo_origin=(echo_origin or CLOSED_ORIGIN).rstrip("/"))
    if faults is not None:
        state.rules = parse_rules(faults)
    api = _Api(shared_library(seed, extra_album_assets), _Config(shape, alt_routes, archive_name))
    api.files = FileStore(api.library, api.index, shape, alt_routes)
    store = Store(api.library, data_file)
    store.listeners.append(api.replace_library)
    if store.library is not api.library:  # state read back from data_file
        api.replace_library(store.library)
    mode = WriteMode()
    app = Starlette(
        routes=[
            *extend_routes(api, api.routes(), store, write_paths(alt_routes), mode),
            *api.files.routes(),
            *control_routes(state),
        ],
        middleware=[Middleware(FaultMiddleware, state=state), Middleware(ApiKeyMiddleware, token=token)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.library = api.library
    app.state.shape = shape
    app.state.sandbox = state
    app.state.store = store
    app.state.write_mode = mode
    app.state.files = api.files
    return app
