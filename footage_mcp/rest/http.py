"""The REST client: auth, redirects, size caps and error mapping. No MCP imports.

One :class:`RestClient` wraps one ``httpx2.AsyncClient`` (a shared connection pool) for the
server's lifetime. It sends ``apiKey: <token>`` (footage-api.md, 'Confirmed') only to the
base URL's origin, follows same-origin redirects itself (at most :data:`MAX_REDIRECTS`),
reads bodies up to a size cap, and turns every failure into a
:class:`~footage_mcp.core.errors.FootageError` whose message is safe for a model to read.

The transport is a seam: pass ``transport=httpx2.MockTransport(...)`` or
``httpx2.ASGITransport(app)`` to run the real client code without a network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

import anyio
import httpx2

from footage_mcp import __version__

if TYPE_CHECKING:
    from httpcore2 import AsyncHTTP11Connection

    from footage_mcp.rest.cache import MemoryStorage
    from footage_mcp.rest.transfers import TransferLoop
from footage_mcp.core.errors import (
    ApiError,
    BadRequest,
    BadResponse,
    Conflict,
    ConnectFailed,
    Forbidden,
    InvalidArgument,
    NoAnswer,
    NotFound,
    RateLimited,
    RedirectRefused,
    TokenMissing,
    TransportError,
    Unauthorized,
    UpstreamFailure,
)
from footage_mcp.core.redact import Redactor
from footage_mcp.core.settings import Settings, diagnose_token
from footage_mcp.core.text import one_line
from footage_mcp.rest.decoding import (
    BoundedDecoder,
    DecodingFailed,
    TooLarge,
    UnsupportedEncoding,
    bound_heap,
    supported_encodings,
    trim_heap,
)
from footage_mcp.rest.diagnose import classify, proxy_auth_message, proxy_for, tool_message
from footage_mcp.rest.retry import RETRY_STATUSES, RetryableStatus, parse_retry_after, retrying
from footage_mcp.rest.tokens import CLIENT_TOKEN_HELP, CLIENT_TOKEN_LABEL, effective_token, request_token_bound
from footage_mcp.rest.urls import path_below, same_origin

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R", bound=Callable[..., Awaitable[None]])

MAX_REDIRECTS = 5
OPT_IN = "footage_cache"
"""The request extension that sends a GET through the repeated-reads cache (:data:`footage_mcp.rest.cache.OPT_IN`,
repeated here so that this module does not import the cache before the first request)."""
MAX_JSON_BYTES = 8 * 1024 * 1024
"""Largest JSON body read (bytes); a bigger one is refused as :class:`BadResponse`."""
MAX_BINARY_BYTES = 32 * 1024 * 1024
"""Largest preview/rendition body read (bytes)."""
EXCERPT_CHARS = 160
HEAD_BYTES = 64 * 1024
"""How much of a body a ``head_check`` sees (enough for an image's header and its first segments)."""
POOL_SIZE = 64
"""Connections to the API at most (and requests in flight at most). A request waits for a free slot
*before* its ``FOOTAGE_TIMEOUT`` starts, so up to this many calls can hang on a slow API while another
still gets a connection at once; the wait for a slot counts only against the call budget."""

TRANSFER_READ_BYTES = 1024 * 1024
"""Bytes one socket read may return while a file's body streams (:func:`large_reads`); httpcore2 reads
64 KiB otherwise."""

PUBLIC_PATHS = ("", "configuration/archive")
PUBLIC_PREFIXES = ("public/",)
"""Routes that need no token (footage-api.md, 'Confirmed'): the root, the archive
configuration and anything under ``/public/``."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response: the final URL, headers and the body bytes (within the cap)."""

    url: str
    status: int
    headers: httpx2.Headers
    content: bytes

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()

    @property
    def next_link(self) -> str | None:
        """The RFC 8288 ``Link: <url>; rel="next"`` target, if any (parsed by httpx2)."""
        if "link" not in self.headers:
            return None
        links = httpx2.Response(200, headers={"link": self.headers["link"]}).links
        target = links.get("next", {}).get("url")
        return str(target) if target else None


class RestClient:
    """HTTP access to the Footage REST API under one base URL.

    Use as an async context manager, or call :meth:`aclose`. The ``httpx2.AsyncClient`` (one
    connection pool for the client's lifetime) is built on the first request: building it loads
    the TLS trust store (~33 ms, once per process: ``netenv.tls_context``), which the MCP handshake
    should not wait for.
    """

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None
        self._transfers: TransferLoop | None = None
        self._cache: MemoryStorage | None = None
        self._slots: anyio.CapacityLimiter | None = None
        self._redactor = Redactor([settings.token, settings.raw_token])
        self._closed = False

    def _options(self) -> dict[str, Any]:
        """The ``httpx2.AsyncClient`` options of both clients (the API's and the transfer loop's): with
        no test transport, the process's one SSL context for this trust setting (``netenv.tls_context``)."""
        options: dict[str, Any] = {
            "timeout": httpx2.Timeout(self.settings.timeout, pool=None),
            "follow_redirects": False,
            "transport": self._transport,
            "headers": {
                "User-Agent": f"footage-mcp/{__version__}",
                "Accept": "application/json",
                "Accept-Encoding": ", ".join(supported_encodings()),
            },
            "limits": httpx2.Limits(max_connections=POOL_SIZE, max_keepalive_connections=16),
        }
        if self._transport is None:
            from footage_mcp.rest.netenv import tls_context  # lazy: read on the first request

            options["verify"] = tls_context()
        return options

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._closed:
            raise TransportError("the HTTP client is closed (the server is shutting down)")
        if self._client is None:
            bound_heap()  # large bodies in their own mappings: freed means returned (see rest.decoding)
            options = self._options()
            if self.settings.cache_mb > 0:  # imported here: hishel is not needed before the first request
                from footage_mcp.rest.cache import CachingClient, MemoryStorage

                self._cache = MemoryStorage(self.settings.cache_mb * 1024 * 1024)
                self._client = CachingClient(storage=self._cache, **options)
            else:
                self._client = httpx2.AsyncClient(**options)
            self._slots = anyio.CapacityLimiter(POOL_SIZE)
        return self._client

    @property
    def transfers(self) -> TransferLoop | None:
        """Where file bodies stream (:mod:`footage_mcp.rest.transfers`): a loop of their own with a client
        of their own, over the network; None with an injected transport (tests: a mock or an in-process
        ASGI app belongs to the caller's loop), where transfers use :attr:`http` on the caller's loop."""
        if self._closed:
            raise TransportError("the HTTP client is closed (the server is shutting down)")
        if self._transport is not None:
            return None
        if self._transfers is None:
            from footage_mcp.rest.transfers import TransferLoop

            self._transfers = TransferLoop(lambda: httpx2.AsyncClient(**self._options()))
        return self._transfers

    async def transfer(self, fn: Callable[[httpx2.AsyncClient, R | None], Awaitable[T]], report: R | None) -> T:
        """``await fn(client, report)`` where file bodies stream: on the transfer loop with its client and
        ``report`` (a progress callback of this loop, or None) relayed back here; with an injected transport
        here, with :attr:`http`.

        Raises:
            whatever ``fn`` raised; see :meth:`footage_mcp.rest.transfers.TransferLoop.run`.
        """
        transfers = self.transfers
        if transfers is None:
            return await fn(self.http, report)
        relayed = cast("R", transfers.relay(report, asyncio.get_running_loop())) if report is not None else None

        async def there() -> T:
            return await fn(transfers.client(), relayed)

        return await transfers.run(there)

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._transfers is not None:
            await self._transfers.aclose()
        if self._client is not None:
            await self._client.aclose()

    @property
    def cache(self) -> MemoryStorage | None:
        """The repeated-reads cache (:mod:`footage_mcp.rest.cache`) once the first request built it; None
        before, or with ``FOOTAGE_CACHE_MB=0``."""
        return self._cache

    @property
    def http(self) -> httpx2.AsyncClient:
        """The shared ``httpx2.AsyncClient``, for streamed transfers (:mod:`footage_mcp.rest.download`,
        :mod:`footage_mcp.rest.upload`): they set the ``apiKey`` header themselves, per request."""
        return self._http

    def error_for(self, status: int, headers: httpx2.Headers, content: bytes, url: str) -> ApiError:
        """The :class:`ApiError` for an error answer (as :meth:`get` raises it)."""
        return self._error_for(status, headers, content, url)

    @property
    def token(self) -> str | None:
        """The token to send now: in HTTP team mode the one this request brought (see
        :mod:`footage_mcp.rest.tokens`), otherwise ``FOOTAGE_API_TOKEN``. Never log it."""
        return effective_token(self.settings.token)

    @property
    def redactor(self) -> Redactor:
        """Removes the token in use (in any encoding, or cut off; see :mod:`footage_mcp.core.redact`) and
        the configured one as written (a mangled token is not sent, but is never shown either). In team
        mode the request's token: built per call, kept nowhere."""
        if request_token_bound():
            return Redactor([self.token, self.settings.raw_token])
        return self._redactor

    @property
    def has_token(self) -> bool:
        return self.token is not None

    # ------------------------------------------------------------ URL helpers

    def relative_path(self, url: str) -> str | None:
        """The path of ``url`` below the base path (no leading slash), or None when outside it
        (see :func:`footage_mcp.rest.urls.path_below`)."""
        return path_below(self.base_url, url)

    def is_under_base(self, url: str) -> bool:
        """True when ``url`` is on the base origin and under the base path."""
        return self.relative_path(url) is not None

    def is_public(self, url: str) -> bool:
        """True for routes that need no token (see :data:`PUBLIC_PATHS`)."""
        rel = self.relative_path(url)
        if rel is None:
            return False
        rel = rel.rstrip("/")
        return rel in PUBLIC_PATHS or (rel + "/").startswith(PUBLIC_PREFIXES)

    # ------------------------------------------------------------ requests

    async def get(
        self,
        url: str,
        *,
        accept: str = "application/json",
        binary: bool = False,
        head_check: Callable[[bytes, str], None] | None = None,
    ) -> Fetched:
        """GET ``url`` (absolute, under the base origin) and return the successful response.

        Sends the ``apiKey`` header to the base origin only. Follows same-origin redirects (at
        most :data:`MAX_REDIRECTS`); with ``binary=True`` (previews) a redirect to another
        https origin is followed *without* the token. ``head_check`` is called with the first
        :data:`HEAD_BYTES` of a 2xx body as soon as they arrived (or the whole body, if shorter); an
        exception it raises refuses the body then and there, before the rest is read, and propagates.

        Raises:
            TokenMissing: a token-only route and no token configured (no request is made).
            ApiError: an error status (subclass per status) or a body over the size cap.
            RedirectRefused: a redirect to another origin, https→http, or too many.
            TransportError: timeout, connection refused, DNS or TLS failure.
        """
        if not self.is_under_base(url):
            raise InvalidArgument("the request would leave the API base URL; the bridge refused to send it")
        if not self.has_token and not self.is_public(url):
            if request_token_bound():
                raise TokenMissing(f"this call needs a Footage API token: {CLIENT_TOKEN_HELP}")
            raise TokenMissing(self.settings.token_missing())
        token = self.token
        if token is not None and request_token_bound():  # team mode: a mangled token is not sent
            issue = diagnose_token(token)
            if issue is not None and issue.fatal:
                raise Unauthorized(f"{CLIENT_TOKEN_LABEL} {issue.message}", 401)
        cap = MAX_BINARY_BYTES if binary else MAX_JSON_BYTES
        current = url
        redactor = self.redactor
        for _hop in range(MAX_REDIRECTS + 1):
            headers = {"Accept": accept}
            under_base = self.is_under_base(current)
            if token and under_base:
                headers["apiKey"] = token
            # JSON reads only (previews are images: large, and the sandbox's say max-age), and never a URL
            # holding the token (it would be part of a key)
            cache = not binary and under_base and not redactor.contains(current)
            status, resp_headers, content = await self._send(
                current, headers, cap, head_check, cache=redactor if cache else None
            )
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                current = self._redirect_target(current, resp_headers["location"], binary)
                continue
            if status >= 400 or status < 200 or (status in (204, 205) and not binary):
                raise self._error_for(status, resp_headers, content, current)
            return Fetched(current, status, resp_headers, content)
        raise RedirectRefused(f"the Footage API redirected more than {MAX_REDIRECTS} times; giving up")

    async def get_json(self, url: str) -> tuple[Any, Fetched]:
        """GET ``url`` and decode its JSON body.

        Raises:
            BadResponse: the body is an HTML page, not JSON, or truncated JSON.
            (and everything :meth:`get` raises)
        """
        fetched = await self.get(url)
        return decode_json(fetched), fetched

    def _redirect_target(self, current: str, location: str, binary: bool) -> str:
        try:
            target = str(httpx2.URL(current).join(location))
        except httpx2.InvalidURL:
            raise RedirectRefused("the Footage API redirected to an invalid address; not followed") from None
        if self.is_under_base(target):
            return target
        if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
            raise RedirectRefused("the Footage API redirected from https to plain http; the bridge refuses to follow")
        if binary and urlsplit(target).scheme == "https":
            return target  # e.g. a CDN rendition: followed without the apiKey header
        where = "another origin" if not same_origin(target, self.base_url) else "a path outside the API"
        raise RedirectRefused(
            f"the Footage API redirected to {where} ({urlsplit(target).hostname}); "
            "the bridge does not follow it, so the token never leaves the API"
        )

    async def _send(
        self,
        url: str,
        headers: dict[str, str],
        cap: int,
        head_check: Callable[[bytes, str], None] | None = None,
        *,
        cache: Redactor | bool | None = None,
    ) -> tuple[int, httpx2.Headers, bytes]:
        """One GET with retries: connect failures, a connection closed before any answer, 429 and
        502/503/504 are retried (GET is idempotent) with exponential backoff and jitter, honouring
        ``Retry-After``, at most ``max_retries`` times and never past ``retry_budget`` seconds of waiting in all. The
        last answer is returned (or the last exception raised) when retrying stops. ``cache``: through the
        repeated-reads cache (:mod:`footage_mcp.rest.cache`), which answers a 304 with the stored body."""
        attempts = retrying(self.settings.max_retries, self.settings.retry_budget)
        try:
            async for attempt in attempts:
                with attempt:
                    answer = await self.exchange("GET", url, headers, cap=cap, head_check=head_check, cache=cache)
                    if answer[0] in RETRY_STATUSES:
                        raise RetryableStatus(*answer)
                    return answer
        except RetryableStatus as last:
            return last.status, last.headers, last.content
        raise AssertionError("unreachable")  # pragma: no cover

    async def exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        content: bytes | None = None,
        cap: int = MAX_JSON_BYTES,
        head_check: Callable[[bytes, str], None] | None = None,
        cache: Redactor | bool | None = None,
    ) -> tuple[int, httpx2.Headers, bytes]:
        """One request attempt and its answer ``(status, headers, body)``, no retry (the caller decides:
        writes are retried only when idempotent). Bounded as a whole (headers and body) by
        ``FOOTAGE_TIMEOUT``, which starts once a connection slot is free (see :data:`POOL_SIZE`); the body
        is decoded layer by layer within ``cap`` (:func:`read_body`). The caller sets the ``apiKey`` header.
        ``cache`` (a GET only; True, or the :class:`Redactor` of the request's token) goes through the
        repeated-reads cache (:mod:`footage_mcp.rest.cache`); any other method forgets the cached reads of
        its token.

        Raises:
            ConnectFailed: no connection was made (the request never left: safe to try again).
            NoAnswer: the connection closed, or sent what is not HTTP, before any answer began (a kept-alive
                connection the server closed as the request went out, or one holding junk an earlier answer
                left past its Content-Length): the request may have been read.
            TransportError: a timeout or a broken answer after the request was sent.
            BadResponse: a body over ``cap`` or not what its encoding says.
            InvalidArgument: a URL httpx2 cannot send.
        """
        timeout = self.settings.timeout
        client = self._http
        assert self._slots is not None
        answered = False
        try:
            async with self._slots:
                with anyio.fail_after(timeout):
                    opted_in = cache is not None and cache is not False and method == "GET"
                    extensions = {OPT_IN: cache} if opted_in else None
                    async with client.stream(
                        method, url, headers=headers, content=content, extensions=extensions
                    ) as response:
                        answered = True
                        check = head_check if 200 <= response.status_code < 300 else None
                        content = await read_body(response, cap, check)
                        return response.status_code, response.headers, content
        except (httpx2.InvalidURL, httpx2.UnsupportedProtocol):
            raise InvalidArgument("the request URL is too long or invalid; shorten the arguments") from None
        except (httpx2.TransportError, TimeoutError) as exc:
            failure = classify(exc, url)
            message = tool_message(failure, timeout)
            if failure.may_resend and not answered:
                raise NoAnswer(message) from None
            if failure.kind in ("timeout", "closed", "headers_too_large", "malformed", "other"):
                raise TransportError(message) from None
            raise ConnectFailed(message, failure.retryable) from None

    def _error_for(self, status: int, headers: httpx2.Headers, content: bytes, url: str) -> ApiError:
        excerpt = self.excerpt(content, headers.get("content-type", ""))
        detail = f": {excerpt}" if excerpt else ""
        if status == 401:
            if not self.has_token:
                if request_token_bound():
                    return Unauthorized(f"this call needs a Footage API token (401): {CLIENT_TOKEN_HELP}", status)
                return Unauthorized(self.settings.token_missing(401), status)
            issue = diagnose_token(self.token or "")
            label = CLIENT_TOKEN_LABEL if request_token_bound() else "FOOTAGE_API_TOKEN"
            if issue is not None and not issue.harmless:  # a placeholder: a new key would revoke the real one
                return Unauthorized(f"the Footage API rejected the token (401): {label} {issue.message}", status)
            if request_token_bound():
                return Unauthorized(
                    "the Footage API rejected the token (401): generate a new API key at app.footage.one/account "
                    "and put it in your MCP client's configuration (apiKey or Authorization: Bearer header)",
                    status,
                )
            return Unauthorized(
                "the Footage API rejected the token (401): generate a new API key at "
                "app.footage.one/account and set FOOTAGE_API_TOKEN",
                status,
            )
        if status == 403:
            return Forbidden(f"the token's user has no permission for this resource (403){detail}", status)
        if status == 404:
            return NotFound(f"not found (404){detail}", status)
        if status in (400, 422):
            return BadRequest(f"the Footage API rejected the request ({status}){detail}", status)
        if status == 409:
            return Conflict(f"the Footage API reports a conflict (409){detail}", status)
        if status == 429:
            retry_after = parse_retry_after(headers.get("retry-after"))
            when = f"retry in {retry_after:.0f} s" if retry_after is not None else "retry in a minute"
            return RateLimited(f"the Footage API is rate limiting requests (429): {when}", status, retry_after)
        if status >= 500:  # a server's error text is for its operators, not for the model
            hint = "retrying in a moment may help" if status in (502, 503, 504) else "retrying is unlikely to help"
            return UpstreamFailure(f"the Footage service failed ({status}); {hint}", status)
        if status == 407:
            return ApiError(proxy_auth_message(proxy_for(url)), status)
        if 300 <= status < 400:
            return ApiError(f"the Footage API answered with a redirect ({status}) without a target", status)
        if status in (204, 205):
            return BadResponse(f"the Footage API answered with no content ({status})", status)
        return ApiError(f"the Footage API answered with status {status}{detail}", status)

    def excerpt(self, content: bytes, content_type: str) -> str | None:
        """A short, sanitised, token-free excerpt of an error body, or None.

        JSON bodies give their ``message``/``detail``/``error`` text; HTML pages give nothing.
        """
        whole = content[:65536].decode("utf-8", errors="replace")  # a cut token start is caught by redact()
        text = self.redact(whole)[:4096].strip()  # redacted before any cut
        if not text or "html" in content_type.lower() or text.lstrip().startswith("<"):
            return None
        found: str | None = None
        try:
            data = json.loads(whole)
        except (ValueError, RecursionError):
            found = text
        else:
            if isinstance(data, dict):
                for key in ("message", "detail", "error_description", "error", "title"):
                    value = data.get(key)
                    if isinstance(value, str) and value.strip():
                        found = value
                        break
            elif isinstance(data, str):
                found = data
        if not found or _STACK_TRACE.search(found):
            return None
        return self.redact(one_line(self.redact(found), EXCERPT_CHARS))  # again: the cut's "…" may follow a start

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the token replaced."""
        return self.redactor.text(text)


async def read_body(
    response: httpx2.Response, cap: int, head_check: Callable[[bytes, str], None] | None = None
) -> bytes:
    """The body of ``response``, decoded (:mod:`footage_mcp.rest.decoding`) with no decoding step
    producing more than ``cap`` bytes; ``head_check`` (if any) sees its first :data:`HEAD_BYTES`
    as soon as they are in, and may refuse the body by raising.

    On a refusal the pieces read so far are dropped before the error is raised, so a traceback kept
    alive somewhere holds no body.

    Raises:
        BadResponse: over ``cap`` (declared or counted, raw or decoded), an unsupported
            ``Content-Encoding``, or a body that is not what its encoding says.
    """
    status = response.status_code
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise BadResponse(_too_big(cap), status)
    if response.is_stream_consumed:  # an in-memory response (MockTransport): already read and decoded
        if len(response.content) > cap:
            raise BadResponse(_too_big(cap), status)
        if head_check is not None:
            head_check(response.content[:HEAD_BYTES], response.headers.get("content-type", ""))
        return response.content
    encoding = response.headers.get("content-encoding", "")
    try:
        decoder = BoundedDecoder(encoding, cap)
    except UnsupportedEncoding as exc:
        raise BadResponse(
            f"the Footage API answered in a content encoding the bridge cannot read ({one_line(exc.encoding, 40)}); "
            "the service is at fault, retrying is unlikely to help",
            status,
        ) from None
    pieces: list[bytes] = []
    raw_size = 0
    failure: BadResponse | None = None
    try:
        async for raw in response.aiter_raw():
            raw_size += len(raw)
            if raw_size > cap:
                raise TooLarge
            pieces.extend(decoder.feed(raw))
            if head_check is not None and decoder.size >= HEAD_BYTES:
                check, head_check = head_check, None
                check(b"".join(pieces)[:HEAD_BYTES], response.headers.get("content-type", ""))
        pieces.extend(decoder.finish())
        if head_check is not None:
            head_check(b"".join(pieces), response.headers.get("content-type", ""))
    except TooLarge:
        failure = BadResponse(_too_big(cap), status)
    except DecodingFailed as exc:
        failure = BadResponse(
            f"the Footage API's answer is labelled {exc.encoding}-compressed but is not valid {exc.encoding} data; "
            "the service is at fault, retrying is unlikely to help",
            status,
        )
    except BaseException:  # a head check's refusal, a timeout, a cancellation: drop what was read
        pieces.clear()
        raise
    if failure is not None:
        pieces.clear()
        release_memory()
        raise failure
    return b"".join(pieces)


@contextlib.contextmanager
def large_reads(response: httpx2.Response, nbytes: int = TRANSFER_READ_BYTES) -> Iterator[bool]:
    """While the block runs, let the HTTP/1.1 connection carrying ``response`` read up to ``nbytes`` per
    socket read instead of httpcore2's 64 KiB; yields whether it could.

    Scoped to that one connection and that block: httpcore2's read size is the class attribute
    ``AsyncHTTP11Connection.READ_NUM_BYTES``, read through ``self`` at every read, so an instance attribute
    overrides it for this connection alone and is deleted before the connection goes back to the pool
    (other requests, in flight or later, keep 64 KiB). Where the connection cannot be found (another
    transport, an HTTP/2 connection, a changed httpx2), nothing changes but the speed. Measured (a 256 MiB
    body on loopback, 2 cores): the event loop's CPU per byte drops by about a third (anyio then hands
    over asyncio's ~256 KiB reads whole instead of slicing each into four copies)."""
    connection = http11_connection(response)
    if connection is None or nbytes <= connection.READ_NUM_BYTES:
        yield False
        return
    connection.READ_NUM_BYTES = nbytes
    try:
        yield True
    finally:
        with contextlib.suppress(AttributeError):
            del connection.READ_NUM_BYTES


def http11_connection(response: httpx2.Response) -> AsyncHTTP11Connection | None:
    """The httpcore2 connection streaming ``response``: httpx2's bound stream → its transport's response
    stream → the pool's stream → the HTTP/1.1 body stream → its connection (httpx2/httpcore2 2.16)."""
    from httpcore2 import AsyncHTTP11Connection

    node: object = response.stream
    for name in ("_stream", "_httpcore_stream", "_stream", "_connection"):
        node = getattr(node, name, None)
    return node if isinstance(node, AsyncHTTP11Connection) else None


def sending_connection(http: httpx2.AsyncClient, request: httpx2.Request) -> AsyncHTTP11Connection | None:
    """The httpcore2 connection ``request`` (sent by ``http``, its body not yet finished) is assigned to:
    the transport for its URL → its connection pool → the pool's request whose stream is ``request``'s →
    its connection → the HTTP/1.1 connection inside (httpx2/httpcore2 2.16); None for anything else (a
    mounted or mock transport, a proxy, HTTP/2, another layout)."""
    from httpcore2 import AsyncConnectionPool, AsyncHTTP11Connection

    try:
        transport = http._transport_for_url(request.url)
    except (AttributeError, TypeError):
        return None
    pool = getattr(transport, "_pool", None)
    if type(pool) is not AsyncConnectionPool:  # a proxy's pool holds other connection kinds
        return None
    for waiting in list(getattr(pool, "_requests", ())):
        if getattr(getattr(waiting, "request", None), "stream", None) is request.stream:
            node = getattr(getattr(waiting, "connection", None), "_connection", None)
            return node if isinstance(node, AsyncHTTP11Connection) else None
    return None


def plain_tcp_transport(network: Any) -> tuple[asyncio.Transport, Any, socket.socket] | None:
    """The asyncio transport, protocol and socket under httpcore2's network stream ``network``, when it is
    anyio's asyncio socket stream over plain TCP (or a Unix socket) and not closing: httpcore2's AnyIOStream
    → anyio's SocketStream → its ``_transport`` and ``_protocol`` (anyio 4); None for TLS or anything else."""
    if network.get_extra_info("ssl_object") is not None:
        return None
    stream = getattr(network, "_stream", None)
    transport = getattr(stream, "_transport", None)
    protocol = getattr(stream, "_protocol", None)
    raw = network.get_extra_info("socket")
    if not isinstance(transport, asyncio.Transport) or raw is None or transport.is_closing():
        return None
    if raw.type != socket.SOCK_STREAM or raw.family not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
        return None
    return transport, protocol, raw


def release_memory() -> None:
    """Hand freed heap pages back to the system after a refused body (glibc keeps them otherwise;
    see bench/run.py's hostile section for the measurement). A no-op where ``malloc_trim`` is absent."""
    trim_heap()


def decode_json(fetched: Fetched) -> Any:
    """The JSON value of a response body.

    Raises:
        BadResponse: HTML page, empty body, invalid or truncated JSON.
    """
    head = fetched.content[:256].lstrip()
    if "html" in fetched.content_type or head[:1] == b"<":
        raise BadResponse(
            f"the Footage API answered with an HTML page instead of JSON ({fetched.status}); "
            "check FOOTAGE_BASE_URL (it should end in /api/asset)",
            fetched.status,
        )
    if not head:
        raise BadResponse(f"the Footage API answered with an empty body ({fetched.status})", fetched.status)
    encoding = json.detect_encoding(fetched.content)  # UTF-8 (with a BOM or not), or UTF-16/32
    try:
        text = fetched.content.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
        raise BadResponse(
            f"the Footage API answered with text that is not valid {name} (at byte {exc.start}); the service is at "
            "fault, retrying is unlikely to help",
            fetched.status,
        ) from None
    try:
        return json.loads(text)  # NaN/Infinity are read as floats; rendering drops them (an absent field)
    except RecursionError:
        raise BadResponse("the Footage API answered with JSON nested too deeply to read", fetched.status) from None
    except ValueError as exc:
        if "digits" in str(exc) and "integer" in str(exc):  # CPython's int_max_str_digits guard
            raise BadResponse(
                "the Footage API answered with a number too long to read (over 4,300 digits); the service is at "
                "fault, retrying is unlikely to help",
                fetched.status,
            ) from None
        raise BadResponse(
            "the Footage API answered with a body that is not valid JSON (it may have been cut off); try again",
            fetched.status,
        ) from None


def _too_big(cap: int) -> str:
    return f"the Footage API's answer is larger than {cap // (1024 * 1024)} MiB; the bridge refused to read it"


_STACK_TRACE = re.compile(r"Traceback \(most recent|\bat [\w.$]+\(|Exception\b|\.java:\d+|File \"[^\"]+\", line")
