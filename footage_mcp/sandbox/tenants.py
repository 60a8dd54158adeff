"""Several users, each with their own library: one sandbox app per accepted token.

``footage-mcp sandbox --token a --token b`` (or ``--token a,b``) serves token ``a`` the library of
the seed, token ``b`` the library of seed + 1, and so on: different ids, names and archive names
(``archiveName`` gains `` (library 2)`` …), so a test can tell whose data a response holds. A request
goes to the app of the token in its ``apiKey`` header; one without a known token goes to the first
app (which answers public routes and 401s the rest). All apps share one fault/request-log state
and the control API under ``/_sandbox/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .app import create_app
from .constants import ARCHIVE_NAME, split_tokens
from .faults import CLOSED_ORIGIN, SandboxState

__all__ = ["TokenRouter", "create_multi_app", "split_tokens"]


class TokenRouter:
    """ASGI: the app of the request's ``apiKey`` token, else the first app."""

    def __init__(self, apps: dict[str, ASGIApp], first: ASGIApp, state: SandboxState) -> None:
        self.apps = apps
        self.first = first
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.first
        if scope["type"] == "http":
            app = self.apps.get(Headers(scope=scope).get("apikey", ""), self.first)
        await app(scope, receive, send)


def create_multi_app(
    tokens: Sequence[str], *, seed: int, echo_origin: str | None = None, **options: Any
) -> TokenRouter:
    """One app per token (seed, seed + 1, …) behind a :class:`TokenRouter`; ``options`` as for
    :func:`~.app.create_app`. Raises ValueError without a token."""
    if not tokens:
        raise ValueError("at least one token is needed")
    state = SandboxState(echo_origin=(echo_origin or CLOSED_ORIGIN).rstrip("/"))
    apps: dict[str, ASGIApp] = {}
    for index, token in enumerate(tokens):
        name = ARCHIVE_NAME if index == 0 else f"{ARCHIVE_NAME} (library {index + 1})"
        apps[token] = create_app(token=token, seed=seed + index, state=state, archive_name=name, **options)
    return TokenRouter(apps, apps[tokens[0]], state)
