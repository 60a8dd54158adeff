"""Constants shared by the sandbox modules (the sandbox shares nothing with the rest of footage_mcp)."""

from __future__ import annotations

import os
from collections.abc import Sequence
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
    "default_tokens",
    "split_tokens",
]

DEFAULT_TOKEN: Final = "sandbox-token"
"""The token the sandbox accepts in the ``apiKey`` header unless told otherwise."""
TOKEN_ENV: Final = "FOOTAGE_SANDBOX_TOKEN"
"""Environment variable :func:`footage_mcp.sandbox.serve` reads the token from when none is given."""
PREVIEW_CACHE_ENV: Final = "FOOTAGE_SANDBOX_PREVIEW_CACHE"
"""Environment variable naming a folder where rendered previews are kept across sandbox processes
(:func:`footage_mcp.sandbox.previews.render_preview`); unset, previews are cached in memory only."""
BASE_PATH: Final = "/api/asset"
"""Path prefix of every route, as on app.footage.one (confirmed)."""
SHAPES: Final = ("hal", "array", "items")
"""Response families: HAL ``_embedded``/``page``; bare array + ``Link``; ``items`` + ``nextCursor``."""
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 200
VERSION: Final = "sandbox-1"
ARCHIVE_NAME: Final = "Footage Sandbox Archive"


def split_tokens(values: str | Sequence[str] | None) -> list[str]:
    """``--token`` values (repeated, or comma-separated) as a list without blanks or repeats."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    seen: list[str] = []
    for item in items:
        for token in item.split(","):
            token = token.strip()
            if token and token not in seen:
                seen.append(token)
    return seen


def default_tokens() -> list[str]:
    """The tokens a sandbox accepts when it is given none, wherever it is started (``serve``,
    ``create_app``, the launcher in footage_mcp/cli/launch.py): ``$FOOTAGE_SANDBOX_TOKEN`` (comma-separated
    for several users), else ``[DEFAULT_TOKEN]``. Read at each call, not at import."""
    return split_tokens(os.environ.get(TOKEN_ENV)) or [DEFAULT_TOKEN]
