"""One classification of a request that got no HTTP answer, and its rendering for a tool message.

:func:`classify` walks an exception chain once (the REST client raises its errors ``from None``, so
the httpx2 exception stays reachable as ``__context__``) and returns a :class:`Failure`: what kind
of failure it was, where (host and port), through which proxy, and whether another attempt may help.
Two renderings read it: :func:`tool_message` here (short, for the model), and ``footage-mcp check``'s
connection line (``footage_mcp.cli.check``), which adds the fix for the environment at hand. Neither
parses the other's message text.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import httpx2

from footage_mcp.core.errors import exception_chain

if TYPE_CHECKING:
    from footage_mcp.rest.netenv import Proxy

Kind = Literal[
    "tls",
    "proxy_status",
    "proxy_connect",
    "timeout",
    "dns",
    "refused",
    "closed",
    "headers_too_large",
    "malformed",
    "connect",
    "other",
]
"""``tls`` handshake or certificate failure; ``proxy_status`` the proxy answered a status instead of
connecting (CONNECT refused, 407); ``proxy_connect`` the proxy itself could not be reached;
``timeout`` no answer in time; ``dns`` the host name does not resolve; ``refused`` nothing listens;
``closed`` the connection ended before a complete response; ``headers_too_large`` the response's
header block is over what the HTTP parser accepts (httpcore: 100 KiB; a huge header line, thousands of
``Link`` headers); ``malformed`` any other response that is not valid HTTP; ``connect`` another connection failure;
``other`` any other transport failure."""

_DNS_PHRASES = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "temporary failure in name resolution",
    "no address associated",
)
_HEADERS_TOO_LARGE = ("receive buffer too long",)
"""h11's words for a header block over its ``max_incomplete_event_size``."""
_CLOSED_PHRASES = ("disconnected", "closed connection", "connection closed", "incomplete", "without sending")
"""The words of a protocol error that is a connection ending early (h11, httpcore2)."""
_STATUS_CODE = re.compile(r"\s*([1-5][0-9][0-9])(?![0-9])")


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a request to ``host:port`` got no HTTP answer."""

    kind: Kind
    host: str
    """The host of the request URL (``"the API host"`` when it has none)."""
    port: int
    """The port, the scheme's default filled in."""
    scheme: str
    proxy: Proxy | None
    """The proxy the request went through, if any (credentials masked in its ``url``)."""
    refused: bool = False
    """A refused connection (for ``proxy_connect``: to the proxy)."""
    unresolved: bool = False
    """A host name that did not resolve (for ``proxy_connect``: the proxy's)."""
    status: int | None = None
    """The status a proxy answered with (``proxy_status``), only the code: never its reason text."""
    tls: ssl.SSLError | None = None
    """The TLS error (``tls``), for a rendering that tells certificate problems apart."""
    error_type: str = ""
    """The class name of the innermost transport exception (``other``)."""

    @property
    def retryable(self) -> bool:
        """Whether another attempt may help: not for TLS failures or a proxy that wants credentials."""
        return self.kind != "tls" and not (self.kind == "proxy_status" and self.status == 407)

    @property
    def may_resend(self) -> bool:
        """Whether an idempotent request may go again at once, on a new connection, when no answer to it
        had begun: the connection closed or sent what is not HTTP (a kept-alive connection the server
        closed as the request went out, or one holding junk an earlier answer left past its
        Content-Length)."""
        return self.kind in ("closed", "malformed")


def proxy_for(url: str) -> Proxy | None:
    """The proxy httpx2 sends a request for ``url`` through (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY), if any."""
    from footage_mcp.rest.netenv import proxy_route  # lazy: reads the environment

    return proxy_route(url).proxy


def classify(exc: BaseException, url: str, *, proxy: Proxy | Literal["auto"] | None = "auto") -> Failure:
    """The :class:`Failure` behind ``exc`` (an exception chain) for a request to ``url``.

    ``proxy`` is the proxy in use; ``"auto"`` reads it from the environment as httpx2 does.
    """
    parts = urlsplit(url)
    host = parts.hostname or "the API host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 443 if parts.scheme == "https" else 80
    through = proxy_for(url) if proxy == "auto" else proxy
    chain = exception_chain(exc)
    text = " ".join(str(c) for c in chain).lower()

    def failure(kind: Kind, **extra: object) -> Failure:
        return Failure(kind, host, port, parts.scheme, through, **extra)  # type: ignore[arg-type]

    tls = next((c for c in chain if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        return failure("tls", tls=tls)
    proxy_error = next((c for c in chain if isinstance(c, httpx2.ProxyError)), None)
    if proxy_error is not None:
        code = _STATUS_CODE.match(str(proxy_error))  # "407 <the proxy's reason phrase>": only the code is read
        return failure("proxy_status", status=int(code.group(1)) if code else None)
    if any(isinstance(c, TimeoutError | httpx2.TimeoutException) for c in chain):
        return failure("timeout")
    protocol = next((c for c in chain if isinstance(c, httpx2.RemoteProtocolError)), None)
    if protocol is not None and any(p in text for p in _HEADERS_TOO_LARGE):
        return failure("headers_too_large")
    if protocol is not None and not any(p in str(protocol).lower() for p in _CLOSED_PHRASES):
        return failure("malformed")
    closed = any(isinstance(c, httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.WriteError) for c in chain)
    connecting = any(isinstance(c, httpx2.ConnectError | ConnectionRefusedError | socket.gaierror) for c in chain)
    if closed and not connecting:
        return failure("closed")
    connect_level = connecting or any(isinstance(c, OSError) for c in chain)
    refused = any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in text
    unresolved = any(isinstance(c, socket.gaierror) for c in chain) or any(p in text for p in _DNS_PHRASES)
    if through is not None and connect_level:
        return failure("proxy_connect", refused=refused, unresolved=unresolved)
    if "certificate" in text or "ssl" in text:
        return failure("tls")
    if unresolved:
        return failure("dns", unresolved=True)
    if refused:
        return failure("refused", refused=True)
    if connect_level:
        return failure("connect")
    inner = next((c for c in reversed(chain) if isinstance(c, httpx2.TransportError)), None)
    return failure("other", error_type=type(inner or exc).__name__)


def proxy_auth_message(proxy: Proxy | None) -> str:
    """The message for a 407: the proxy wants credentials, or rejected the ones in its URL."""
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


_FILE_MESSAGES = {
    "timeout": "{host} did not answer within {timeout:g} s; try again later",
    "tls": (
        "TLS handshake with {host}:{port} failed for the file (a certificate or proxy problem, or an https address "
        "on a plain-http port); check the system clock and proxy settings, then retry"
    ),
    "dns": "cannot resolve the host name {host} of the file's address; check the network, then retry",
    "refused": "connection to {host}:{port} was refused for the file; check the network, then retry",
}


def file_message(failure: Failure, timeout: float) -> str:
    """One short sentence for a file's server (a download's URL may be on another origin than the API):
    the same classification as :func:`tool_message`, without the API's settings in the advice
    (``timeout`` in seconds)."""
    if failure.kind in ("proxy_status", "proxy_connect") and failure.proxy is not None:
        return tool_message(failure, timeout)
    template = _FILE_MESSAGES.get(failure.kind, "cannot reach {host} for the file; check the network, then retry")
    return template.format(host=failure.host, port=failure.port, timeout=timeout)


def tool_message(failure: Failure, timeout: float) -> str:
    """One short sentence for the model: what failed and what to do next (``timeout`` in seconds)."""
    host, proxy = failure.host, failure.proxy
    if failure.kind == "tls":
        return (
            f"TLS handshake with {host} failed (certificate or proxy problem); "
            "check the system clock, proxy settings and FOOTAGE_BASE_URL"
        )
    if failure.kind == "proxy_status":
        if failure.status == 407:
            return proxy_auth_message(proxy)
        where = proxy.named if proxy else "the proxy"
        return (
            f"{where} would not connect to {host}; check the proxy, or set NO_PROXY for hosts the bridge should "
            "reach directly"
        )
    if failure.kind == "proxy_connect" and proxy is not None:
        what = "connection refused" if failure.refused else "no connection"
        if failure.unresolved:
            what = "its host name does not resolve"
        return (
            f"cannot connect to the proxy {proxy.address} (from {proxy.variable}: {proxy.url}): {what}; check the "
            "proxy, or set NO_PROXY for hosts the bridge should reach directly"
        )
    if failure.kind == "timeout":
        return f"the Footage API did not answer within {timeout:g} s; try again later, or raise FOOTAGE_TIMEOUT"
    if failure.kind == "dns":
        return f"cannot resolve the host name {host}; check FOOTAGE_BASE_URL and the network"
    if failure.kind == "refused":
        return (
            f"connection to {host}:{failure.port} was refused; is the API (or the sandbox) running at FOOTAGE_BASE_URL?"
        )
    if failure.kind == "closed":
        return "the Footage API closed the connection before the response was complete; try again"
    if failure.kind == "headers_too_large":
        return (
            "the Footage API sent response headers too large to read (over 100 KiB: a huge header line or thousands "
            "of headers); the service is at fault, retrying is unlikely to help"
        )
    if failure.kind == "malformed":
        return (
            "the Footage API sent a response that is not valid HTTP; the service is at fault, retrying is unlikely "
            "to help"
        )
    if failure.kind == "connect":
        return f"cannot connect to {host}; check the network and FOOTAGE_BASE_URL, then retry"
    return f"cannot reach {host} ({failure.error_type}); check the network and FOOTAGE_BASE_URL, then retry"
