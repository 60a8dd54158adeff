"""The sandbox control API under ``/_sandbox/`` and the echo listener (another origin for redirects).

Control routes (no token, never faulted; refused with 403 to clients on a non-loopback address):

- ``GET|PUT|DELETE /_sandbox/faults``: the fault rules (see :mod:`.faults`); PUT ``{"rules": [...]}``
  replaces them (400 with a message if invalid); answers ``{"rules": [...], "applied": [n, ...]}``.
- ``GET|DELETE /_sandbox/requests``: the log of requests under ``/api/asset``, oldest first.
- ``GET|DELETE /_sandbox/echo-requests``: the log of requests the echo listener received.
- ``GET /_sandbox/info``: ``{"base_url", "echo_origin"}``.
- ``GET|PUT /_sandbox/writes``, ``GET /_sandbox/state``, ``POST /_sandbox/reset``: see :mod:`.writes`.
- ``GET /_sandbox/``: ``{"routes": {path: what it does}}`` (the address the sandbox prints).
"""

from __future__ import annotations

import io
import ipaddress
import json
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .constants import BASE_PATH
from .errors import error_body
from .faults import RuleError, SandboxState, parse_rules
from .hostile import prepare

__all__ = ["CONTROL_PREFIX", "control_routes", "create_echo_app"]

CONTROL_PREFIX: Final = "/_sandbox"

Handler = Callable[[Request], Awaitable[Response]]


def _json(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


def _error(request: Request, status: int, message: str) -> Response:
    return _json(error_body(status, message, request.url.path), status)


def _loopback_only(handler: Handler) -> Handler:
    """``handler``, but 403 for clients on a non-loopback IP address (in-process clients without one pass)."""

    async def guarded(request: Request) -> Response:
        host = request.client.host if request.client else ""
        try:
            remote = not ipaddress.ip_address(host).is_loopback
        except ValueError:
            remote = False
        if remote:
            return _error(request, 403, "The sandbox control API is only available over loopback")
        return await handler(request)

    return guarded


class _Control:
    """Handlers over one :class:`SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                document = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return _error(request, 400, f"Invalid JSON: {exc}")
            try:
                rules = parse_rules(document)
            except RuleError as exc:
                return _error(request, 400, str(exc))
            await prepare(rules)
            self.state.rules = rules
        elif request.method == "DELETE":
            self.state.rules = []
        return _json(self.state.rules_json())

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            cleared = len(self.state.requests)
            self.state.requests.clear()
            return _json({"cleared": cleared})
        return _json(list(self.state.requests))

    async def echo_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            cleared = len(self.state.echo_requests)
            self.state.echo_requests.clear()
            return _json({"cleared": cleared})
        return _json(list(self.state.echo_requests))

    async def index(self, request: Request) -> Response:
        return _json({"routes": {f"{CONTROL_PREFIX}/{name}": what for name, what in ROUTES.items()}})

    async def info(self, request: Request) -> Response:
        base_url = self.state.base_url or f"{request.url.scheme}://{request.url.netloc}{BASE_PATH}"
        return _json({"base_url": base_url, "echo_origin": self.state.echo_origin})


ROUTES = {
    "faults": "GET, PUT or DELETE the fault rules",
    "requests": "GET or DELETE the log of requests under /api/asset",
    "echo-requests": "GET or DELETE the log of requests the echo listener received",
    "info": "GET the base URL and the echo origin",
    "writes": "GET or PUT the write mode: idempotency keys, If-Match, after-commit faults",
    "state": "GET the library's current albums and assets (what writes changed)",
    "reset": "POST: back to the seeded library",
}
"""The control routes, as ``GET /_sandbox/`` lists them."""


def control_routes(state: SandboxState) -> list[Route]:
    """The ``/_sandbox/...`` routes over ``state``."""
    control = _Control(state)
    return [
        Route(f"{CONTROL_PREFIX}/faults", _loopback_only(control.faults), methods=["GET", "PUT", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/requests", _loopback_only(control.requests), methods=["GET", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/echo-requests", _loopback_only(control.echo_requests), methods=["GET", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/info", _loopback_only(control.info), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/", _loopback_only(control.index), methods=["GET"]),
    ]


@lru_cache(maxsize=1)
def _tiny_jpeg() -> bytes:
    """A valid 16x16 grey JPEG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 128, 128)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def create_echo_app(state: SandboxState) -> ASGIApp:
    """The echo listener: logs every request into ``state.echo_requests`` and answers 200.

    The answer is ``{"echo": true}`` JSON, or a small JPEG for any path containing ``/preview``.
    """

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        state.log_echo(scope)
        if "/preview" in scope["path"]:
            body, media = _tiny_jpeg(), b"image/jpeg"
        else:
            body, media = b'{"echo":true}', b"application/json"
        headers = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return echo
