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

import functools
import json
import logging
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio
import httpx2

from footage_mcp import __version__

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from footage_mcp.rest.netenv import Proxy
from footage_mcp.core.errors import (
    ApiError,
    BadRequest,
    BadResponse,
    Conflict,
    ConnectFailed,
    Forbidden,
    InvalidArgument,
    NotFound,
    RateLimited,
    RedirectRefused,
    TokenMissing,
    TransportError,
    Unauthorized,
    UpstreamFailure,
    exception_chain,
)
from footage_mcp.core.settings import TOKEN_HELP, Settings, diagnose_token
from footage_mcp.rest.discovery import same_origin

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_JSON_BYTES = 8 * 1024 * 1024
"""Largest JSON body read (bytes); a bigger one is refused as :class:`BadResponse`."""
MAX_BINARY_BYTES = 32 * 1024 * 1024
"""Largest preview/rendition body read (bytes)."""
EXCERPT_CHARS = 160

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
    the TLS trust store (~20 ms), which the MCP handshake should not wait for.
    """

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None
        self._closed = False

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._closed:
            raise TransportError("the HTTP client is closed (the server is shutting down)")
        if self._client is None:
            self._client = httpx2.AsyncClient(
                timeout=httpx2.Timeout(self.settings.timeout),
                follow_redirects=False,
                transport=self._transport,
                headers={"User-Agent": f"footage-mcp/{__version__}", "Accept": "application/json"},
                limits=httpx2.Limits(max_connections=32, max_keepalive_connections=16),
            )
        return self._client

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()

    @property
    def http(self) -> httpx2.AsyncClient:
        """The shared ``httpx2.AsyncClient``, for streamed transfers (:mod:`footage_mcp.rest.download`,
        :mod:`footage_mcp.rest.upload`): they set the ``apiKey`` header themselves, per request."""
        return self._http

    def error_for(self, status: int, headers: httpx2.Headers, content: bytes, url: str) -> ApiError:
        """The :class:`ApiError` for an error answer (as :meth:`get` raises it)."""
        return self._error_for(status, headers, content, url)

    @property
    def has_token(self) -> bool:
        return self.settings.token is not None

    # ------------------------------------------------------------ URL helpers

    def relative_path(self, url: str) -> str | None:
        """The path of ``url`` below the base path (no leading slash), or None when outside it.

        Outside too: a URL that does not parse (bad port, unclosed bracket), one with user info, and a
        path with a dot segment in any spelling (see :func:`is_dot_segment`): such a path could be
        resolved to anywhere on the origin by the server, a framework or a proxy.
        """
        try:
            parts = urlsplit(url)
            if parts.username is not None or parts.password is not None:
                return None
            if not same_origin(url, self.base_url):
                return None
        except ValueError:
            return None
        path = parts.path
        if any(is_dot_segment(segment) for segment in path.split("/")):
            return None
        if path == self._base_path or path == self._base_path + "/":
            return ""
        if not path.startswith(self._base_path + "/"):
            return None
        return path[len(self._base_path) + 1 :]

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

    async def get(self, url: str, *, accept: str = "application/json", binary: bool = False) -> Fetched:
        """GET ``url`` (absolute, under the base origin) and return the successful response.

        Sends the ``apiKey`` header to the base origin only. Follows same-origin redirects (at
        most :data:`MAX_REDIRECTS`); with ``binary=True`` (previews) a redirect to another
        https origin is followed *without* the token.

        Raises:
            TokenMissing: a token-only route and no token configured (no request is made).
            ApiError: an error status (subclass per status) or a body over the size cap.
            RedirectRefused: a redirect to another origin, https→http, or too many.
            TransportError: timeout, connection refused, DNS or TLS failure.
        """
        if not self.is_under_base(url):
            raise InvalidArgument("the request would leave the API base URL; the bridge refused to send it")
        if not self.has_token and not self.is_public(url):
            raise TokenMissing(f"this call needs a Footage API token: {TOKEN_HELP}")
        cap = MAX_BINARY_BYTES if binary else MAX_JSON_BYTES
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            headers = {"Accept": accept}
            if self.settings.token and self.is_under_base(current):
                headers["apiKey"] = self.settings.token
            status, resp_headers, content = await self._send(current, headers, cap)
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

    async def _send(self, url: str, headers: dict[str, str], cap: int) -> tuple[int, httpx2.Headers, bytes]:
        """One GET with retries: connect failures, 429 and 502/503/504 are retried (GET is
        idempotent) with exponential backoff and jitter, honouring ``Retry-After``, at most
        ``max_retries`` times and never past ``retry_budget`` seconds of waiting in all. The
        last answer is returned (or the last exception raised) when retrying stops."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay  # lazy

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_retries + 1) | stop_before_delay(self.settings.retry_budget),
            wait=_retry_wait,
            retry=retry_if_exception(_is_retryable),
            sleep=anyio.sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    answer = await self._send_once(url, headers, cap)
                    if answer[0] in RETRY_STATUSES:
                        raise _RetryableStatus(*answer)
                    return answer
        except _RetryableStatus as last:
            return last.status, last.headers, last.content
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, url: str, headers: dict[str, str], cap: int) -> tuple[int, httpx2.Headers, bytes]:
        """One GET attempt, bounded as a whole (headers and body) by ``FOOTAGE_TIMEOUT``."""
        timeout = self.settings.timeout
        try:
            with anyio.fail_after(timeout):
                async with self._http.stream("GET", url, headers=headers) as response:
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > cap:
                        raise BadResponse(_too_big(cap), response.status_code)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > cap:
                            raise BadResponse(_too_big(cap), response.status_code)
                        chunks.append(chunk)
                    return response.status_code, response.headers, b"".join(chunks)
        except (httpx2.TimeoutException, TimeoutError):
            raise TransportError(
                f"the Footage API did not answer within {timeout:g} s; try again later, or raise FOOTAGE_TIMEOUT"
            ) from None
        except (httpx2.RemoteProtocolError, httpx2.ReadError):
            raise TransportError(
                "the Footage API closed the connection before the response was complete; try again"
            ) from None
        except httpx2.ConnectError as exc:
            message, retryable = _describe_connect_error(exc, url)
            raise ConnectFailed(message, retryable) from None
        except httpx2.ProxyError as exc:  # the proxy refused to open a tunnel (CONNECT) to an https API
            if re.match(r"\s*407\b", str(exc)):  # the status code, never the proxy's own reason text
                raise ConnectFailed(_proxy_auth_message(url), False) from None
            proxy = _proxy_for(url)
            where = proxy.named if proxy else "the proxy"
            raise ConnectFailed(
                f"{where} would not connect to {urlsplit(url).hostname}; check the proxy, or set NO_PROXY "
                "for hosts the bridge should reach directly",
                True,
            ) from None
        except (httpx2.InvalidURL, httpx2.UnsupportedProtocol):
            raise InvalidArgument("the request URL is too long or invalid; shorten the arguments") from None
        except httpx2.TransportError as exc:
            host = urlsplit(url).hostname or "the API host"
            raise TransportError(
                f"cannot reach {host} ({type(exc).__name__}); check the network and FOOTAGE_BASE_URL, then retry"
            ) from None

    def _error_for(self, status: int, headers: httpx2.Headers, content: bytes, url: str) -> ApiError:
        excerpt = self.excerpt(content, headers.get("content-type", ""))
        detail = f": {excerpt}" if excerpt else ""
        if status == 401:
            if not self.has_token:
                return Unauthorized(f"this call needs a Footage API token (401): {TOKEN_HELP}", status)
            issue = diagnose_token(self.settings.token or "")
            if issue is not None and not issue.harmless:  # a placeholder: a new key would revoke the real one
                return Unauthorized(
                    f"the Footage API rejected the token (401): FOOTAGE_API_TOKEN {issue.message}", status
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
            return ApiError(_proxy_auth_message(url), status)
        if 300 <= status < 400:
            return ApiError(f"the Footage API answered with a redirect ({status}) without a target", status)
        if status in (204, 205):
            return BadResponse(f"the Footage API answered with no content ({status})", status)
        return ApiError(f"the Footage API answered with status {status}{detail}", status)

    def excerpt(self, content: bytes, content_type: str) -> str | None:
        """A short, sanitised, token-free excerpt of an error body, or None.

        JSON bodies give their ``message``/``detail``/``error`` text; HTML pages give nothing.
        """
        text = content[:4096].decode("utf-8", errors="replace").strip()
        if not text or "html" in content_type.lower() or text.lstrip().startswith("<"):
            return None
        found: str | None = None
        try:
            data = json.loads(content[:65536])
        except ValueError:
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
        return self.redact(_clean(found, EXCERPT_CHARS))

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the token replaced."""
        token = self.settings.token
        return text.replace(token, "[redacted]") if token else text


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
    try:
        return json.loads(fetched.content)
    except RecursionError:
        raise BadResponse("the Footage API answered with JSON nested too deeply to read", fetched.status) from None
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(
            "the Footage API answered with a body that is not valid JSON (it may have been cut off); try again",
            fetched.status,
        ) from None


MAX_RETRY_AFTER_SECONDS = 86_400.0
"""A ``Retry-After`` beyond a day is read as a day (it only sets the wait the model is told)."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS) if len(value) < 12 else MAX_RETRY_AFTER_SECONDS
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(0.0, (moment - datetime.now(UTC)).total_seconds()), MAX_RETRY_AFTER_SECONDS)


def _too_big(cap: int) -> str:
    return f"the Footage API's answer is larger than {cap // (1024 * 1024)} MiB; the bridge refused to read it"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_STACK_TRACE = re.compile(r"Traceback \(most recent|\bat [\w.$]+\(|Exception\b|\.java:\d+|File \"[^\"]+\", line")


def _clean(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text).strip()
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _proxy_for(url: str) -> Proxy | None:
    """The proxy httpx2 sends a request for ``url`` through (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY), if any."""
    from footage_mcp.rest.netenv import proxy_route

    return proxy_route(url).proxy


def _proxy_auth_message(url: str) -> str:
    """The message for a 407: the proxy wants credentials, or rejected the ones in its URL."""
    proxy = _proxy_for(url)
    if proxy is not None and proxy.has_credentials:
        return (
            f"{proxy.named} rejected the user name and password in "
            f"{proxy.variable} (407): check them (special characters in them must be percent-encoded, e.g. @ as "
            "%40), or set NO_PROXY for hosts the bridge should reach directly"
        )
    where = proxy.named if proxy else "a proxy between the bridge and the API"
    return (
        f"{where} requires authentication (407): put the user and password in the proxy URL "
        "(http://user:password@host:port), or set NO_PROXY for hosts the bridge should reach directly"
    )


MAX_DECODES = 3
"""How many extra rounds of percent-decoding :func:`is_dot_segment` looks through (``%25252e``)."""


def is_dot_segment(segment: str) -> bool:
    """True when a path segment is ``.`` or ``..`` in any spelling a server or proxy may resolve:
    percent-encoded (also double or triple: ``%252e%252e``), with matrix parameters (``..;``,
    ``..;x=1``, which Tomcat and Spring read as ``..``), or between backslashes (``..%5c``, a
    separator on some servers)."""
    current = segment
    for _ in range(MAX_DECODES + 1):
        if any(piece.split(";", 1)[0] in (".", "..") for piece in current.split("\\")):
            return True
        decoded = unquote(current)
        if decoded == current:
            return False
        current = decoded
    return True  # still encoded after several rounds: nothing a real path needs


def _describe_connect_error(exc: httpx2.TransportError, url: str) -> tuple[str, bool]:
    """A user-facing message for a failed connection, and whether retrying may help. When the request
    goes through a proxy, the failed connection is the one to the proxy, and the message says so."""
    host = urlsplit(url).hostname or "the API host"
    chain = exception_chain(exc)
    text = " ".join(str(c) for c in chain).lower()
    proxy = _proxy_for(url)
    if proxy is not None and not any(isinstance(c, ssl.SSLError) for c in chain):
        refused = any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in text
        what = "connection refused" if refused else "no connection"
        if any(isinstance(c, socket.gaierror) for c in chain) or "name or service not known" in text:
            what = "its host name does not resolve"
        return (
            f"cannot connect to the proxy {proxy.address} (from {proxy.variable}: {proxy.url}): {what}; check the "
            "proxy, or set NO_PROXY for hosts the bridge should reach directly",
            True,
        )
    if any(isinstance(c, ssl.SSLError) for c in chain) or "certificate" in text or "ssl" in text:
        return (
            f"TLS handshake with {host} failed (certificate or proxy problem); "
            "check the system clock, proxy settings and FOOTAGE_BASE_URL",
            False,
        )
    if any(isinstance(c, socket.gaierror) for c in chain) or any(
        phrase in text
        for phrase in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "temporary failure in name resolution",
            "no address associated",
        )
    ):
        return f"cannot resolve the host name {host}; check FOOTAGE_BASE_URL and the network", True
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in text:
        return f"connection to {host} was refused; is the API (or the sandbox) running at FOOTAGE_BASE_URL?", True
    return f"cannot connect to {host}; check the network and FOOTAGE_BASE_URL, then retry", True


RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses retried for idempotent requests (issue 3): rate limiting and gateway/unavailable errors."""
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0


@functools.cache
def _backoff() -> Callable[[RetryCallState], float]:
    from tenacity import wait_exponential_jitter  # lazy: not needed before the first retry

    wait: Callable[[RetryCallState], float] = wait_exponential_jitter(
        multiplier=BACKOFF_INITIAL_SECONDS, max=BACKOFF_MAX_SECONDS, jitter=0.5
    )
    return wait


class _RetryableStatus(Exception):
    """An answer worth another attempt; carries it so the last one can be mapped normally."""

    def __init__(self, status: int, headers: httpx2.Headers, content: bytes) -> None:
        super().__init__(status)
        self.status, self.headers, self.content = status, headers, content


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus) or (isinstance(exc, ConnectFailed) and exc.retryable)


def _retry_wait(state: RetryCallState) -> float:
    """``Retry-After`` when the answer has one, else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _RetryableStatus):
        after = parse_retry_after(exc.headers.get("retry-after"))
        if after is not None:
            return after
    return float(_backoff()(state))


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    what = f"status {exc.status}" if isinstance(exc, _RetryableStatus) else type(exc).__name__
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying a GET after %s (attempt %d, waiting %.2f s)", what, state.attempt_number, wait)
