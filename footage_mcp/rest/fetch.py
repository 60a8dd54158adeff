"""Opening a file's URL for a download: the first non-redirect answer, streaming.

Rules (footage-api.md: an original may be on another origin, a CDN or signed storage URL): https only
(plain http only to a loopback host, for the sandbox), no credentials in the URL, at most
:data:`MAX_REDIRECTS` redirects, never from https to http; the ``apiKey`` header only while every hop so far
stayed under the API's base URL. ``Range``/``If-Range`` resume a ``.part``; a 416, or a 206 that does not
start where asked, starts over without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from footage_mcp.core.errors import BadResponse, NotFound, RedirectRefused, TransportError
from footage_mcp.core.settings import is_loopback_host
from footage_mcp.rest.diagnose import classify, file_message

if TYPE_CHECKING:
    from footage_mcp.rest.http import RestClient

MAX_REDIRECTS = 5


def check_fetch_url(url: str) -> None:
    """Refuse an address a file must not be fetched from.

    Raises:
        RedirectRefused: not https (plain http only to a loopback host), credentials in it, or no host.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise RedirectRefused("the file's address is not a valid URL; the bridge did not fetch it") from None
    if parts.username is not None or parts.password is not None:
        raise RedirectRefused("the file's address carries credentials; the bridge does not fetch it")
    if not host:
        raise RedirectRefused("the file's address has no host; the bridge did not fetch it")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return
    raise RedirectRefused(
        f"the file is offered at a plain http (or other non-https) address on {host}; "
        "the bridge fetches files over https only"
    )


class OpenedFile:
    """``async with``: the final (non-redirect) response for a GET of ``url``, streaming; redirects followed
    by the rules of :func:`check_fetch_url`, the token only while under the base URL. ``http``: the client
    to use (default ``rest.http``; the transfer loop's own, see :mod:`footage_mcp.rest.transfers`)."""

    def __init__(
        self, rest: RestClient, url: str, offset: int, validator: str | None, http: httpx2.AsyncClient | None = None
    ) -> None:
        self.rest, self.url, self.offset, self.validator = rest, url, offset, validator
        self.http = http if http is not None else rest.http
        self.response: httpx2.Response | None = None

    async def __aenter__(self) -> httpx2.Response:
        rest = self.rest
        current, with_token = self.url, True
        for _hop in range(MAX_REDIRECTS + 1):
            check_fetch_url(current)
            with_token = with_token and rest.is_under_base(current)
            headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
            token = rest.token
            if with_token and token:
                headers["apiKey"] = token
            if self.offset and self.validator:
                headers["Range"] = f"bytes={self.offset}-"
                headers["If-Range"] = self.validator
            response = await self._send(current, headers)
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and "location" in response.headers:
                await response.aclose()
                target = urljoin(current, response.headers["location"])
                if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
                    raise RedirectRefused("the file's server redirected from https to plain http; not followed")
                current = target
                continue
            if status == 416 and self.offset:
                await response.aclose()
                self.offset = 0  # the saved part is no use: start over
                continue
            if status in (200, 203, 206):
                if status == 206 and not range_starts_at(response, self.offset):
                    await response.aclose()
                    self.offset, self.validator = 0, None
                    continue
                self.response = response
                return response
            content = b""
            try:
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > 8192:
                        break
            except (httpx2.HTTPError, httpx2.StreamError):
                pass
            await response.aclose()
            if status == 404:
                raise NotFound("no file at the address the API gives for it (404)", 404)
            if rest.is_under_base(current):
                raise rest.error_for(status, response.headers, content, current)
            raise BadResponse(
                f"the file's server ({urlsplit(current).hostname}) answered {status}; the download link may have "
                "expired: call download_asset again",
                status,
            )
        raise RedirectRefused(f"the file's server redirected more than {MAX_REDIRECTS} times; giving up")

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            await self.response.aclose()

    async def _send(self, url: str, headers: dict[str, str]) -> httpx2.Response:
        """The GET's response, streaming, its headers within ``FOOTAGE_TIMEOUT`` in all (httpx2's timeout is
        per read: a server trickling a header byte at a time held a download for minutes); sent a second
        time, at once, when the connection closed or sent what is not HTTP before any answer (a kept-alive
        connection the server closed as the request went out, or one holding junk an earlier answer left
        past its Content-Length; a GET is idempotent).

        Raises:
            TransportError: a timeout, or no connection or answer twice.
        """
        timeout = self.rest.settings.timeout
        for attempt in (1, 2):
            request = self.http.build_request("GET", url, headers=headers)
            try:
                with anyio.fail_after(timeout):  # the headers, however slowly they trickle
                    return await self.http.send(request, stream=True)
            except (httpx2.TransportError, TimeoutError) as exc:
                failure = classify(exc, url)
                if attempt == 1 and failure.may_resend:
                    continue
                raise TransportError(file_message(failure, timeout)) from None
        raise AssertionError("unreachable")  # pragma: no cover


def range_starts_at(response: httpx2.Response, offset: int) -> bool:
    value = response.headers.get("content-range", "")
    try:
        unit, _, rest = value.partition(" ")
        start = int(rest.split("-", 1)[0])
    except ValueError:
        return False
    return unit.strip().lower() == "bytes" and start == offset


def total_of(response: httpx2.Response, offset: int) -> int | None:
    """The whole file's size: from ``Content-Range`` (206) or ``Content-Length`` + the kept bytes."""
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2].strip()
        if total.isdigit():
            return int(total)
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None  # the length counts the encoded bytes; the file's size is known only at the end
    length = response.headers.get("content-length", "")
    return int(length) + offset if length.strip().isdigit() else None


def strong_validator(validator: str | None) -> str | None:
    """A validator If-Range may carry: a strong ETag or a date (a weak ``W/`` ETag may not)."""
    if not validator or validator.startswith("W/"):
        return None
    return validator


__all__ = ["MAX_REDIRECTS", "OpenedFile", "check_fetch_url", "range_starts_at", "strong_validator", "total_of"]
