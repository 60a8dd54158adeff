"""Sending writes to the Footage API: where a write goes, how it is sent, what its answer means.

Nothing here is documented by footage.one (footage-api.md, 'Writes, files and keywords': guessed);
every fact below is a design for an unknown API.

* **Where** (:func:`write_target`): a ``FOOTAGE_ROUTES`` entry beats everything; then the object's own
  HAL link (``_links.self`` for an update, ``assets``, ``labels``, ``keywords``, ``relations``); then a
  discovery-root link of the route's name, or of the read route it extends (``albums`` for
  ``createAlbum``, ``albumAssets`` for ``addToAlbum``); then the default of
  :data:`~footage_mcp.rest.discovery.DEFAULT_ROUTES`. A link to another origin is never used.
* **How** (:meth:`WriteClient.send`): JSON body, the ``apiKey`` header (base origin only), ``If-Match``
  with the object's ``ETag`` when it had one, an ``Idempotency-Key`` on every non-idempotent write.
  Idempotent writes are retried (connect failures, timeouts, 429/502/503/504, at most
  ``FOOTAGE_MAX_RETRIES``); a non-idempotent one only when the request never left (connection
  refused), or when the API has shown it honours idempotency keys (an answer echoed the key).
* **Answers**: 2xx with or without a body; a 3xx is not followed; 412 is :class:`PreconditionFailed`;
  a timeout or 5xx of a write that may have been applied and cannot be retried is :class:`MaybeApplied`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import anyio
import httpx2

from footage_mcp.core.errors import (
    ApiError,
    BadResponse,
    ConnectFailed,
    FootageError,
    Forbidden,
    InvalidArgument,
    NotFound,
    TokenMissing,
    TransportError,
)
from footage_mcp.core.settings import TOKEN_HELP
from footage_mcp.core.text import escape_control
from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.discovery import DEFAULT_METHODS, Route, body_fields, resolve_href
from footage_mcp.rest.http import MAX_JSON_BYTES, Fetched, RestClient, decode_json
from footage_mcp.rest.retry import RETRY_STATUSES
from footage_mcp.rest.urls import same_origin

log = logging.getLogger(__name__)

READ_FALLBACK: Mapping[str, str] = {
    "createAlbum": "albums",
    "updateAlbum": "album",
    "addToAlbum": "albumAssets",
    "removeFromAlbum": "albumAssets",
    "updateAsset": "asset",
}
"""The read route whose discovery link a write route falls back to (the same resource, another method)."""

OBJECT_RELS: Mapping[str, str] = {
    "updateAlbum": "self",
    "updateAsset": "self",
    "addToAlbum": "assets",
    "removeFromAlbum": "assets",
    "assetLabels": "labels",
    "assetKeywords": "keywords",
    "relations": "relations",
}
"""The HAL link of the object a write route may be found under."""

DEFAULT_FIELDS: Mapping[str, Mapping[str, str]] = {
    "addToAlbum": {"assetIds": "assetIds"},
    "assetLabels": {"labels": "labels"},
    "assetKeywords": {"keywords": "keywords"},
    "createAlbum": {"name": "name", "description": "description"},
    "updateAlbum": {"name": "name", "description": "description"},
    "updateAsset": {"name": "name", "description": "description"},
    "relations": {
        "type": "type",
        "target": "target",
        "bidirectional": "bidirectional",
        "description": "description",
        "timeIn": "timeIn",
        "timeOut": "timeOut",
    },
}
"""Body field names per route (footage-api.md's guesses); ``FOOTAGE_ROUTES`` renames them
(``"addToAlbum.assetIds" = "ids"``)."""


class PreconditionFailed(ApiError):
    """412: the object changed since it was read (its ``ETag`` no longer matches)."""


class MaybeApplied(FootageError):
    """A non-idempotent write was sent, and no usable answer came back (timeout, dropped connection or a
    5xx): it may or may not have taken effect."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one write goes: method, absolute URL, and where that came from."""

    method: str
    url: str
    source: str
    key: str = ""
    """The route key (for the hint when the API has no such route)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful write's answer: status, headers and the decoded JSON body (None when empty)."""

    status: int
    headers: httpx2.Headers
    body: Any
    url: str

    @property
    def location(self) -> str | None:
        value = self.headers.get("location")
        return str(value) if value else None


@dataclass(slots=True)
class ObjectState:
    """An album or asset as read before a write: its body, ``ETag`` and links."""

    kind: str
    id: str
    body: dict[str, Any]
    etag: str | None
    links: dict[str, str] = field(default_factory=dict)


def object_links(body: Mapping[str, Any]) -> dict[str, str]:
    """HAL ``_links`` of an object: rel → href (the first of a list)."""
    links = body.get("_links")
    found: dict[str, str] = {}
    if isinstance(links, dict):
        for rel, value in links.items():
            if isinstance(value, list):
                value = next((v for v in value if isinstance(v, dict)), None)
            if isinstance(value, dict) and isinstance(value.get("href"), str):
                found[str(rel)] = value["href"]
    return found


def _unwrap(body: Any, kind: str) -> Any:
    if isinstance(body, dict) and isinstance(body.get("_embedded"), dict) and not body.get("id"):
        inner = body["_embedded"].get(kind)
        if isinstance(inner, dict):
            body = inner
    for wrapper in ("data", kind, "item", "result"):
        if isinstance(body, dict) and isinstance(body.get(wrapper), dict) and len(body) <= 3:
            body = body[wrapper]
    return body


class WriteClient:
    """Writes for one :class:`FootageApi`: targets, objects with their ETags, and sending."""

    def __init__(self, api: FootageApi, overrides: Mapping[str, str] | None = None) -> None:
        self.api = api
        self.rest: RestClient = api.rest
        self.fields = body_fields(overrides or {})
        self.keys_honoured = False
        """True once an answer echoed our ``Idempotency-Key``: from then on non-idempotent writes are retried."""

    # ------------------------------------------------------------ where

    def field(self, key: str, name: str) -> str:
        """The body field name for ``name`` on route ``key`` (renamed by ``FOOTAGE_ROUTES``)."""
        return self.fields.get(key, {}).get(name) or DEFAULT_FIELDS.get(key, {}).get(name, name)

    async def target(
        self, key: str, values: Mapping[str, str], obj: ObjectState | None = None, *, method: str | None = None
    ) -> Target:
        """The method and URL of write route ``key`` (see the module docstring for the order).

        ``values`` fill the template (``id``, ``assetId``); ``method`` replaces the route's default
        (``DELETE`` on ``assetLabels``)."""
        route = await self.api.route(key)
        chosen_method = method or route.method or DEFAULT_METHODS.get(key, "GET")
        if route.source == "config":
            return Target(method or route.method or chosen_method, self._expand(route, values), "FOOTAGE_ROUTES", key)
        rel = OBJECT_RELS.get(key)
        if obj is not None and rel and rel in obj.links:
            href = re.split(r"\{[?&]", obj.links[rel], maxsplit=1)[0].split("?", 1)[0]  # no query part
            url = resolve_href(self.api.base_url, href, "link")
            if "{" not in url and same_origin(url, self.api.base_url) and self.rest.is_under_base(url):
                if key == "removeFromAlbum":
                    url = url.rstrip("/") + "/" + quote(values["assetId"], safe="")
                return Target(chosen_method, url, "object link", key)
        if route.source == "discovery":
            return Target(chosen_method, self._expand(route, values), "discovery root", key)
        fallback = READ_FALLBACK.get(key)
        read_route = await self.api.route(fallback) if fallback else None
        if read_route is not None and read_route.source == "discovery":
            url = self._expand(read_route, values).split("?", 1)[0]
            if key == "removeFromAlbum":
                url = url.rstrip("/") + "/" + quote(values["assetId"], safe="")
            return Target(chosen_method, url, "discovery root", key)
        return Target(chosen_method, self._expand(route, values), "default", key)

    def _expand(self, route: Route, values: Mapping[str, str]) -> str:
        path_values = {v: values.get(v) or values.get("id") for v in route.path_variables}
        if "assetId" in values:
            for name in route.path_variables:
                if name.lower() in ("assetid", "asset_id", "asset"):
                    path_values[name] = values["assetId"]
        return route.expand(
            self.api.base_url, {**path_values, **{k: v for k, v in values.items() if k not in path_values}}
        )

    # ------------------------------------------------------------ objects

    async def read_object(self, kind: str, object_id: str) -> ObjectState:
        """The album or asset ``object_id`` with its ETag and links.

        Raises:
            NotFound: no such object; when an album id is in fact an asset id (or the reverse), the
                message says so.
            Forbidden, FootageError: as for reads.
        """
        route = await self.api.route(kind)
        url = route.expand(self.api.base_url, {v: object_id for v in route.path_variables})
        try:
            body, fetched = await self.rest.get_json(url)
        except NotFound:
            other = "asset" if kind == "album" else "album"
            if await self._exists(other, object_id):
                raise NotFound(
                    f"'{escape_control(object_id)}' is an {other} id, not an {kind} id — "
                    + ("list_albums shows album ids" if kind == "album" else "search_assets shows asset ids"),
                    404,
                ) from None
            lister = "list_albums" if kind == "album" else "search_assets or list_album_assets"
            raise NotFound(f"{kind} '{escape_control(object_id)}' not found — {lister} shows valid ids", 404) from None
        except Forbidden:
            raise Forbidden(f"the token's user may not see {kind} '{escape_control(object_id)}' (403)", 403) from None
        return self._state(kind, object_id, body, fetched)

    async def _exists(self, kind: str, object_id: str) -> bool:
        try:
            route = await self.api.route(kind)
            await self.rest.get_json(route.expand(self.api.base_url, {v: object_id for v in route.path_variables}))
        except FootageError:
            return False
        return True

    async def read_url(self, kind: str, url: str, fallback_id: str) -> ObjectState:
        """An object read back from a URL (a ``Location`` header)."""
        body, fetched = await self.rest.get_json(url)
        return self._state(kind, fallback_id, body, fetched)

    @staticmethod
    def _state(kind: str, object_id: str, body: Any, fetched: Fetched) -> ObjectState:
        body = _unwrap(body, kind)
        if not isinstance(body, dict):
            raise BadResponse(
                f"the Footage API answered for {kind} '{escape_control(object_id)}' "
                "with something that is not an object"
            )
        etag = fetched.headers.get("etag")
        return ObjectState(kind, object_id, body, str(etag) if etag else None, object_links(body))

    # ------------------------------------------------------------ sending

    async def send(
        self,
        target: Target,
        body: Mapping[str, Any] | None,
        *,
        idempotent: bool,
        if_match: str | None = None,
        check_with: str = "get_asset",
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Answer:
        """Send one write and return its successful answer.

        ``body`` is sent as JSON; ``content`` with ``content_type`` replaces it for other bodies (a
        multipart upload builds its bytes and boundary itself).

        Raises:
            PreconditionFailed: 412 (``If-Match`` no longer matches).
            MaybeApplied: any write whose answer could not be read (over the size cap, not what its
                encoding says), or a non-idempotent write that timed out, lost its connection or got a 5xx after it
                was sent, and could not be retried safely; the message names ``check_with``.
            ApiError: any other error status (400/422 :class:`BadRequest`, 404, 409 :class:`Conflict`, …).
            TransportError: the request could not be sent at all.
        """
        url = target.url
        if not self.rest.is_under_base(url):
            raise InvalidArgument("the write would leave the API base URL; the bridge refused to send it")
        token = self.rest.token
        if token is None:
            raise TokenMissing(f"writes need a Footage API token: {TOKEN_HELP}")
        headers = {"apiKey": token, "Accept": "application/json"}
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            content_type = "application/json"
        if content is not None and content_type:
            headers["Content-Type"] = content_type
        if if_match:
            headers["If-Match"] = if_match
        key: str | None = None
        if not idempotent:
            key = str(uuid.uuid4())
            headers["Idempotency-Key"] = key
        settings = self.rest.settings
        attempts = settings.max_retries + 1
        waited = 0.0
        for attempt in range(1, attempts + 1):
            retry_safe = idempotent or self.keys_honoured
            last = attempt == attempts
            try:
                status, resp_headers, raw = await self._send_once(target.method, url, headers, content)
            except ConnectFailed as exc:  # the request never left: always safe to try again
                if last or not exc.retryable:
                    raise
            except BadResponse as exc:  # an answer it cannot read (over the cap, a bomb): it was sent, though
                raise MaybeApplied(
                    self._maybe(target, f"answered with something the bridge cannot read ({exc.message})", check_with)
                ) from None
            except TransportError:
                if not retry_safe:
                    raise MaybeApplied(self._maybe(target, "did not answer in time", check_with)) from None
                if last:
                    raise
            else:
                if key and resp_headers.get("idempotency-key") == key:
                    self.keys_honoured = True
                if status in RETRY_STATUSES or status >= 500:
                    if status >= 500 and not retry_safe:
                        raise MaybeApplied(self._maybe(target, f"failed ({status})", check_with))
                    if last or status not in RETRY_STATUSES:
                        raise self._error(status, resp_headers, raw, url, target)
                else:
                    return self._answer(status, resp_headers, raw, url, target)
            pause = min(0.5 * 2 ** (attempt - 1), 4.0)
            if waited + pause > settings.retry_budget:
                break
            waited += pause
            log.info("retrying a %s after a failed attempt %d (waiting %.2f s)", target.method, attempt, pause)
            await anyio.sleep(pause)
        raise TransportError(f"the Footage API did not accept the {target.method} after {attempts} attempts")

    @staticmethod
    def _maybe(target: Target, what: str, check_with: str) -> str:
        return (
            f"the {target.method} request was sent but the Footage API {what}: the change may or may not have "
            f"happened: check with {check_with} before trying again"
        )

    async def _send_once(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> tuple[int, httpx2.Headers, bytes]:
        """One attempt through the REST client's one request path (its pool slots, timeout, bounded
        decoding and failure classification: :meth:`~footage_mcp.rest.http.RestClient.exchange`)."""
        return await self.rest.exchange(method, url, headers, content=content, cap=MAX_JSON_BYTES)

    def _answer(self, status: int, headers: httpx2.Headers, raw: bytes, url: str, target: Target) -> Answer:
        if status >= 400 or status < 200:
            raise self._error(status, headers, raw, url, target)
        body: Any = None
        if raw.strip():
            fetched = Fetched(url, status, headers, raw)
            try:
                body = decode_json(fetched)
            except BadResponse:
                body = None  # a 2xx with a body we cannot read: the write happened; the caller reads back
        return Answer(status, headers, body, url)

    def _error(self, status: int, headers: httpx2.Headers, raw: bytes, url: str, target: Target) -> ApiError:
        if status in (404, 405) and target.key:
            path = (self.rest.relative_path(url.split("?", 1)[0]) or url).split("?", 1)[0]
            what = "has no such route" if status == 404 else "does not take this method there"
            hint = (
                f"the Footage API {what} ({status} for {target.method} /{path}, the {target.key} route from "
                f"{target.source}): set {target.key} in FOOTAGE_ROUTES, with its method (e.g. "
                f'"{target.method} /…"); footage-mcp probe suggests the routes'
            )
            if status == 405 and headers.get("allow"):
                hint += f" (the API allows {headers['allow']} there)"
            return (NotFound if status == 404 else ApiError)(hint, status)
        if status == 412:
            return PreconditionFailed("the object changed since it was read (412)", 412)
        if 300 <= status < 400:
            return ApiError(f"the Footage API answered the write with a redirect ({status}); not followed", status)
        error = self.rest._error_for(status, headers, raw, url)
        return error


__all__ = [
    "Answer",
    "MaybeApplied",
    "ObjectState",
    "PreconditionFailed",
    "Target",
    "WriteClient",
    "object_links",
]
