"""Files in the sandbox: originals, renditions, a second origin ("CDN"), uploads, and their faults.

API routes (under ``/api/asset``, token required like the rest):

- ``GET /assets/{id}/original``: the original (see :mod:`.originals`: Range, ETag, Content-Disposition);
- ``GET /assets/{id}/renditions/{name}``: a rendition the asset lists;
- ``POST /assets``: multipart upload, one part ``files`` per file (see :mod:`.uploads`), 201 with the
  created assets in the app's shape; 413 over the upload limit;
- ``POST /albums/{id}/assets`` ``{"assetIds": [...]}`` and ``POST /assets/{id}/labels`` ``{"labels": [...]}``:
  what ``upload_assets`` applies after an upload (additive, idempotent).

The asset object (``GET /assets/{id}``) lists its renditions and, for about a third of the assets when a
CDN listener runs, a download link to the CDN instead of the API: HAL ``_links.download`` and
``_links.renditions`` plus ``renditions``; array ``download_url`` and a ``renditions`` list; items a
``downloadUrl`` (CDN assets only) and a ``renditions`` name → object map.

The CDN listener (:func:`create_cdn_app`, another port of the same process) serves signed
``/files/{id}/{rendition}/{name}?sig=…`` URLs and **refuses with 403 any request carrying an ``apiKey``
or ``Authorization`` header**: a client that leaks its token there fails, and the log shows it.

Control (loopback only, never faulted): ``GET|PUT|DELETE /_sandbox/file-faults`` (rules
``{"match": regex on the path, "fault": "drop"|"status"|"slow", "after_bytes", "status",
"bytes_per_second", "times"}``; the path is relative to ``/api/asset``, CDN paths start with ``/files/``),
``GET|PUT|DELETE /_sandbox/files`` (``{"cdn_origin", "max_upload_bytes", "uploads", "cdn_requests"}``;
PUT ``{"max_upload_bytes": n}``; DELETE clears the CDN log).
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import hmac
import json
import re
import secrets
import shutil
import tempfile
import weakref
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .constants import BASE_PATH
from .errors import ApiError, error_body
from .faults import InjectedAbort
from .library import Asset, Library
from .originals import Blob, FileFault, blob_for, rendition_specs, send_blob, zero_copy
from .search import SearchIndex
from .shapes import Site, asset_json
from .uploads import UploadParser, asset_from_upload

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "FileStore", "create_cdn_app"]

DEFAULT_MAX_UPLOAD_BYTES: Final = 10 * 1024**3
"""As the archive configuration says (``maxUploadBytes``); PUT /_sandbox/files changes it."""
_DRAIN_BYTES: Final = 64 * 1024 * 1024
_FAULT_KINDS: Final = ("drop", "status", "slow")
_CREDENTIAL_HEADERS: Final = ("apikey", "authorization")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        out[name.decode("latin-1").lower()] = value.decode("latin-1")
    return out


async def _send_json(send: Send, status: int, value: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = _json_bytes(value)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass(slots=True)
class _FaultRule:
    source: dict[str, Any]
    pattern: re.Pattern[str]
    fault: FileFault
    times: int | None = None
    used: int = 0


def parse_file_faults(document: Any) -> list[_FaultRule]:
    """Validate ``{"rules": [...]}`` (or a bare list). Raises ValueError with the reason."""
    if isinstance(document, dict):
        document = document.get("rules")
    if not isinstance(document, list):
        raise ValueError("expected {'rules': [...]}")
    rules = []
    for n, raw in enumerate(document):
        if not isinstance(raw, dict) or not isinstance(raw.get("match"), str):
            raise ValueError(f"rules[{n}]: an object with a 'match' regular expression is required")
        unknown = set(raw) - {"match", "fault", "after_bytes", "status", "bytes_per_second", "times"}
        if unknown:
            raise ValueError(f"rules[{n}]: unknown key {sorted(unknown)[0]!r}")
        kind = raw.get("fault")
        if kind not in _FAULT_KINDS:
            raise ValueError(f"rules[{n}]: 'fault' must be one of {', '.join(_FAULT_KINDS)}")
        numbers = {}
        for key, low, high in (("after_bytes", 0, 2**40), ("status", 400, 599), ("bytes_per_second", 1, 2**40)):
            if key in raw:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise ValueError(f"rules[{n}]: '{key}' must be an integer from {low} to {high}")
                numbers[key] = value
        times = raw.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise ValueError(f"rules[{n}]: 'times' must be a positive integer")
        try:
            pattern = re.compile(raw["match"])
        except re.error as exc:
            raise ValueError(f"rules[{n}]: 'match' is not a valid regular expression: {exc}") from None
        rules.append(_FaultRule(dict(raw), pattern, FileFault(kind=kind, **numbers), times))
    return rules


@dataclass
class FileStore:
    """The file side of one sandbox app: uploads folder, CDN origin and secret, limits, faults, CDN log."""

    library: Library
    index: SearchIndex
    shape: str
    alt_routes: bool = False
    cdn_origin: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="footage-sandbox-uploads-")))
    stored: dict[str, Path] = field(default_factory=dict)
    faults: list[_FaultRule] = field(default_factory=list)
    cdn_requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))

    def __post_init__(self) -> None:
        folder = str(self.folder)
        weakref.finalize(self, shutil.rmtree, folder, True)
        atexit.register(shutil.rmtree, folder, True)

    # -- faults ------------------------------------------------------------------------------

    def take_fault(self, path: str) -> FileFault | None:
        for rule in self.faults:
            if (rule.times is None or rule.used < rule.times) and rule.pattern.search(path):
                rule.used += 1
                return rule.fault
        return None

    # -- CDN ---------------------------------------------------------------------------------

    def on_cdn(self, asset: Asset) -> bool:
        """About a third of the assets (by id) are served from the CDN, when one runs."""
        return self.cdn_origin is not None and hashlib.sha256(asset.id.encode()).digest()[0] % 3 == 0

    def signature(self, asset_id: str, rendition: str) -> str:
        return hmac.new(self.secret, f"{asset_id}/{rendition}".encode(), hashlib.sha256).hexdigest()[:32]

    def cdn_url(self, asset: Asset, rendition: str) -> str:
        blob = self.blob(asset, rendition)
        name = quote(blob.filename if blob else rendition, safe="")
        return f"{self.cdn_origin}/files/{quote(asset.id)}/{rendition}/{name}?sig={self.signature(asset.id, rendition)}"

    # -- blobs and links ---------------------------------------------------------------------

    def blob(self, asset: Asset, rendition: str) -> Blob | None:
        return blob_for(asset, rendition, self.stored.get(asset.id) if rendition == "original" else None)

    def file_url(self, asset: Asset, rendition: str, site: Site) -> str:
        if self.on_cdn(asset) and rendition in ("original", "proxy"):
            return self.cdn_url(asset, rendition)
        if rendition == "original":
            return site.url(f"/assets/{quote(asset.id)}/original")
        return site.url(f"/assets/{quote(asset.id)}/renditions/{rendition}")

    def decorate(self, body: dict[str, Any], asset: Asset, site: Site) -> dict[str, Any]:
        """``body`` (one asset as the shape spells it) with its download link and renditions."""
        specs = rendition_specs(asset)
        if site.shape == "hal":
            links = dict(body.get("_links", {}))
            links["download"] = {"href": self.file_url(asset, "original", site)}
            if specs:
                links["renditions"] = [
                    {"name": s.name, "href": self.file_url(asset, s.name, site), "type": s.mime_type} for s in specs
                ]
                body["renditions"] = [
                    {
                        "name": s.name,
                        "mimeType": s.mime_type,
                        "width": s.width,
                        "height": s.height,
                        "fileSize": s.size_bytes,
                    }
                    for s in specs
                ]
            body["_links"] = links
        elif site.shape == "array":
            body["download_url"] = self.file_url(asset, "original", site)
            body["renditions"] = [
                {
                    "name": s.name,
                    "mime_type": s.mime_type,
                    "width": s.width,
                    "height": s.height,
                    "size_bytes": str(s.size_bytes),
                    "url": self.file_url(asset, s.name, site),
                }
                for s in specs
            ]
        else:
            if self.on_cdn(asset):
                body["downloadUrl"] = self.file_url(asset, "original", site)
            if specs:
                body["renditions"] = {
                    s.name: {
                        "mimeType": s.mime_type,
                        "size": s.size_bytes,
                        "width": s.width,
                        "height": s.height,
                        "href": self.file_url(asset, s.name, site),
                    }
                    for s in specs
                }
        return body

    # -- changes -----------------------------------------------------------------------------

    def add_asset(self, asset: Asset, stored: Path | None) -> None:
        if stored is not None:
            self.stored[asset.id] = stored
        self.library.put_asset(asset)
        self.index.put(asset)
        for album_id in asset.album_ids:
            album = self.library.album(album_id)
            if album is not None and asset.id not in album.asset_ids:
                self.library.put_album(replace(album, asset_ids=(*album.asset_ids, asset.id)))

    # -- routes ------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The API routes (under BASE_PATH) and the control routes of this module. Adding an upload to an
        album and labelling it go through the write routes (:mod:`.writes`)."""
        return [
            Route(f"{BASE_PATH}/assets/{{id}}/original", _Endpoint(self.original), methods=["GET", "HEAD"]),
            Route(f"{BASE_PATH}/assets/{{id}}/renditions/{{name}}", _Endpoint(self.rendition), methods=["GET", "HEAD"]),
            Route(f"{BASE_PATH}/assets", _Endpoint(self.upload), methods=["POST"]),
            Route("/_sandbox/file-faults", _loopback(self.control_faults), methods=["GET", "PUT", "DELETE"]),
            Route("/_sandbox/files", _loopback(self.control_files), methods=["GET", "PUT", "DELETE"]),
        ]

    async def _serve(self, scope: Scope, send: Send, asset: Asset | None, rendition: str, path: str) -> None:
        if asset is None:
            raise ApiError(404, f"Asset '{scope['path_params'].get('id')}' not found")
        blob = self.blob(asset, rendition)
        if blob is None:
            raise ApiError(404, f"Asset '{asset.id}' has no rendition '{rendition}'")
        fault = self.take_fault(path)
        if fault is not None and fault.kind == "status":
            await _send_json(send, fault.status, error_body(fault.status, "Injected file fault", scope["path"]))
            return
        await send_blob(send, blob, scope["method"], _headers(scope), fault, zero_copy=zero_copy(scope))

    async def original(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = self.library.asset(scope["path_params"]["id"])
        await self._serve(scope, send, asset, "original", scope["path"][len(BASE_PATH) :])

    async def rendition(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = self.library.asset(scope["path_params"]["id"])
        await self._serve(scope, send, asset, scope["path_params"]["name"], scope["path"][len(BASE_PATH) :])

    async def upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_upload_bytes + 64 * 1024:
            await _drain(receive, _DRAIN_BYTES)
            raise ApiError(413, f"Maximum upload size exceeded ({self.max_upload_bytes} bytes)")
        parser = UploadParser(headers.get("content-type", ""), self.folder, self.max_upload_bytes)
        fault = self.take_fault("/assets")
        received = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    parser.discard()
                    return
                chunk = message.get("body", b"")
                received += len(chunk)
                if fault is not None and fault.kind in ("drop", "status") and received >= fault.after_bytes:
                    parser.discard()
                    if fault.kind == "drop":  # a started response, then the connection goes: no 500 page instead
                        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
                        await send(start)
                        raise InjectedAbort(f"connection dropped after {received} bytes of the upload (injected)")
                    await _send_json(send, fault.status, error_body(fault.status, "Injected file fault", scope["path"]))
                    return
                if fault is not None and fault.kind == "slow":
                    await asyncio.sleep(len(chunk) / fault.bytes_per_second)
                parser.feed(chunk)
                if not message.get("more_body"):
                    break
            files = parser.finish()
        except ApiError as exc:
            if exc.status == 413:
                await _drain(receive, _DRAIN_BYTES)
            raise
        album_id = parser.fields.get("album", "").strip() or None
        if album_id is not None and self.library.album(album_id) is None:
            parser.discard()
            raise ApiError(404, f"Album '{album_id}' not found")
        site = _site(scope, self.shape, self.alt_routes)
        created, new_assets = [], []
        for parsed in files:
            asset = asset_from_upload(parsed, (album_id,) if album_id else ())
            self.add_asset(asset, parsed.path)
            new_assets.append(asset)
            created.append(self.decorate(asset_json(asset, site), asset, site))
        if self.shape == "hal":
            body: Any = {"_embedded": {"assets": created}}
        elif self.shape == "array":
            body = created
        else:
            body = {"items": created, "total": len(created)}
        location = site.url(f"/assets/{quote(new_assets[0].id)}")
        await _send_json(send, 201, body, [(b"location", location.encode())])

    async def control_faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.faults = parse_file_faults(json.loads(await request.body()))
            except (ValueError, UnicodeDecodeError) as exc:
                return Response(
                    _json_bytes(error_body(400, str(exc), request.url.path)), 400, media_type="application/json"
                )
        elif request.method == "DELETE":
            self.faults = []
        body = {"rules": [r.source for r in self.faults], "applied": [r.used for r in self.faults]}
        return Response(_json_bytes(body), media_type="application/json")

    async def control_files(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                document = json.loads(await request.body())
                limit = document["max_upload_bytes"]
                if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                    raise ValueError("'max_upload_bytes' must be a positive integer")
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                return Response(
                    _json_bytes(error_body(400, f"expected {{'max_upload_bytes': n}}: {exc}", request.url.path)),
                    400,
                    media_type="application/json",
                )
            self.max_upload_bytes = limit
        elif request.method == "DELETE":
            self.cdn_requests.clear()
        body = {
            "cdn_origin": self.cdn_origin,
            "max_upload_bytes": self.max_upload_bytes,
            "uploads": len(self.stored),
            "uploads_folder": str(self.folder),  # the benchmark deletes its own uploads' bytes there
            "cdn_requests": list(self.cdn_requests),
        }
        return Response(_json_bytes(body), media_type="application/json")


class _Endpoint:
    """A raw ASGI endpoint (Starlette passes an object that is not a function straight through), with the
    sandbox's JSON error for an ApiError raised before the response started."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.handler(scope, receive, send)
        except ApiError as exc:
            extra = [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
            await _send_json(send, exc.status, error_body(exc.status, exc.message, scope["path"]), extra)


def _loopback(handler: Any) -> Any:
    async def guarded(request: Request) -> Response:
        host = request.client.host if request.client else ""
        if host and host not in ("127.0.0.1", "::1", "localhost", "testclient") and not host.startswith("127."):
            return Response(
                _json_bytes(error_body(403, "Control API is loopback only", request.url.path)),
                403,
                media_type="application/json",
            )
        response: Response = await handler(request)
        return response

    return guarded


async def _drain(receive: Receive, limit: int) -> None:
    """Read and drop up to ``limit`` bytes of the request body, so the client sees the answer."""
    seen = 0
    while seen < limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return value


def _site(scope: Scope, shape: str, alt_routes: bool) -> Site:
    headers = _headers(scope)
    host = headers.get("host") or "127.0.0.1"
    return Site(origin=f"{scope.get('scheme', 'http')}://{host}", shape=shape, alt_routes=alt_routes)


def create_cdn_app(store: FileStore) -> ASGIApp:
    """The CDN listener: signed file URLs only, and a 403 for any request that carries credentials."""

    async def cdn(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = _headers(scope)
        entry = {"method": scope["method"], "path": scope["path"], "headers": headers, "status": None}
        store.cdn_requests.append(entry)
        if any(name in headers for name in _CREDENTIAL_HEADERS):
            entry["status"] = 403
            await _send_json(
                send, 403, error_body(403, "This storage refuses requests that carry credentials", scope["path"])
            )
            return
        parts = scope["path"].split("/")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if len(parts) < 4 or parts[1] != "files":
            entry["status"] = 404
            await _send_json(send, 404, error_body(404, "No such file", scope["path"]))
            return
        asset_id, rendition = parts[2], parts[3]
        signature = (query.get("sig") or [""])[0]
        if not hmac.compare_digest(signature, store.signature(asset_id, rendition)):
            entry["status"] = 403
            await _send_json(send, 403, error_body(403, "Signature does not match", scope["path"]))
            return
        asset = store.library.asset(asset_id)
        blob = store.blob(asset, rendition) if asset else None
        if blob is None:
            entry["status"] = 404
            await _send_json(send, 404, error_body(404, "No such file", scope["path"]))
            return
        fault = store.take_fault(scope["path"])
        if fault is not None and fault.kind == "status":
            entry["status"] = fault.status
            await _send_json(send, fault.status, error_body(fault.status, "Injected file fault", scope["path"]))
            return
        entry["status"], _ = await send_blob(send, blob, scope["method"], headers, fault, zero_copy=zero_copy(scope))

    return cdn
