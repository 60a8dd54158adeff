"""``python -m footage_mcp``: same as the ``footage-mcp`` console script."""

from footage_mcp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
