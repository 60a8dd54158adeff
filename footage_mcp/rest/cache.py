"""Repeated reads: a bounded, in-memory HTTP cache of the REST client's GETs, keyed by token.

An album or asset read twice within a short time costs one full upstream response when the API sends
validators (RFC 9110 §8.8: ``ETag``, ``Last-Modified``): the second read is a conditional request
(``If-None-Match`` / ``If-Modified-Since``), and a ``304 Not Modified`` is answered with the stored body.
Whether the real API sends validators is unknown (footage-api.md); without them nothing is stored.

The RFC 9111 rules (what may be stored, ``no-store``/``private``/``no-cache``/``max-age``, ``Vary``, building
the conditional request, freshening from a 304, invalidation) are hishel's: its ``hishel.httpx2`` transport
wraps httpx2's, with :class:`MemoryStorage` below as its store (hishel ships SQLite and Redis ones only).
This module adds what a bridge serving several tokens needs:

- **Opt-in per request.** Only GETs the REST client marks with the request extension :data:`OPT_IN` go
  through the cache (:meth:`~footage_mcp.rest.http.RestClient.get`, JSON reads only); previews and streamed
  downloads never do. Any
  other method (a write, an upload) forgets every entry of its token, before and after it is sent: a
  write may change what any read of that token returns (an album's count, an asset's labels).
- **Keyed by token.** A key is ``HMAC-SHA256(per-process secret, token)`` (:meth:`CacheRouter.owner`)
  plus a hash of the ``Accept`` header and the URL; a response fetched with token A is never a candidate
  for token B. The stored request keeps no ``apiKey``, ``Authorization``, ``Cookie`` header.
- **Stored only when useful and harmless** (:func:`admissible`): status 200; a well-formed validator (an
  ``ETag`` of at most :data:`MAX_VALIDATOR_CHARS` characters in RFC 9110's entity-tag grammar, or a
  ``Last-Modified`` HTTP date; a malformed one is never echoed upstream); no token in the URL, the headers
  or the (decoded) body, in any form :mod:`footage_mcp.core.redact` knows; a body of at most
  :data:`MAX_ENTRY_BYTES`. A 304 whose headers break these rules drops the entry.
- **No heuristic freshness.** A stored response without explicit freshness (``max-age``, ``s-maxage``,
  ``Expires``) is kept marked ``no-cache``, so every read of it is revalidated: RFC 9111 §4.2.2 allows a
  cache to guess a lifetime from ``Last-Modified``, but a model reading an asset that a user just changed
  in the web app must not get the copy of an hour ago. Explicit freshness from the API is honoured.
- **Bounded.** At most :data:`MAX_ENTRIES` entries and ``max_bytes`` (bodies plus headers; the
  ``FOOTAGE_CACHE_MB`` setting), each at most :data:`MAX_AGE_SECONDS` old; least recently used first out.

Imported on the first request only (hishel costs start-up time the MCP handshake should not wait for).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final, cast

import httpx2
from hishel import (
    AsyncBaseStorage,
    CacheMiss,
    CacheOptions,
    CacheStatus,
    Entry,
    Headers,
    Request,
    Response,
    StoreAndUse,
)
from hishel._core._headers import parse_cache_control
from hishel.httpx2 import AsyncCacheTransport
from hishel.httpx2._async import _request_to_internal, _response_to_httpx2, _response_to_internal

from footage_mcp.core.redact import Redactor
from footage_mcp.rest.decoding import BoundedDecoder, DecodingFailed, TooLarge, UnsupportedEncoding

__all__ = [
    "MAX_AGE_SECONDS",
    "MAX_ENTRIES",
    "MAX_ENTRY_BYTES",
    "MAX_VALIDATOR_CHARS",
    "OPT_IN",
    "CacheRouter",
    "CachingClient",
    "MemoryStorage",
    "admissible",
]

OPT_IN: Final = "footage_cache"
"""The request extension that sends a GET through the cache: ``extensions={OPT_IN: True}``, or
``{OPT_IN: redactor}`` with the caller's :class:`~footage_mcp.core.redact.Redactor` of the request's token
(saves building one per request; used only when it covers the ``apiKey`` the request carries)."""
MAX_ENTRIES: Final = 1024
"""Entries kept at most (least recently used dropped first)."""
MAX_ENTRY_BYTES: Final = 1024 * 1024
"""Largest body stored (bytes, as received); a bigger one passes through unstored."""
MAX_VALIDATOR_CHARS: Final = 200
"""Longest ``ETag`` (or ``Last-Modified``) stored and echoed in a conditional request."""
MAX_HEADER_BYTES: Final = 16 * 1024
"""Largest header block stored with an entry."""
MAX_AGE_SECONDS: Final = 3600.0
"""An entry older than this (since it was stored or last revalidated) is dropped on lookup."""
DECODE_CAP: Final = 8 * 1024 * 1024
"""How far a compressed body is decoded to look for the token (beyond it: not stored)."""

_SECRET_HEADERS: Final = frozenset({"apikey", "authorization", "cookie", "proxy-authorization"})
_ENTITY_TAG: Final = re.compile(r'(?:W/)?"[\x21\x23-\x7e]*"')
"""RFC 9110 §8.8.3 ``entity-tag``, without obs-text (a non-ASCII tag is not worth the risk)."""
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_REDACTOR: ContextVar[Redactor | None] = ContextVar("footage_cache_redactor", default=None)
"""The redactor of the token of the request the cache is handling (set by :class:`CacheRouter`), for the
storage's checks; held only while that request is handled, never stored with an entry."""


def _redactor() -> Redactor:
    return _REDACTOR.get() or Redactor([])


def _mark_revalidate(headers: Headers) -> Headers:
    """``headers`` with ``no-cache`` added when they give no explicit freshness (see the module doc)."""
    control = parse_cache_control(headers.get("cache-control"))
    if control.max_age is not None or control.s_maxage is not None or "expires" in headers:
        return headers
    if control.no_cache is True:
        return headers
    marked = Headers({key: list(headers.get_list(key) or []) for key in headers})
    value = headers.get("cache-control")
    marked["cache-control"] = f"{value}, no-cache" if value else "no-cache"
    return marked


def _validators_ok(headers: Headers) -> bool:
    """At least one validator, and none malformed (an ``ETag`` not in the entity-tag grammar or too long, a
    ``Last-Modified`` that is not an HTTP date)."""
    etag = headers.get_list("etag") or []
    modified = headers.get_list("last-modified") or []
    if not etag and not modified:
        return False
    if len(etag) > 1 or len(modified) > 1:
        return False
    if etag and (len(etag[0]) > MAX_VALIDATOR_CHARS or not _ENTITY_TAG.fullmatch(etag[0])):
        return False
    if modified:
        text = modified[0]
        if len(text) > MAX_VALIDATOR_CHARS or not text.isascii() or not text.isprintable():
            return False
        try:
            parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return False
    return True


def _header_text(headers: Headers) -> str:
    return "\n".join(f"{key}: {value}" for key in headers for value in headers.get_list(key) or [])


def admissible(request: Request, response: Response, redactor: Redactor) -> bool:
    """Whether ``response`` (to ``request``) may be stored at all, judged before its body arrives: a 200 to a
    GET, with well-formed validators, a bounded header block, and no token in the URL or the headers."""
    if request.method != "GET" or response.status_code != 200:
        return False
    if not _validators_ok(response.headers):
        return False
    text = _header_text(response.headers)
    if len(text) > MAX_HEADER_BYTES:
        return False
    return not (redactor and (redactor.text(text) != text or redactor.contains(request.url)))


def _body_clean(body: bytes, headers: Headers, redactor: Redactor) -> bool:
    """True when the body (decoded, if it is compressed) holds no token."""
    if not redactor:
        return True
    encoding = headers.get("content-encoding", "")
    if encoding.strip():
        try:
            decoder = BoundedDecoder(encoding, DECODE_CAP)
            body = b"".join([*decoder.feed(body), *decoder.finish()])
        except (UnsupportedEncoding, DecodingFailed, TooLarge):
            return False
    text = body.decode("latin-1")
    if redactor.text(text) != text:
        return False
    utf8 = body.decode("utf-8", errors="replace")
    return redactor.text(utf8) == utf8


@dataclass(slots=True)
class _Stored:
    request: Request
    status: int
    headers: Headers
    body: bytes
    key: str
    owner: str
    size: int
    stored_at: float


async def _replay(body: bytes) -> AsyncIterator[bytes]:
    yield body


class MemoryStorage(AsyncBaseStorage):
    """hishel's storage interface over a bounded in-memory LRU: one entry per key, at most ``max_entries``
    entries and ``max_bytes`` bytes (body plus header text), each body at most ``max_entry_bytes``.

    Counters for tests and the benchmark: :attr:`stored` (entries created), :attr:`served` (answers from a
    stored body, after a 304 or while fresh; counted by :class:`CacheRouter`), :attr:`refused` (responses
    not stored by :func:`admissible` or for their body).
    """

    def __init__(
        self,
        max_bytes: int,
        *,
        max_entries: int = MAX_ENTRIES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        max_age: float = MAX_AGE_SECONDS,
    ) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.max_age = max_age
        self._entries: OrderedDict[uuid.UUID, _Stored] = OrderedDict()
        self._by_key: dict[str, uuid.UUID] = {}
        self.size = 0
        self.stored = 0
        self.served = 0
        self.refused = 0

    @property
    def count(self) -> int:
        """Entries held now. (No ``__len__``: hishel tests a storage for truth, an empty one must pass.)"""
        return len(self._entries)

    def snapshot(self) -> list[tuple[str, str, Mapping[str, list[str]], bytes]]:
        """``(key, url, request headers, body)`` of every entry (tests: what the cache holds)."""
        return [
            (s.key, s.request.url, {k: list(s.request.headers.get_list(k) or []) for k in s.request.headers}, s.body)
            for s in self._entries.values()
        ]

    # -- hishel's interface ----------------------------------------------------------------------

    async def create_entry(
        self, request: Request, response: Response, key: str, *, ttl: float | None = None, tti: float | None = None
    ) -> Entry:
        """The entry for ``response``, whose stream stores the body once it has been read whole (a body
        read in part, over the bound, or holding the token is not stored; its reader gets it all the same)."""
        entry_id = uuid.uuid4()
        kept = Request(
            method=request.method,
            url=request.url,
            headers=Headers(
                {
                    k: list(request.headers.get_list(k) or [])
                    for k in request.headers
                    if k.lower() not in _SECRET_HEADERS
                }
            ),
        )
        source = cast(AsyncIterator[bytes], response.stream)
        redactor = _redactor()
        if admissible(request, response, redactor):
            stream: AsyncIterator[bytes] = self._saving(source, entry_id, kept, response, key, redactor)
        else:
            self.refused += 1
            stream = source
        return Entry(id=entry_id, request=kept, response=Response(response.status_code, response.headers, stream))

    async def get_entries(self, key: str) -> list[Entry]:
        entry_id = self._by_key.get(key)
        if entry_id is None:
            return []
        stored = self._entries[entry_id]
        if time.monotonic() - stored.stored_at > self.max_age:
            self._remove(entry_id)
            return []
        self._entries.move_to_end(entry_id)
        return [
            Entry(
                id=entry_id,
                request=stored.request,
                response=Response(stored.status, stored.headers, _replay(stored.body)),
            )
        ]

    async def update_headers(self, id: uuid.UUID, headers: Headers) -> None:
        """After a 304: the stored headers freshened (and the entry dropped if the new ones are not fit)."""
        stored = self._entries.get(id)
        if stored is None:
            return
        text = _header_text(headers)
        redactor = _redactor()
        if not _validators_ok(headers) or len(text) > MAX_HEADER_BYTES or redactor.text(text) != text:
            self._remove(id)
            return
        self.size -= stored.size
        stored.headers = _mark_revalidate(headers)
        stored.size = len(stored.body) + len(text)
        stored.stored_at = time.monotonic()
        self.size += stored.size
        self._evict()

    async def remove_entry(self, id: uuid.UUID) -> None:
        self._remove(id)

    # -- ours --------------------------------------------------------------------------------------

    def holds(self, key: str) -> bool:
        """Whether an entry is stored under ``key`` (it may still be too old to use)."""
        return key in self._by_key

    def forget(self, owner: str) -> None:
        """Drop every entry of one token (its key's owner part): after a write."""
        for entry_id in [i for i, s in self._entries.items() if s.owner == owner]:
            self._remove(entry_id)

    def clear(self) -> None:
        self._entries.clear()
        self._by_key.clear()
        self.size = 0

    async def _saving(
        self,
        source: AsyncIterator[bytes],
        entry_id: uuid.UUID,
        request: Request,
        response: Response,
        key: str,
        redactor: Redactor,
    ) -> AsyncIterator[bytes]:
        pieces: list[bytes] = []
        size = 0
        keep = True
        async for chunk in source:
            if keep:
                size += len(chunk)
                if size > self.max_entry_bytes:
                    keep, pieces = False, []
                else:
                    pieces.append(chunk)
            yield chunk
        body = b"".join(pieces)
        if not keep or not _body_clean(body, response.headers, redactor):
            self.refused += 1
            return
        headers = _mark_revalidate(response.headers)
        stored = _Stored(
            request=request,
            status=response.status_code,
            headers=headers,
            body=body,
            key=key,
            owner=key.split(":", 1)[0],
            size=len(body) + len(_header_text(headers)),
            stored_at=time.monotonic(),
        )
        old = self._by_key.get(key)
        if old is not None:
            self._remove(old)
        self._entries[entry_id] = stored
        self._by_key[key] = entry_id
        self.size += stored.size
        self.stored += 1
        self._evict()

    def _remove(self, entry_id: uuid.UUID) -> None:
        stored = self._entries.pop(entry_id, None)
        if stored is None:
            return
        self.size -= stored.size
        if self._by_key.get(stored.key) == entry_id:
            del self._by_key[stored.key]

    def _evict(self) -> None:
        while self._entries and (self.size > self.max_bytes or len(self._entries) > self.max_entries):
            self._remove(next(iter(self._entries)))


class CacheRouter(httpx2.AsyncBaseTransport):
    """A transport in front of ``inner``: opted-in GETs through hishel's RFC 9111 cache over ``storage``,
    everything else straight to ``inner`` (and any method but GET, HEAD, OPTIONS forgets its token's entries)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, storage: MemoryStorage, secret: bytes) -> None:
        self.inner = inner
        self.storage = storage
        self._secret = secret
        self._options = CacheOptions(shared=False, supported_methods=["GET"])
        self._cached = AsyncCacheTransport(
            inner, storage=storage, rfc=CacheOptions(shared=False, supported_methods=["GET"])
        )

    def owner(self, token: str | None) -> str:
        """The cache identity of ``token``: 32 hex digits of an HMAC under a per-process secret (never the
        token, never stable across processes); ``anonymous`` without one."""
        if not token:
            return "anonymous"
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:32]

    def key(self, owner: str, request: httpx2.Request) -> str:
        """``<owner>:<hash of Accept and URL>``."""
        identity = f"{request.headers.get('accept', '')}\0{request.url}".encode()
        return f"{owner}:{hashlib.sha256(identity).hexdigest()[:32]}"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        owner = self.owner(request.headers.get("apikey"))
        if request.method == "GET" and request.extensions.get(OPT_IN) not in (None, False):
            given = request.extensions[OPT_IN]
            token = request.headers.get("apikey")
            redactor = given if isinstance(given, Redactor) and (token is None or token in given.secrets) else None
            key = self.key(owner, request)
            reset = _REDACTOR.set(redactor or Redactor([token]))
            try:
                if not self.storage.holds(key):
                    return await self._first(request, key)
                request.extensions["caching"] = {"key": key}
                response = await self._cached.handle_async_request(request)
            finally:
                _REDACTOR.reset(reset)
            status = response.extensions.get("caching") or {}
            if status.get("from_cache"):
                self.storage.served += 1
            return response
        if request.method.upper() in _SAFE_METHODS:
            return await self.inner.handle_async_request(request)
        self.storage.forget(owner)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.storage.forget(owner)

    async def _first(self, request: httpx2.Request, key: str) -> httpx2.Response:
        """A read with nothing stored under its key: sent as it is (no conditional header to add, so none of
        hishel's per-request conversions, ≈ 0.2 ms, for the many answers that carry no validator, such as
        list pages); a 200 with a validator then goes through hishel's storage decision (RFC 9111 §3) into
        :meth:`MemoryStorage.create_entry`, as hishel's transport would have put it."""
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200 or ("etag" not in response.headers and "last-modified" not in response.headers):
            return response
        internal = _request_to_internal(request)
        state = CacheMiss(request=internal, options=self._options).next(_response_to_internal(response))
        if not isinstance(state, StoreAndUse):
            return response
        entry = await self.storage.create_entry(internal, state.response, key)
        return _response_to_httpx2(
            entry.response, CacheStatus(from_cache=False, revalidated=False, stored=True), response
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class CachingClient(httpx2.AsyncClient):
    """An ``httpx2.AsyncClient`` whose transports (the default one, a given one, and those for proxies
    from the environment) sit behind one :class:`CacheRouter` over ``storage``."""

    def __init__(self, *args: Any, storage: MemoryStorage, **kwargs: Any) -> None:
        self.cache_storage = storage
        self._cache_secret = os.urandom(32)
        super().__init__(*args, **kwargs)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        return CacheRouter(super()._init_transport(*args, **kwargs), self.cache_storage, self._cache_secret)

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        return CacheRouter(super()._init_proxy_transport(*args, **kwargs), self.cache_storage, self._cache_secret)
