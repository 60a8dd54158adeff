"""Command line: ``footage-mcp [serve|sandbox|demo|check|config|probe]`` (interface.md, 'Install and run').

``serve`` (the default) speaks MCP over stdio: nothing but JSON-RPC goes to stdout, logs go
to stderr. A configuration error prints one line to stderr and exits with status 2 (this includes
a proxy or CA bundle setting that would make every request fail); a token that cannot be right is
not one: serve starts, says so once on stderr, and the calls that need the token answer with the
problem. ``check`` reports the same problems as FAIL lines instead, with how to fix them.
``config <host>`` prints a configuration snippet for an MCP host. ``sandbox ...`` is handed to the
sandbox's own command line (footage_mcp/sandbox/__main__.py); ``serve --transport http`` to
:mod:`footage_mcp.cli.http_serve`.
"""

from __future__ import annotations

import argparse
import sys

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
    serve.add_argument(
        "--auth",
        choices=("server", "client"),
        default=None,
        help="HTTP: whose token: server (FOOTAGE_API_TOKEN, default) or client (each request brings its own; "
        "overrides FOOTAGE_HTTP_AUTH)",
    )
    serve.add_argument("--workers", type=int, default=None, help="HTTP: worker processes sharing the port (default 1)")
    serve.add_argument(
        "--shutdown-grace",
        type=float,
        default=None,
        metavar="SECONDS",
        help="HTTP: on SIGTERM, how long in-flight calls may finish (default FOOTAGE_TIMEOUT + FOOTAGE_RETRY_BUDGET)",
    )
    # The sandbox's options are its own command line's (footage_mcp/sandbox/__main__.py): main() hands
    # `sandbox ...` to it before parsing, so that they are declared once and the sandbox is imported only then.
    sub.add_parser(
        "sandbox", help="run a local emulator of the Footage REST API with sample data (footage-mcp sandbox -h)"
    )
    sub.add_parser("demo", help="start the sandbox and the bridge, and show a few calls through a real MCP client")
    sub.add_parser(
        "check",
        help="check configuration and connectivity (one line per check)",
        description="Check the configuration (token, base URL, proxy, CA certificates) and the connection, with "
        "the environment the MCP server would have. One PASS/WARN/FAIL line per check; exit status 0 when "
        "nothing FAILs. Never prints the token.",
    )
    probe = sub.add_parser(
        "probe",
        help="read the API's structure (GET/HEAD/OPTIONS only) into an anonymised profile; suggest FOOTAGE_ROUTES",
    )
    probe.add_argument("--out", default=None, metavar="FILE", help="profile file (default footage-probe.json)")
    from footage_mcp.cli.hostconfig import add_parser as add_config_parser

    add_config_parser(sub)
    return parser


HTTP_DEFAULT_HOST = "127.0.0.1"
HTTP_DEFAULT_PORT = 8770


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["sandbox"]:
        from footage_mcp.sandbox.__main__ import main as sandbox_main

        return sandbox_main(given[1:], prog="footage-mcp sandbox")
    parser = _parser()
    args = parser.parse_args(given)
    command = args.command or "serve"
    if args.command == "serve" and args.transport == "stdio":
        given = [flag for flag, value in (("--host", args.host), ("--port", args.port)) if value is not None]
        given += ["--allow-remote"] if args.allow_remote else []
        given += [flag for flag, value in (("--auth", args.auth), ("--workers", args.workers)) if value is not None]
        given += ["--shutdown-grace"] if args.shutdown_grace is not None else []
        if given:
            parser.error(
                f"{given[0]} applies to --transport http only (stdio is the default); add --transport http, "
                f"or drop {given[0]}"
            )
    try:
        if command == "demo":
            from footage_mcp.cli.demo import main as demo_main

            return demo_main()
        if command == "config":
            from footage_mcp.cli.hostconfig import main as config_main

            return config_main(args)
        if command == "probe":
            from footage_mcp.cli.probe import main as probe_main

            return probe_main(args.out)
        if command == "check":  # reads the environment itself: every problem is a FAIL line, not exit 2
            from footage_mcp.cli.check import main as check_main

            return check_main()
        from footage_mcp.cli.logs import configure_logging
        from footage_mcp.core.settings import load_settings
        from footage_mcp.rest.netenv import startup_problem

        settings = load_settings(**({"http_auth": args.auth} if getattr(args, "auth", None) else {}))
        problem = startup_problem(settings.base_url)
        if problem:
            raise ConfigError(problem)
        configure_logging(settings.log_level, [*settings.secrets])
        if settings.token_problem:  # start anyway: every call that needs the token says what is wrong
            print(f"footage-mcp: {settings.token_problem}; calls that need the token will say so", file=sys.stderr)
        from footage_mcp.surface.server import build_server

        if getattr(args, "transport", "stdio") == "http":
            from footage_mcp.cli.serve_http import serve_http

            host = args.host if args.host is not None else HTTP_DEFAULT_HOST
            port = args.port if args.port is not None else HTTP_DEFAULT_PORT
            workers = args.workers if args.workers is not None else 1
            if workers < 1:
                raise ConfigError("--workers must be 1 or more")
            return serve_http(
                settings, host, port, allow_remote=args.allow_remote, workers=workers, grace=args.shutdown_grace
            )
        if settings.http_auth == "client":
            raise ConfigError(
                "FOOTAGE_HTTP_AUTH=client applies to --transport http only (over stdio the bridge uses "
                "FOOTAGE_API_TOKEN); add --transport http, or unset FOOTAGE_HTTP_AUTH"
            )
        build_server(settings).run("stdio")
        return 0
    except ConfigError as exc:
        print(f"footage-mcp: configuration error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
