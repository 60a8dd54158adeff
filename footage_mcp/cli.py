"""Command line: ``footage-mcp [serve|sandbox|demo|check]`` (interface.md, 'Install and run').

``serve`` (the default) speaks MCP over stdio: nothing but JSON-RPC goes to stdout, logs go
to stderr. A configuration error prints one line to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from footage_mcp import __version__
from footage_mcp.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footage-mcp",
        description="MCP server for a footage.one media library (Footage REST API + static API token).",
    )
    parser.add_argument("--version", action="version", version=f"footage-mcp {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the MCP server on stdio (default)")
    sandbox = sub.add_parser("sandbox", help="run a local emulator of the Footage REST API with sample data")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback)")
    sandbox.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    sandbox.add_argument("--shape", choices=("hal", "array", "items"), default="hal", help="list response family")
    sandbox.add_argument("--token", default=None, help="accepted API token (default: sandbox-token)")
    sandbox.add_argument("--alt-routes", action="store_true", help="serve search/album assets at non-default paths")
    sub.add_parser("demo", help="start the sandbox and the bridge, and show a few calls through a real MCP client")
    sub.add_parser("check", help="check configuration and connectivity (one line per check)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "serve"
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
            from footage_mcp.demo import main as demo_main

            return demo_main()
        from footage_mcp.config import load_settings
        from footage_mcp.logs import configure_logging

        settings = load_settings()
        configure_logging(settings.log_level, [settings.token])
        if command == "check":  # reports a bad routes file as a FAIL line itself
            from footage_mcp.check import main as check_main

            return check_main(settings)
        from footage_mcp.server import build_server

        build_server(settings).run("stdio")
        return 0
    except ConfigError as exc:
        print(f"footage-mcp: configuration error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
