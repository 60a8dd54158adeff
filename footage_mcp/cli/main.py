"""Command line: ``footage-mcp [serve|sandbox|demo|check|config]`` (interface.md, 'Install and run').

``serve`` (the default) speaks MCP over stdio: nothing but JSON-RPC goes to stdout, logs go
to stderr. A configuration error prints one line to stderr and exits with status 2 (this includes
a proxy or CA bundle setting that would make every request fail). ``check`` reports the same
problems as FAIL lines instead, with how to fix them. ``config <host>`` prints a configuration
snippet for an MCP host.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from footage_mcp import __version__
from footage_mcp.core.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footage-mcp",
        description="MCP server for a footage.one media library (Footage REST API + static API token).",
    )
    parser.add_argument("--version", action="version", version=f"footage-mcp {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="stdio (default) or Streamable HTTP"
    )
    serve.add_argument("--host", default=None, help="HTTP: address to bind (default 127.0.0.1, loopback)")
    serve.add_argument("--port", type=int, default=None, help="HTTP: port (default 8770); the endpoint is /mcp")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="HTTP: allow a non-loopback address (needs FOOTAGE_HTTP_SECRET, sent by clients as a Bearer token)",
    )
    sandbox = sub.add_parser("sandbox", help="run a local emulator of the Footage REST API with sample data")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback)")
    sandbox.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    sandbox.add_argument("--shape", choices=("hal", "array", "items"), default="hal", help="list response family")
    sandbox.add_argument("--token", default=None, help="accepted API token (default: sandbox-token)")
    sandbox.add_argument("--alt-routes", action="store_true", help="serve search/album assets at non-default paths")
    sub.add_parser("demo", help="start the sandbox and the bridge, and show a few calls through a real MCP client")
    sub.add_parser(
        "check",
        help="check configuration and connectivity (one line per check)",
        description="Check the configuration (token, base URL, proxy, CA certificates) and the connection, with "
        "the environment the MCP server would have. One PASS/WARN/FAIL line per check; exit status 0 when "
        "nothing FAILs. Never prints the token.",
    )
    from footage_mcp.cli.hostconfig import add_parser as add_config_parser

    add_config_parser(sub)
    return parser


HTTP_DEFAULT_HOST = "127.0.0.1"
HTTP_DEFAULT_PORT = 8770


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "serve"
    if args.command == "serve" and args.transport == "stdio":
        given = [flag for flag, value in (("--host", args.host), ("--port", args.port)) if value is not None]
        given += ["--allow-remote"] if args.allow_remote else []
        if given:
            parser.error(
                f"{given[0]} applies to --transport http only (stdio is the default); add --transport http, "
                f"or drop {given[0]}"
            )
    try:
        if command == "sandbox":
            from footage_mcp.sandbox import serve as serve_sandbox

            try:
                serve_sandbox(
                    host=args.host, port=args.port, shape=args.shape, token=args.token, alt_routes=args.alt_routes
                )
            except OSError as exc:
                print(
                    f"footage-mcp sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                    file=sys.stderr,
                )
                return 1
            return 0
        if command == "demo":
            from footage_mcp.cli.demo import main as demo_main

            return demo_main()
        if command == "config":
            from footage_mcp.cli.hostconfig import main as config_main

            return config_main(args)
        if command == "check":  # reads the environment itself: every problem is a FAIL line, not exit 2
            from footage_mcp.cli.check import main as check_main

            return check_main()
        from footage_mcp.cli.logs import configure_logging
        from footage_mcp.core.settings import load_settings
        from footage_mcp.rest.netenv import startup_problem

        settings = load_settings()
        problem = startup_problem(settings.base_url)
        if problem:
            raise ConfigError(problem)
        configure_logging(settings.log_level, [*settings.secrets])
        from footage_mcp.surface.server import build_server

        if getattr(args, "transport", "stdio") == "http":
            host = args.host if args.host is not None else HTTP_DEFAULT_HOST
            port = args.port if args.port is not None else HTTP_DEFAULT_PORT
            secret = settings.http_secret.get_secret_value() if settings.http_secret else None
            return _serve_http(build_server(settings), host, port, args.allow_remote, secret)
        build_server(settings).run("stdio")
        return 0
    except ConfigError as exc:
        print(f"footage-mcp: configuration error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _serve_http(server: Any, host: str, port: int, allow_remote: bool, secret: str | None = None) -> int:
    """Streamable HTTP on ``host:port`` at ``/mcp``, with DNS-rebinding protection (Host and Origin
    must name the bound address). A non-loopback address needs ``--allow-remote``, which needs
    ``FOOTAGE_HTTP_SECRET`` (``secret``): then every request must send it as a Bearer token
    (:mod:`footage_mcp.surface.http_auth`; also enforced on loopback when set)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from footage_mcp.core.settings import is_loopback_host

    if not is_loopback_host(host) and not allow_remote:
        print(f"footage-mcp: refusing to serve HTTP on non-loopback {host} without --allow-remote", file=sys.stderr)
        return 2
    from footage_mcp.surface.http_auth import remote_secret_problem, serve_with_secret

    problem = remote_secret_problem(secret) if allow_remote or secret else None
    if problem:
        print(f"footage-mcp: {problem}", file=sys.stderr)
        return 2
    names = ["127.0.0.1", "localhost", "[::1]"] if is_loopback_host(host) else [host]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:{port}" for name in names],
        allowed_origins=[f"http://{name}:{port}" for name in names],
    )
    print(f"footage-mcp: Streamable HTTP on http://{names[0]}:{port}/mcp", file=sys.stderr)
    if secret:
        serve_with_secret(server, host=host.strip("[]"), port=port, transport_security=security, secret=secret)
        return 0
    server.run("streamable-http", host=host.strip("[]"), port=port, transport_security=security)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
