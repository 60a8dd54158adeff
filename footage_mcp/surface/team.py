"""HTTP team mode: one bridge for many users, any number of stateless replicas behind a load balancer.

Three pieces around the SDK's Streamable HTTP app (interface.md, 'HTTP team mode'):

- :class:`TeamMiddleware` (ASGI, outermost): ``GET /healthz`` answers 200 without touching the API;
  with ``FOOTAGE_HTTP_AUTH=client`` a request to ``/mcp`` that brings no token gets 401 with a
  ``WWW-Authenticate`` header saying what to send (and one that brings two different tokens, 400).
- :func:`bind_request_token` (MCP server middleware, per message): reads the token from that
  message's own HTTP request (``apiKey: <token>`` or ``Authorization: Bearer <token>``) and binds it
  (:func:`footage_mcp.rest.tokens.bind_token`) while the message is handled, so the REST client
  forwards it upstream. Read per message, not per connection: nothing of one request's token can
  reach another request.
- :func:`request_state_security`: the SDK's multi-round-trip state (2026-07-28 ``requestState``,
  e.g. elicitation) sealed under a key from ``FOOTAGE_STATE_SECRET`` (so any replica accepts what
  another issued) and bound to the token that started it.

A malformed token (quotes, a second ``Bearer``, a space …) is not refused here: every call answers
with the same token-problem message as a bad ``FOOTAGE_API_TOKEN`` would (see
:meth:`footage_mcp.rest.http.RestClient.get`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.request_state import RequestStateSecurity
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from footage_mcp import __version__
from footage_mcp.core.settings import Settings
from footage_mcp.rest.tokens import bind_token, state_secret, token_key

__all__ = [
    "HEALTH_PATH",
    "MCP_PATH",
    "SERVER_NAME",
    "RequestToken",
    "TeamMiddleware",
    "allowed_names",
    "bind_request_token",
    "request_state_security",
    "token_from_headers",
]

SERVER_NAME: Final = "footage"
"""The MCP server name: the same on every replica (the request-state audience, what clients show)."""
MCP_PATH: Final = "/mcp"
HEALTH_PATH: Final = "/healthz"
WWW_AUTHENTICATE: Final = (
    'Bearer realm="footage-mcp", error_description="send your footage.one API key with every request, '
    "as 'Authorization: Bearer <key>' or 'apiKey: <key>'\""
)
_BEARER: Final = "bearer "


@dataclass(frozen=True, slots=True)
class RequestToken:
    """What an HTTP request says about its token: ``token`` (None when it brings none) or a ``problem``."""

    token: str | None
    problem: str | None = None


def token_from_headers(headers: Mapping[str, str]) -> RequestToken:
    """The user's token from ``apiKey: <token>`` or ``Authorization: Bearer <token>`` (names and the
    scheme case-insensitive; another scheme, such as Basic, counts as none). Both headers with
    different tokens is a problem, not a choice. The token is returned as sent (after the scheme):
    its own defects are diagnosed on use, like a configured token's."""
    api_key = (headers.get("apikey") or "").strip()
    authorization = (headers.get("authorization") or "").strip()
    bearer = authorization[len(_BEARER) :].strip() if authorization.lower().startswith(_BEARER) else ""
    if api_key and bearer and api_key != bearer:
        return RequestToken(None, "the apiKey and Authorization headers carry different tokens; send one of them")
    return RequestToken(api_key or bearer or None)


async def bind_request_token(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """MCP server middleware (team mode): handle this message with the token its HTTP request brought."""
    headers = getattr(ctx.request, "headers", None)
    token = token_from_headers(headers).token if headers is not None else None
    with bind_token(token):
        return await call_next(ctx)


def _principal(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The request state's owner: the key of the request's token (None without one: not bound)."""
    headers = getattr(ctx.request, "headers", None)
    token = token_from_headers(headers).token if headers is not None else None
    return token_key(token) if token else None


def request_state_security(settings: Settings) -> RequestStateSecurity:
    """Sealing of the SDK's ``requestState``: AES-256-GCM under a key derived from
    ``FOOTAGE_STATE_SECRET`` (every replica the same), or a per-process random key without it (one
    replica); bound to the request's token, with the audience :data:`SERVER_NAME`."""
    secret = state_secret(settings)
    key = hashlib.sha256(b"footage-mcp request state v1\0" + secret.encode()).digest() if secret else os.urandom(32)
    return RequestStateSecurity(keys=[key], bind_principal=_principal, audience=SERVER_NAME)


def allowed_names(host: str, port: int, extra: str | None) -> tuple[list[str], list[str]]:
    """``(allowed Host values, allowed Origin values)`` for DNS-rebinding protection: the bound
    address (all loopback names on loopback) plus ``FOOTAGE_ALLOWED_HOSTS`` (comma-separated; each a
    host name, ``host:port``, or an origin such as ``https://mcp.example.com``). A bare name is
    accepted on any port and with either scheme (the proxy in front terminates TLS)."""
    from footage_mcp.core.settings import is_loopback_host

    names = ["127.0.0.1", "localhost", "[::1]"] if is_loopback_host(host) else [host]
    hosts = [f"{name}:{port}" for name in names]
    origins = [f"http://{name}:{port}" for name in names]
    if port == 80:  # clients leave the default port out (Host: 127.0.0.1), and would otherwise get 421
        hosts += names
        origins += [f"http://{name}" for name in names]
    for raw in (extra or "").split(","):
        entry = raw.strip().rstrip("/")
        if not entry:
            continue
        if "://" in entry:
            origins.append(entry)
            authority = entry.split("://", 1)[1]
            hosts.append(authority)
            continue
        hosts.append(entry)
        origins += [f"https://{entry}", f"http://{entry}"]
        if ":" not in entry.removeprefix("[").split("]")[-1]:  # no port given: any port
            hosts.append(f"{entry}:*")
            origins += [f"https://{entry}:*", f"http://{entry}:*"]
    return hosts, origins


class TeamMiddleware:
    """ASGI middleware in front of the SDK's app: ``/healthz``, and (``client_auth``) the 401 for a
    ``/mcp`` request without a token. Everything else passes through untouched."""

    def __init__(self, app: ASGIApp, *, client_auth: bool) -> None:
        self.app = app
        self.client_auth = client_auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == HEALTH_PATH:
            if scope["method"] in ("GET", "HEAD"):
                body = {"status": "ok", "server": SERVER_NAME, "version": __version__}
                await _respond(send, 200, body, head=scope["method"] == "HEAD")
            else:
                await _respond(send, 405, {"error": "GET /healthz only"}, extra=[(b"allow", b"GET, HEAD")])
            return
        if self.client_auth and (path == MCP_PATH or path.startswith(MCP_PATH + "/")):
            found = token_from_headers(Headers(scope=scope))
            if found.problem is not None:
                await _respond(send, 400, _jsonrpc_error(-32600, found.problem))
                return
            if found.token is None:
                message = (
                    "this bridge serves each user with their own footage.one API key: send it with every "
                    "request as 'Authorization: Bearer <key>' or 'apiKey: <key>' "
                    "(generate one at https://app.footage.one/account)"
                )
                header = [(b"www-authenticate", WWW_AUTHENTICATE.encode())]
                await _respond(send, 401, _jsonrpc_error(-32001, message), extra=header)
                return
        await self.app(scope, receive, send)


class NoGetStream:
    """ASGI middleware right around the SDK's app (inside the auth layers, so an unauthenticated request
    still gets its 401 first): ``GET /mcp`` is a 405. The SDK's stateless mode opened an SSE stream there
    that sent nothing and never ended: memory per stream (5,000 took 400 MB in a breaking run), and a
    shutdown that waited its whole grace for one. And ``/mcp/`` is served as ``/mcp`` (Starlette answered
    it with a 307 whose ``Location`` repeated the query string, a token put in the URL included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in (MCP_PATH, MCP_PATH + "/"):
            if scope["method"] == "GET":
                message = "this server is stateless and opens no GET stream: send each JSON-RPC request with POST"
                await _respond(send, 405, _jsonrpc_error(-32000, message), extra=[(b"allow", b"POST")])
                return
            if scope["path"] != MCP_PATH:  # /mcp/ is /mcp: served, not a 307 whose Location repeats the query
                scope = {**scope, "path": MCP_PATH, "raw_path": MCP_PATH.encode()}
        await self.app(scope, receive, send)


def _jsonrpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


async def _respond(
    send: Send, status: int, body: Any, *, head: bool = False, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else data})
