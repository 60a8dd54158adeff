"""Constants shared by the sandbox modules (the sandbox shares nothing with the rest of footage_mcp)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ARCHIVE_NAME",
    "BASE_PATH",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TOKEN",
    "MAX_PAGE_SIZE",
    "SHAPES",
    "TOKEN_ENV",
    "VERSION",
]

DEFAULT_TOKEN: Final = "sandbox-token"
"""The token the sandbox accepts in the ``apiKey`` header unless told otherwise."""
TOKEN_ENV: Final = "FOOTAGE_SANDBOX_TOKEN"
"""Environment variable :func:`footage_mcp.sandbox.serve` reads the token from when none is given."""
BASE_PATH: Final = "/api/asset"
"""Path prefix of every route, as on app.footage.one (confirmed)."""
SHAPES: Final = ("hal", "array", "items")
"""Response families: HAL ``_embedded``/``page``; bare array + ``Link``; ``items`` + ``nextCursor``."""
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 200
VERSION: Final = "sandbox-1"
ARCHIVE_NAME: Final = "Footage Sandbox Archive"
