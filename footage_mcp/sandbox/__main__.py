"""``python -m footage_mcp.sandbox [--host H] [--port P] [--shape S] [--token T] [--alt-routes] [--faults FILE]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .constants import SHAPES
from .faults import RuleError
from .library import DEFAULT_SEED
from .server import serve


def _parser() -> argparse.ArgumentParser:
    """Command-line options mirroring :func:`serve`."""
    parser = argparse.ArgumentParser(
        prog="python -m footage_mcp.sandbox",
        description="Local emulator of the Footage REST API with a seeded sample library.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free port (default: 8765)")
    parser.add_argument("--shape", choices=SHAPES, default="hal", help="response shape family (default: hal)")
    parser.add_argument(
        "--token",
        action="append",
        default=None,
        help="accepted apiKey (default: $FOOTAGE_SANDBOX_TOKEN or sandbox-token); repeat it (or separate with "
        "commas) for several users, each with their own library",
    )
    parser.add_argument("--alt-routes", action="store_true", help="serve search and album assets at alternative paths")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="library seed")
    parser.add_argument(
        "--extra-album-assets", type=int, default=0, metavar="N", help="add a 'Bulk Import' album of N assets"
    )
    parser.add_argument("--faults", default=None, metavar="FILE", help="initial fault rules (JSON, see faults.py)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        serve(
            host=args.host,
            port=args.port,
            shape=args.shape,
            token=args.token,
            alt_routes=args.alt_routes,
            seed=args.seed,
            extra_album_assets=args.extra_album_assets,
            faults_file=args.faults,
        )
    except RuleError as exc:
        print(f"footage sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"footage sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
