"""Whose token a request uses: the configured one, or (HTTP team mode) the one the MCP request brought.

In team mode (``FOOTAGE_HTTP_AUTH=client``) every HTTP request carries its user's own Footage API
token; the surface binds it with :func:`bind_token` for the duration of that one MCP message, and
:class:`~footage_mcp.rest.http.RestClient` reads it through :func:`effective_token`. The token is
held in a :class:`contextvars.ContextVar` only: it is stored nowhere, logged nowhere, and gone when
the message has been answered.

Whatever one token fetched must never be served to another (discovery root, archive
configuration, cursors, any cache): :class:`ApiPerToken` keeps one
:class:`~footage_mcp.rest.api.FootageApi` (with all of its caches) per token, keyed by
:func:`token_key`, a salted SHA-256 of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from footage_mcp.core.settings import Settings
    from footage_mcp.rest.api import FootageApi
    from footage_mcp.rest.http import RestClient

__all__ = [
    "CLIENT_TOKEN_HELP",
    "CLIENT_TOKEN_LABEL",
    "MAX_TOKENS_CACHED",
    "ApiPerToken",
    "bind_token",
    "effective_token",
    "request_token_bound",
    "state_secret",
    "token_key",
]


class _Unbound:
    """No request token is bound: the configured token applies."""

    def __repr__(self) -> str:
        return "<unbound>"


_UNBOUND: Final = _Unbound()
_REQUEST_TOKEN: ContextVar[str | _Unbound | None] = ContextVar("footage_request_token", default=_UNBOUND)

CLIENT_TOKEN_LABEL: Final = "the token your MCP client sent (apiKey or Authorization: Bearer header)"
"""How messages name a per-request token (where ``FOOTAGE_API_TOKEN`` is named for the configured one)."""

CLIENT_TOKEN_HELP: Final = (
    "generate an API key at https://app.footage.one/account (section 'API Key') and have your MCP client "
    "send it with every request as 'apiKey: <key>' or 'Authorization: Bearer <key>'"
)
"""What a user of a team-mode bridge does about a missing or rejected token."""

MAX_TOKENS_CACHED: Final = 512
"""How many tokens' caches one process keeps (least recently used dropped first)."""


@contextmanager
def bind_token(token: str | None) -> Iterator[None]:
    """While the block runs, requests use ``token`` (None: the request brought none) instead of the
    configured one. Bound per MCP message by the team-mode middleware; nested binds restore on exit."""
    reset = _REQUEST_TOKEN.set(token)
    try:
        yield
    finally:
        _REQUEST_TOKEN.reset(reset)


def request_token_bound() -> bool:
    """True while a per-request token (or its absence) is bound: team mode, inside a message."""
    return not isinstance(_REQUEST_TOKEN.get(), _Unbound)


def effective_token(configured: str | None) -> str | None:
    """The token to send now: the bound request token if one is bound, else ``configured``."""
    bound = _REQUEST_TOKEN.get()
    return configured if isinstance(bound, _Unbound) else bound


def token_key(token: str | None) -> str:
    """A stable, non-reversible key for ``token`` (32 hex digits of a labelled SHA-256): what caches
    are keyed by. ``"anonymous"`` for no token. Never log the token; this key may be logged."""
    if not token:
        return "anonymous"
    return hashlib.sha256(b"footage-mcp token key v1\0" + token.encode()).hexdigest()[:32]


def state_secret(settings: Settings) -> str | None:
    """``FOOTAGE_STATE_SECRET`` (the secret every replica shares for what the bridge signs), or None.

    Read through the settings' ``state_secret`` field where it exists; until then straight from the
    environment (one place, so the field replaces this fallback)."""
    value = getattr(settings, "state_secret", None)
    if value is None:
        value = os.environ.get("FOOTAGE_STATE_SECRET", "").strip() or None
    get = getattr(value, "get_secret_value", None)
    text = get() if callable(get) else value
    return str(text) if text else None


class ApiPerToken:
    """One :class:`FootageApi` per token over one shared :class:`RestClient` (one connection pool).

    :meth:`current` gives the API of the token in effect (:func:`effective_token`); each has its own
    discovery root, archive configuration and cursor codec, so nothing one token fetched reaches
    another. At most :data:`MAX_TOKENS_CACHED` are kept; an evicted token's next call reads the
    root again (cursors survive: their key is derived, not stored).
    """

    def __init__(
        self,
        rest: RestClient,
        make: Callable[[RestClient], FootageApi],
        *,
        limit: int = MAX_TOKENS_CACHED,
    ) -> None:
        self.rest = rest
        self._make = make
        self._limit = limit
        self._apis: OrderedDict[str, FootageApi] = OrderedDict()

    def current(self) -> FootageApi:
        """The API for the token in effect now (built on first use, inside that token's request)."""
        key = token_key(self.rest.token)
        api = self._apis.get(key)
        if api is None:
            api = self._make(self.rest)
            self._apis[key] = api
            while len(self._apis) > self._limit:
                self._apis.popitem(last=False)
        else:
            self._apis.move_to_end(key)
        return api

    def cached_keys(self) -> Mapping[str, FootageApi]:
        """The token keys with an API in memory (tests, diagnostics)."""
        return dict(self._apis)
