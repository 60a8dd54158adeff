"""The sandbox's write routes, ``OPTIONS``/``Allow``, write faults and idempotency keys.

Routes (paths under BASE_PATH; :mod:`.writepaths` says where ``--alt-routes`` moves them):

=================================================  ==================================================
``POST /albums`` ``{"name", "description"?}``      201 + ``Location`` (+ the album; in the ``items``
                                                   shape only the ``Location``), 409 on a duplicate name
``PATCH /albums/{id}`` ``{"name"?, "description"?}`` 200 + the album (``array`` shape: 204); ``If-Match``
``POST /albums/{id}/assets`` ``{"assetIds": []}``  200 ``{"added": [...]}``; 422 for unknown asset ids
``DELETE /albums/{id}/assets/{assetId}``           204; 404 when the asset is not in the album
``PATCH /assets/{id}`` ``{"name"?, "description"?}`` as for albums
``POST|DELETE /assets/{id}/labels`` ``{"labels"}``  200 + ``{"labels": [...]}`` (labels are ``#words``)
``POST /assets/{id}/keywords`` ``{"keywords"}``     200; concept ids or terms; 422 for unknown terms
``POST /assets/{id}/relations`` (9 types)          201; 409 when the same relation exists; 422 otherwise
``GET /keywords{?q,lang}``                         the taxonomy's concepts (:mod:`.keywords`, served by the app)
=================================================  ==================================================

Every answer to a GET of one album or asset carries an ``ETag``; a ``PATCH`` with an ``If-Match``
that is not the current one gets 412 (and one without it 428 when ``if_match`` is ``required``).
Bodies must be JSON (415 otherwise) of at most :data:`MAX_BODY_BYTES` (413). ``OPTIONS`` on any
path answers 200 with ``Allow`` and a JSON body naming the fields each method accepts.

Control (``/_sandbox/writes``, ``/_sandbox/state``, ``/_sandbox/reset``): ``PUT /_sandbox/writes``
``{"idempotency": "honour"|"ignore", "if_match": "optional"|"required", "faults": [...]}`` sets the
write mode; a fault ``{"match": regex, "method"?: "POST", "fault": "status"|"timeout",
"status"?: 503, "hang_ms"?: 3000, "times"?: 1}`` strikes AFTER the write took effect (a 5xx, or an
answer held back longer than the client waits). With ``idempotency: honour`` (the default) a POST
with an ``Idempotency-Key`` already seen gets the first answer again (``Idempotent-Replayed: true``)
and every answer echoes the key; with ``ignore`` the header is ignored.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .constants import BASE_PATH
from .control import CONTROL_PREFIX, _loopback_only
from .errors import ApiError, error_body, not_found
from .library import RELATION_TYPES, Album, Asset, Relation
from .shapes import album_json, asset_json
from .store import Store, etag_of
from .writepaths import WritePaths

if TYPE_CHECKING:
    from .app import _Api

__all__ = ["MAX_BODY_BYTES", "WriteMode", "extend_routes", "with_etag"]

MAX_BODY_BYTES: Final = 64 * 1024
MAX_NAME_CHARS: Final = 200
MAX_DESCRIPTION_CHARS: Final = 5000
MAX_LIST: Final = 1000
_LABEL: Final = re.compile(r"^#[\w\-]{1,64}$")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(slots=True)
class WriteFault:
    """A fault that strikes after a write took effect."""

    source: dict[str, Any]
    pattern: re.Pattern[str]
    method: str | None
    kind: str
    status: int
    hang: float
    times: int | None
    used: int = 0


@dataclass(slots=True)
class WriteMode:
    """How the write routes behave (changed through ``PUT /_sandbox/writes``)."""

    idempotency: str = "honour"
    if_match: str = "optional"
    faults: list[WriteFault] = field(default_factory=list)
    replays: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "idempotency": self.idempotency,
            "if_match": self.if_match,
            "faults": [f.source for f in self.faults],
            "applied": [f.used for f in self.faults],
        }


def _parse_fault(raw: Any) -> WriteFault:
    if not isinstance(raw, dict) or not isinstance(raw.get("match"), str):
        raise ValueError("a write fault is an object with a 'match' regular expression")
    unknown = set(raw) - {"match", "method", "fault", "status", "hang_ms", "times"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r} in a write fault")
    kind = raw.get("fault", "status")
    if kind not in ("status", "timeout"):
        raise ValueError("'fault' must be 'status' or 'timeout'")
    status = raw.get("status", 503)
    hang = raw.get("hang_ms", 5000)
    times = raw.get("times")
    if not isinstance(status, int) or not 500 <= status <= 599:
        raise ValueError("'status' must be a 5xx code")
    if not isinstance(hang, int | float) or not 0 <= hang <= 600_000:
        raise ValueError("'hang_ms' must be 0 to 600000")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError("'times' must be a positive integer")
    method = raw.get("method")
    return WriteFault(
        source=dict(raw),
        pattern=re.compile(raw["match"]),
        method=str(method).upper() if method else None,
        kind=kind,
        status=status,
        hang=float(hang) / 1000,
        times=times,
    )


def with_etag(response: Response, obj: Album | Asset) -> Response:
    """``response`` with the object's ``ETag`` header."""
    response.headers["ETag"] = etag_of(obj)
    return response


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status, media_type="application/json", headers=headers)


class _Writes:
    """Write handlers over one :class:`Store`, for one app (shape and paths)."""

    def __init__(self, api: _Api, store: Store, paths: WritePaths, mode: WriteMode) -> None:
        self.api = api
        self.store = store
        self.paths = paths
        self.mode = mode

    # -- request helpers -------------------------------------------------------------------

    async def body(self, request: Request, *, required: bool = True) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"Request body larger than {MAX_BODY_BYTES} bytes")
        if not raw.strip():
            if required:
                raise ApiError(422, "A JSON request body is required")
            return {}
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise ApiError(415, f"Content type '{kind or 'none'}' not supported; send application/json")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Malformed JSON request body") from None
        if not isinstance(data, dict):
            raise ApiError(422, "The request body must be a JSON object")
        return data

    def check_if_match(self, request: Request, obj: Album | Asset) -> None:
        given = request.headers.get("if-match")
        if given is None:
            if self.mode.if_match == "required":
                raise ApiError(428, "This request must be conditional: send If-Match with the ETag")
            return
        if given.strip() != "*" and etag_of(obj) not in [g.strip() for g in given.split(",")]:
            raise ApiError(412, "Precondition failed: the object changed since it was read")

    def album(self, album_id: str) -> Album:
        album = self.store.library.album(album_id)
        if album is None:
            raise not_found(f"Album '{album_id}' not found")
        return album

    def asset(self, asset_id: str) -> Asset:
        asset = self.store.library.asset(asset_id)
        if asset is None:
            raise not_found(f"Asset '{asset_id}' not found")
        return asset

    @staticmethod
    def text_field(data: dict[str, Any], names: Sequence[str], limit: int, *, what: str) -> str | None:
        for name in names:
            if name in data:
                value = data[name]
                if value is None:
                    return None
                if not isinstance(value, str):
                    raise ApiError(422, f"Field '{name}' must be a string")
                if len(value) > limit:
                    raise ApiError(422, f"Field '{name}' is longer than {limit} characters")
                return value
        return None

    def string_list(self, data: dict[str, Any], name: str) -> list[str]:
        value = data.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ApiError(422, f"Field '{name}' must be a non-empty list of strings")
        if len(value) > MAX_LIST:
            raise ApiError(413, f"Field '{name}' has more than {MAX_LIST} entries")
        return list(value)

    # -- albums ----------------------------------------------------------------------------

    async def create_album(self, request: Request) -> Response:
        data = await self.body(request)
        name = self.text_field(data, ("name", "title"), MAX_NAME_CHARS, what="name")
        if not name or not name.strip():
            raise ApiError(422, "Field 'name' is required")
        description = self.text_field(data, ("description",), MAX_DESCRIPTION_CHARS, what="description") or ""
        if any(a.name.casefold() == name.strip().casefold() for a in self.store.library.albums):
            raise ApiError(409, f"An album named '{name.strip()}' already exists")
        album = self.store.create_album(name.strip(), description)
        site = self.api.site(request)
        headers = {"Location": site.url(f"/albums/{quote(album.id)}"), "ETag": etag_of(album)}
        if self.api.config.shape == "items":
            return Response(status_code=201, headers=headers)
        return _json_response(album_json(album, site), 201, headers)

    async def update_album(self, request: Request) -> Response:
        album = self.album(request.path_params["id"])
        data = await self.body(request)
        self.check_if_match(request, album)
        changes = self._changes(data)
        new = self.store.update_album(album, changes) if changes else album
        if self.api.config.shape == "array":
            return Response(status_code=204, headers={"ETag": etag_of(new)})
        return with_etag(_json_response(album_json(new, self.api.site(request))), new)

    async def add_to_album(self, request: Request) -> Response:
        album = self.album(request.path_params["id"])
        data = await self.body(request)
        field_name = self.paths.asset_ids_field
        if field_name not in data:
            raise ApiError(422, f"Field '{field_name}' is required")
        ids = self.string_list(data, field_name)
        unknown = [i for i in ids if self.store.library.asset(i) is None]
        if unknown:
            raise ApiError(422, f"Unknown asset ids: {', '.join(unknown[:10])}")
        added = self.store.add_to_album(album, ids)
        return _json_response({"added": added, "assetCount": len(self.album(album.id).asset_ids)})

    async def remove_from_album(self, request: Request) -> Response:
        album = self.album(request.path_params["id"])
        asset_id = request.path_params["asset_id"]
        if asset_id not in album.asset_ids:
            raise not_found(f"Asset '{asset_id}' is not in album '{album.id}'")
        self.store.remove_from_album(album, asset_id)
        return Response(status_code=204)

    def _changes(self, data: dict[str, Any]) -> dict[str, str]:
        unknown = set(data) - {"name", "title", "description"}
        if unknown:
            raise ApiError(422, f"Field '{sorted(unknown)[0]}' cannot be changed")
        changes: dict[str, str] = {}
        name = self.text_field(data, ("name", "title"), MAX_NAME_CHARS, what="name")
        if name is not None:
            if not name.strip():
                raise ApiError(422, "Field 'name' must not be empty")
            changes["name"] = name.strip()
        description = self.text_field(data, ("description",), MAX_DESCRIPTION_CHARS, what="description")
        if description is not None:
            changes["description"] = description
        return changes

    # -- assets ----------------------------------------------------------------------------

    async def update_asset(self, request: Request) -> Response:
        asset = self.asset(request.path_params["id"])
        data = await self.body(request)
        self.check_if_match(request, asset)
        changes = self._changes(data)
        new = self.store.update_asset(asset, changes) if changes else asset
        if self.api.config.shape == "array":
            return Response(status_code=204, headers={"ETag": etag_of(new)})
        return with_etag(_json_response(asset_json(new, self.api.site(request))), new)

    async def labels(self, request: Request) -> Response:
        asset = self.asset(request.path_params["id"])
        labels = self.string_list(await self.body(request), "labels")
        bad = [label for label in labels if not _LABEL.match(label)]
        if bad:
            raise ApiError(422, f"Invalid label '{bad[0][:80]}': a label is '#' and 1-64 letters, digits, _ or -")
        if request.method == "POST":
            new = (*asset.labels, *[x for x in dict.fromkeys(labels) if x not in asset.labels])
        else:
            new = tuple(x for x in asset.labels if x not in labels)
        if new != asset.labels:
            asset = self.store.set_labels(asset, new)
        return _json_response({"labels": list(asset.labels)})

    async def keywords(self, request: Request) -> Response:
        asset = self.asset(request.path_params["id"])
        terms = self.string_list(await self.body(request), "keywords")
        taxonomy = self.api.taxonomy
        labels: list[str] = []
        unknown: list[str] = []
        for term in terms:
            concept = taxonomy.concepts.get(term)
            ids = {concept.id} if concept else set(taxonomy.lookup(term))
            if len(ids) != 1:
                unknown.append(term)
                continue
            labels.append(taxonomy.concepts[next(iter(ids))].en)
        if unknown:
            raise ApiError(422, f"Unknown keywords (not in the taxonomy): {', '.join(unknown[:10])}")
        new = (*asset.keywords, *[x for x in dict.fromkeys(labels) if x not in asset.keywords])
        if new != asset.keywords:
            asset = self.store.set_keywords(asset, new)
        return _json_response({"keywords": list(asset.keywords)})

    async def relations(self, request: Request) -> Response:
        asset = self.asset(request.path_params["id"])
        data = await self.body(request)
        kind = data.get("type")
        if kind not in RELATION_TYPES:
            raise ApiError(422, f"Field 'type' must be one of {', '.join(RELATION_TYPES)}")
        target_id = data.get("target")
        if not isinstance(target_id, str) or self.store.library.asset(target_id) is None:
            raise ApiError(422, "Field 'target' must be the id of an existing asset")
        if target_id == asset.id:
            raise ApiError(422, "An asset cannot be related to itself")
        two_way = data.get("bidirectional", False)
        if not isinstance(two_way, bool):
            raise ApiError(422, "Field 'bidirectional' must be true or false")
        description = self.text_field(data, ("description",), MAX_DESCRIPTION_CHARS, what="description")
        time_in, time_out = data.get("timeIn"), data.get("timeOut")
        for name, value in (("timeIn", time_in), ("timeOut", time_out)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ApiError(422, f"Field '{name}' must be a number of seconds")
        if (time_in is not None or time_out is not None) and asset.kind != "video":
            raise ApiError(422, "timeIn/timeOut apply to video assets only")
        if time_in is not None and time_out is not None and time_out <= time_in:
            raise ApiError(422, "timeOut must be after timeIn")
        direction = "two-way" if two_way else "one-way"
        relation = Relation(kind, target_id, direction, description, time_in, time_out)
        if any(r.type == kind and r.target == target_id for r in asset.relations):
            raise ApiError(409, f"Asset '{asset.id}' already has a '{kind}' relation to '{target_id}'")
        reverse = Relation(kind, asset.id, direction, description) if two_way else None
        target = self.store.library.asset(target_id)
        assert target is not None
        if reverse is not None and any(r.type == kind and r.target == asset.id for r in target.relations):
            reverse = None
        self.store.add_relation(asset, relation, reverse)
        body = {
            "type": kind,
            "target": target_id,
            "direction": direction,
            "description": description,
            "timeIn": time_in,
            "timeOut": time_out,
        }
        location = self.api.site(request).url(f"/assets/{quote(asset.id)}")
        return _json_response({k: v for k, v in body.items() if v is not None}, 201, {"Location": location})

    # -- wrapping: idempotency keys and after-commit faults ------------------------------------

    def wrap(self, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            honour = self.mode.idempotency == "honour" and key is not None and request.method == "POST"
            replay_key = f"{request.url.path}\n{key}"
            if honour and replay_key in self.mode.replays:
                status, content, headers = self.mode.replays[replay_key]
                return Response(content, status_code=status, headers={**headers, "Idempotent-Replayed": "true"})
            response = await handler(request)
            if honour:
                assert key is not None
                response.headers["Idempotency-Key"] = key
                self.mode.replays[replay_key] = (response.status_code, bytes(response.body), dict(response.headers))
            return await self.after_commit(request, response)

        return run

    async def after_commit(self, request: Request, response: Response) -> Response:
        path = request.url.path[len(BASE_PATH) :]
        for fault in self.mode.faults:
            if fault.times is not None and fault.used >= fault.times:
                continue
            if fault.method is not None and fault.method != request.method:
                continue
            if not fault.pattern.search(path):
                continue
            fault.used += 1
            if fault.kind == "timeout":
                await asyncio.sleep(fault.hang)
                return response
            return _json_response(
                error_body(fault.status, "Injected fault after commit", request.url.path), fault.status
            )
        return response

    # -- control -----------------------------------------------------------------------------

    async def control_mode(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                data = json.loads(await request.body())
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                if data.get("idempotency", "honour") not in ("honour", "ignore"):
                    raise ValueError("'idempotency' must be 'honour' or 'ignore'")
                if data.get("if_match", "optional") not in ("optional", "required"):
                    raise ValueError("'if_match' must be 'optional' or 'required'")
                faults = [_parse_fault(f) for f in data.get("faults", [])]
            except (ValueError, re.error) as exc:
                return _json_response(error_body(400, str(exc), request.url.path), 400)
            self.mode.idempotency = data.get("idempotency", "honour")
            self.mode.if_match = data.get("if_match", "optional")
            self.mode.faults = faults
        return _json_response(self.mode.as_json())

    async def control_state(self, request: Request) -> Response:
        return _json_response(self.store.dump())

    async def control_reset(self, request: Request) -> Response:
        self.store.reset()
        self.mode.replays.clear()
        self.mode.faults = []
        return _json_response({"reset": True})


_ACCEPTS: Final[dict[str, dict[str, dict[str, str]]]] = {
    "albums": {"POST": {"name": "string", "description": "string"}},
    "album": {"PATCH": {"name": "string", "description": "string"}},
    "asset": {"PATCH": {"name": "string", "description": "string"}},
    "labels": {"POST": {"labels": "array"}, "DELETE": {"labels": "array"}},
    "keywords": {"POST": {"keywords": "array"}},
    "relations": {
        "POST": {
            "type": "string",
            "target": "string",
            "bidirectional": "boolean",
            "description": "string",
            "timeIn": "number",
            "timeOut": "number",
        }
    },
}


def _options_handler(methods: set[str], accepts: dict[str, dict[str, str]]) -> Handler:
    allow = ", ".join(sorted(methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())))
    body = {"allow": allow.split(", "), "accepts": accepts}

    async def options(request: Request) -> Response:
        return _json_response(body, 200, {"Allow": allow})

    return options


def extend_routes(api: _Api, reads: list[Route], store: Store, paths: WritePaths, mode: WriteMode) -> list[Route]:
    """The read routes, the write routes and an ``OPTIONS`` route for every path, plus the write
    control routes under ``/_sandbox/``."""
    writes = _Writes(api, store, paths, mode)
    table: list[tuple[str, str, Handler, str | None]] = [
        ("POST", "/albums", writes.create_album, "albums"),
        ("PATCH", "/albums/{id}", writes.update_album, "album"),
        ("POST", paths.album_assets, writes.add_to_album, "albumAssets"),
        ("DELETE", paths.album_assets + "/{asset_id}", writes.remove_from_album, None),
        ("PATCH", "/assets/{id}", writes.update_asset, "asset"),
        ("POST", paths.labels, writes.labels, "labels"),
        ("DELETE", paths.labels, writes.labels, "labels"),
        ("POST", paths.keywords, writes.keywords, "keywords"),
        ("POST", paths.relations, writes.relations, "relations"),
    ]
    routes = [Route(f"{BASE_PATH}{path}", writes.wrap(handler), methods=[method]) for method, path, handler, _ in table]
    allowed: dict[str, set[str]] = {}
    accepts: dict[str, dict[str, dict[str, str]]] = {}
    for route in [*reads, *routes]:
        allowed.setdefault(route.path, set()).update(m for m in route.methods or () if m != "HEAD")
    for _method, path, _handler, kind in table:
        if kind == "albumAssets":
            accepts[f"{BASE_PATH}{path}"] = {"POST": {paths.asset_ids_field: "array"}}
        elif kind is not None:
            accepts.setdefault(f"{BASE_PATH}{path}", {}).update(_ACCEPTS[kind])
    options = [
        Route(path, _options_handler(methods, accepts.get(path, {})), methods=["OPTIONS"])
        for path, methods in allowed.items()
    ]
    control = [
        Route(f"{CONTROL_PREFIX}/writes", _loopback_only(writes.control_mode), methods=["GET", "PUT"]),
        Route(f"{CONTROL_PREFIX}/state", _loopback_only(writes.control_state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/reset", _loopback_only(writes.control_reset), methods=["POST"]),
    ]
    return [*reads, *routes, *options, *control]
