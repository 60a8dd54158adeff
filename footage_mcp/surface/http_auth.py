"""A shared secret for the Streamable HTTP transport: ``Authorization: Bearer <FOOTAGE_HTTP_SECRET>``.

With ``FOOTAGE_HTTP_AUTH=server`` the HTTP transport serves the owner's token to whoever reaches the
port. :class:`BearerSecret` is an ASGI middleware around the SDK's Starlette app: every HTTP request must
carry the secret, compared in constant time (:func:`hmac.compare_digest`); a missing or wrong one is
answered ``401`` with ``WWW-Authenticate: Bearer`` and never reaches the MCP session manager.
Lifespan (and any non-HTTP) scopes pass through untouched. ``--allow-remote`` refuses to start
without a secret (:func:`remote_secret_problem`).
"""

from __future__ import annotations

import hmac
import json
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

MIN_SECRET_CHARS: Final = 16
"""Shortest secret accepted for ``--allow-remote`` (a guessable one protects nothing)."""
REALM: Final = "footage-mcp"


def remote_secret_problem(secret: str | None) -> str | None:
    """Why ``--allow-remote`` cannot start with ``secret`` (one line), or None when it can."""
    if not secret:
        return (
            "--allow-remote needs FOOTAGE_HTTP_SECRET (a shared secret every client sends as "
            "'Authorization: Bearer <secret>'); set it, or serve on loopback"
        )
    if len(secret) < MIN_SECRET_CHARS or secret != secret.strip():
        return f"FOOTAGE_HTTP_SECRET must be at least {MIN_SECRET_CHARS} characters without surrounding spaces"
    return None


class BearerSecret:
    """ASGI middleware: HTTP requests to ``app`` need ``Authorization: Bearer <secret>``."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self._expected = b"Bearer " + secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                given = value
                break
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        error = "invalid_token" if given else "invalid_request"
        body = json.dumps(
            {"error": error, "error_description": "send the server's FOOTAGE_HTTP_SECRET as 'Authorization: Bearer …'"}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", f'Bearer realm="{REALM}", error="{error}"'.encode()),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
