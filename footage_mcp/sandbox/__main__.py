"""The sandbox's one command line: ``footage-mcp sandbox`` and ``python -m footage_mcp.sandbox`` are
both this parser (:func:`main`), with the options of :func:`~.server.serve`::

    [--host H] [--port P] [--shape hal|array|items] [--token T] [--alt-routes]
    [--seed N] [--extra-album-assets N] [--faults FILE] [--data FILE]

A port that cannot be used, or a faults file that does not load, is one line on stderr and exit
status 2.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence

from .constants import SHAPES
from .faults import RuleError
from .library import DEFAULT_SEED
from .server import serve

PROG = "python -m footage_mcp.sandbox"


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    """Command-line options mirroring :func:`serve`."""
    result = argparse.ArgumentParser(
        prog=prog,
        description="Local emulator of the Footage REST API with a seeded sample library.",
    )
    result.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)")
    result.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free port (default: 8765)")
    result.add_argument("--shape", choices=SHAPES, default="hal", help="response shape family (default: hal)")
    result.add_argument(
        "--token",
        action="append",
        default=None,
        help="accepted apiKey (default: $FOOTAGE_SANDBOX_TOKEN or sandbox-token); repeat it (or separate with "
        "commas) for several users, each with their own library",
    )
    result.add_argument("--alt-routes", action="store_true", help="serve search and album assets at alternative paths")
    result.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"library seed (default: {DEFAULT_SEED})")
    result.add_argument(
        "--extra-album-assets", type=int, default=0, metavar="N", help="add a 'Bulk Import' album of N assets"
    )
    result.add_argument("--faults", default=None, metavar="FILE", help="initial fault rules (JSON, see faults.py)")
    result.add_argument("--data", default=None, metavar="FILE", help="keep the library's changes in this SQLite file")
    return result


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Parse ``argv`` and serve until interrupted; returns the exit status (2: the port or the faults
    file cannot be used, with one line on stderr)."""
    args = parser(prog).parse_args(argv)
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
            data_file=args.data,
        )
    except RuleError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            why = (
                "the port is already in use (another sandbox, or another server); stop it, or choose another "
                "with --port (0 picks a free one: FOOTAGE_BASE_URL must then name the address it prints)"
            )
        print(f"{prog}: cannot listen on {args.host}:{args.port}: {why}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
