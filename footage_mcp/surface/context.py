"""The lifespan state and how every tool, resource and prompt reaches the Footage API: :func:`api_of`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from footage_mcp.rest.api import FootageApi


@dataclass(frozen=True, slots=True)
class AppState:
    """The lifespan state: one :class:`FootageApi` (one HTTP pool) for the server's lifetime."""

    api: FootageApi


def api_of(ctx: Context[Any, Any]) -> FootageApi:
    """The server's one :class:`FootageApi`, from the lifespan state of the request."""
    state: AppState = ctx.request_context.lifespan_context
    return state.api
