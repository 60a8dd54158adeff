"""``footage-mcp serve --transport http``: the Streamable HTTP app, its checks, and uvicorn.

The app is the SDK's Streamable HTTP app in **stateless** mode at ``/mcp`` (no ``Mcp-Session-Id``
is kept: any replica answers any request, in both protocol eras; see docs/deploy.md for what that
costs legacy 2025-11-25 clients), with DNS-rebinding protection (Host and Origin must name the
bound address or a ``FOOTAGE_ALLOWED_HOSTS`` entry), wrapped in
:class:`~footage_mcp.surface.team.TeamMiddleware` (``/healthz``; the 401 of team mode).

One process, or ``--workers N`` processes sharing the port (uvicorn's multi-process mode: each
worker builds the app with :func:`app_factory` from the environment). On SIGTERM uvicorn stops
accepting connections and lets in-flight calls finish for at most ``--shutdown-grace`` seconds
(default: the call budget, FOOTAGE_TIMEOUT + FOOTAGE_RETRY_BUDGET), then cancels what is left.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Final

from starlette.types import ASGIApp

if TYPE_CHECKING:
    import httpx2

from footage_mcp.core.settings import Settings, is_loopback_host

BIND_ENV: Final = "FOOTAGE_HTTP_BIND"
"""Internal: ``host:port`` handed to ``--workers`` processes (they build the app themselves)."""


def startup_problem(settings: Settings, host: str, allow_remote: bool) -> str | None:
    """Why the HTTP transport must not start with this configuration, or None."""
    if not is_loopback_host(host) and not allow_remote:
        return f"refusing to serve HTTP on non-loopback {host} without --allow-remote"
    secret = settings.http_secret.get_secret_value() if settings.http_secret else None
    if settings.http_auth == "client" and secret:
        return (
            "FOOTAGE_HTTP_SECRET applies to FOOTAGE_HTTP_AUTH=server (in client mode every request brings its "
            "user's own token as the Bearer credential): unset one of them"
        )
    if settings.http_auth == "server" and (allow_remote or secret):
        from footage_mcp.surface.http_auth import remote_secret_problem

        problem = remote_secret_problem(secret)
        if problem:
            return problem
    if settings.http_auth == "client" and settings.raw_token is not None:
        return (
            "FOOTAGE_HTTP_AUTH=client takes each user's token from their own requests, and the bridge must hold "
            "none: unset FOOTAGE_API_TOKEN (and FOOTAGE_API_KEY), or use FOOTAGE_HTTP_AUTH=server"
        )
    return None


def build_app(
    settings: Settings, host: str, port: int, *, transport: httpx2.AsyncBaseTransport | None = None
) -> ASGIApp:
    """The HTTP app for ``settings`` bound at ``host:port`` (stateless Streamable HTTP at ``/mcp``);
    ``transport`` replaces the network to the Footage API (tests), as for ``build_server``.

    Raises:
        footage_mcp.core.errors.ConfigError: as :func:`footage_mcp.surface.server.build_server`.
    """
    from footage_mcp.cli.http_serve import transport_security
    from footage_mcp.surface.server import build_server
    from footage_mcp.surface.team import NoGetStream, TeamMiddleware

    security = transport_security(host, port, settings.allowed_hosts)
    server = build_server(settings, transport=transport)
    sdk = server.streamable_http_app(stateless_http=True, transport_security=security, host=host.strip("[]"))
    app: ASGIApp = NoGetStream(sdk)
    if settings.http_auth == "server" and settings.http_secret is not None:  # inside: /healthz needs no secret
        from footage_mcp.surface.http_auth import BearerSecret

        app = BearerSecret(app, settings.http_secret.get_secret_value())
    return TeamMiddleware(app, client_auth=settings.http_auth == "client")


def keep_answers_streaming_through_the_grace() -> None:
    """Let a call's SSE answer stream on after SIGTERM, until it completes or uvicorn's graceful shutdown
    (``--shutdown-grace``) ends it.

    sse-starlette (which the SDK's Streamable HTTP answers with) wraps uvicorn's exit handler and, by
    default, ends every SSE stream the moment the signal arrives: a client that takes answers as SSE (the
    2025 protocol versions) lost every call in flight at once ("SSE stream ended without a response"),
    whatever the grace. The server is stateless (no standalone GET streams), so every SSE stream is one
    call's answer, which the grace is there to let finish."""
    from sse_starlette.sse import AppStatus

    AppStatus.enable_automatic_graceful_drain = False  # what its disable_automatic_graceful_drain() sets


def app_factory() -> ASGIApp:
    """What each ``--workers`` process serves: :func:`build_app` from the environment."""
    from footage_mcp.cli.logs import configure_logging
    from footage_mcp.core.settings import load_settings

    keep_answers_streaming_through_the_grace()
    settings = load_settings()
    configure_logging(settings.log_level, [*settings.secrets])
    host, _, port = os.environ.get(BIND_ENV, "127.0.0.1:8770").rpartition(":")
    return build_app(settings, host, int(port))


def serve_http(
    settings: Settings, host: str, port: int, *, allow_remote: bool, workers: int = 1, grace: float | None = None
) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status (2: refused to start)."""
    import uvicorn

    problem = startup_problem(settings, host, allow_remote)
    if problem:
        print(f"footage-mcp: {problem}", file=sys.stderr)
        return 2
    grace = settings.call_budget if grace is None else grace
    shown = "127.0.0.1" if is_loopback_host(host) else host
    sock = None
    if workers == 1:  # bound here first: --port 0 announces the port bound, a busy port is exit 2
        from footage_mcp.cli.http_serve import bind, why_not

        try:
            sock = bind(host, port)
        except OSError as exc:
            print(f"footage-mcp: cannot listen on {host}:{port}: {why_not(exc)}", file=sys.stderr)
            return 2
        port = int(sock.getsockname()[1])
    mode = "client (each request brings its token)" if settings.http_auth == "client" else "server"
    print(
        f"footage-mcp: Streamable HTTP on http://{shown}:{port}/mcp (stateless; auth {mode}; "
        f"{workers} worker{'s' if workers != 1 else ''}); health: /healthz",
        file=sys.stderr,
        flush=True,
    )
    options = {
        "host": host.strip("[]"),
        "port": port,
        "log_config": None,  # uvicorn's loggers propagate to the redacting root handler
        "access_log": settings.log_level in ("DEBUG", "INFO"),  # without query strings (cli/logs.py)
        "proxy_headers": False,  # no X-Forwarded-* is read (docs/deploy.md); uvicorn trusted loopback's
        "timeout_graceful_shutdown": max(1, math.ceil(grace)),
        "lifespan": "on",
    }
    if workers > 1:
        os.environ[BIND_ENV] = f"{host}:{port}"
        os.environ["FOOTAGE_HTTP_AUTH"] = settings.http_auth  # --auth, for the workers' own settings
        uvicorn.run("footage_mcp.cli.serve_http:app_factory", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return 0
    assert sock is not None
    keep_answers_streaming_through_the_grace()
    try:
        app = build_app(settings, host, port)
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])  # type: ignore[arg-type]
    finally:
        sock.close()
    return 0
