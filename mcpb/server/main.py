"""Entry point of the footage-mcp MCP Bundle (``.mcpb``): the MCP server on stdio.

The host starts it as the manifest's ``mcp_config`` says: ``uv run --directory <bundle> server/main.py``.
uv first installs what the bundle's ``pyproject.toml`` names (the footage-mcp wheel shipped inside
the bundle, and its dependencies from PyPI) into ``<bundle>/.venv``, then runs this file there.
Arguments are passed on, so ``uv run --directory <bundle> server/main.py check`` works too.
"""

import sys

from footage_mcp.cli import main

if __name__ == "__main__":
    sys.exit(main())
