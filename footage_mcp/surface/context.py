"""The lifespan state and how every tool, resource and prompt reaches the Footage API: :func:`api_of`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from footage_mcp.rest.api import FootageApi
from footage_mcp.rest.tokens import ApiPerToken


@dataclass(frozen=True, slots=True)
class AppState:
    """The lifespan state: one :class:`FootageApi` (one HTTP pool) for the server's lifetime; in HTTP
    team mode ``per_token`` gives each request's token its own API (its own caches) over that pool."""

    api: FootageApi
    per_token: ApiPerToken | None = None

    def current_api(self) -> FootageApi:
        """The API for the token in effect: the request's own in team mode, else :attr:`api`."""
        return self.per_token.current() if self.per_token is not None else self.api


def api_of(ctx: Context[Any, Any]) -> FootageApi:
    """The :class:`FootageApi` for this request, from the lifespan state (per token in team mode)."""
    state: AppState = ctx.request_context.lifespan_context
    return state.current_api()


def server_api(ctx: Context[Any, Any]) -> FootageApi:
    """The API of the server ``ctx`` belongs to, as its resources reach it: its running lifespan's (what
    ``FootageServer.api_of`` gives; a request's own token in team mode).

    Raises:
        RuntimeError: the server is not running (or was not made by ``build_server``).
    """
    api_of = getattr(ctx.mcp_server, "api_of", None)
    if api_of is None:
        raise RuntimeError("the server is not running")
    api: FootageApi = api_of()
    return api
