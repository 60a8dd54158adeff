"""Opaque ``next_cursor`` values for the model.

A cursor wraps where the next page comes from: the absolute URL the API gave (or the
bridge built from an API cursor or page number), how many items of that page were already
handed out, and the list it belongs to. It is that state as compact JSON, *encrypted* with AES-GCM
(key from :func:`cursor_key`; a random 96-bit nonce per cursor; authenticated, so a truncated,
edited or forged cursor is refused), in urlsafe base64. Encrypted, not only signed: an upstream may
echo the token into its next link or cursor, and a cursor the model sees must not carry it in any
encoding (the listing also ends when a continuation holds the token, see ``rest.api``). It is
validated again on use: it must lead to the base origin and under the base path, and belong to the
same list.

The key is derived from the API token and the base URL (or from ``FOOTAGE_STATE_SECRET``, so that
replicas behind one HTTP endpoint accept each other's cursors), not made per process: MCP hosts
restart servers, and a client such as the Inspector CLI starts one per call, so a cursor must still
work in the next process of the same configuration. A new token (or base URL) invalidates old cursors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from footage_mcp.core.errors import InvalidCursor

MAX_CURSOR_CHARS = 4096
"""Longest cursor accepted. The bridge never hands out one longer than :data:`INLINE_CURSOR_CHARS`."""
INLINE_CURSOR_CHARS = 400
"""A cursor whose state would encode longer than this (a long next-page URL) is kept in memory and
the model gets a short reference to it, so cursors stay small in results and under the budget."""
STASH_SIZE = 2048
"""How many long cursor states are kept (oldest dropped first)."""
_BAD = (
    "the cursor is not valid for {what}: pass the next_cursor of the previous page unchanged, or omit it to start again"
)
_EXPIRED = "the cursor has expired (the server restarted, or too many listings since): start {what} again"


@dataclass(frozen=True, slots=True)
class CursorState:
    """Where the next page starts: ``url`` (absolute), ``skip`` items already returned, ``scope``."""

    url: str
    skip: int
    scope: str


CURSOR_KEY_ITERATIONS = 100_000
"""PBKDF2 rounds for :func:`cursor_key` (about 25-50 ms, once per process per token, on the first
listing)."""


def cursor_key(token: str | None, base_url: str, secret: object = None) -> bytes:
    """The 256-bit AES-GCM key for cursors of ``base_url`` under ``token``: HMAC-SHA256, keyed by the
    token stretched with PBKDF2-HMAC-SHA256 (:data:`CURSOR_KEY_ITERATIONS` rounds, a fixed label as
    salt), over a label and the base URL.

    Neither the key nor a signature reveals the token, and the stretching makes a cursor (which the
    model sees and transcripts keep) a slow test of guessed tokens: a guess costs the PBKDF2 rounds
    whatever the base URL. The stretching is done once per process per token, the per-base-URL step is
    one HMAC (a process serving several base URLs, such as the in-process tests with a sandbox per
    test, does not stretch again for each). Without a token only public
    routes can be paged, and the key is derived from the base URL alone (the on-use checks still keep
    a cursor under the base URL).

    With ``secret`` (``FOOTAGE_STATE_SECRET``: a str or SecretStr shared by every replica) the key is
    HMAC-SHA256 of the secret over the label, the base URL and the token: still one key per token
    (HTTP team mode: a cursor of one user is refused for another), the same on every replica, and
    unguessable without the secret, so no stretching is needed."""
    if secret is not None:
        get = getattr(secret, "get_secret_value", None)
        text = str(get() if callable(get) else secret)
        if text:
            message = b"footage-mcp cursor v2\0" + base_url.encode() + b"\0" + (token or "").encode()
            return hmac.new(text.encode(), message, hashlib.sha256).digest()
    return _stretched_key(token or "", base_url)


STRETCHED_KEYS = 32
"""Stretched tokens kept per process (oldest dropped first)."""
_STRETCHED: OrderedDict[bytes, bytes] = OrderedDict()
_STRETCHED_LOCK = threading.Lock()
_CACHE_SECRET = secrets.token_bytes(32)


def _stretched_key(token: str, base_url: str) -> bytes:
    """HMAC-SHA256 over ``base_url`` under :func:`_stretched_token` of ``token``."""
    message = b"footage-mcp cursor key v3\0" + base_url.encode()
    return hmac.new(_stretched_token(token), message, hashlib.sha256).digest()


def _stretched_token(token: str) -> bytes:
    """PBKDF2 of ``token``, stretched once per process per token: a second server or API object in this
    process (a team-mode server's API per token after its LRU dropped it, another base URL, the in-process
    layer of the tests) does not pay the stretching again.

    The cache is keyed by an HMAC of the token under a secret made at process start, never the token:
    a team-mode user's token is gone when the request is answered (``rest.tokens``), and what stays is
    only a digest no other process can compare and the stretched value."""
    label = hmac.new(_CACHE_SECRET, token.encode(), hashlib.sha256).digest()
    with _STRETCHED_LOCK:
        known = _STRETCHED.get(label)
        if known is not None:
            _STRETCHED.move_to_end(label)
            return known
    stretched = hashlib.pbkdf2_hmac("sha256", token.encode(), b"footage-mcp cursor key v3", CURSOR_KEY_ITERATIONS)
    with _STRETCHED_LOCK:
        _STRETCHED[label] = stretched
        while len(_STRETCHED) > STRETCHED_KEYS:
            _STRETCHED.popitem(last=False)
    return stretched


_AAD = b"footage-mcp cursor v2"
_NONCE_BYTES = 12


class CursorCodec:
    """Encrypts and checks cursors with ``key`` (32 bytes): bytes, a function that makes them (called
    once, on first use), or None for a random key (tests). ``cryptography`` is imported on first use.

    A forged cursor, or one made under another token or base URL, fails the authentication check;
    the model is told to start the listing again. Long cursor states live in this process's memory
    (:data:`INLINE_CURSOR_CHARS`): those expire with the process, and another replica does not know
    them; ``inline_limit`` (at most :data:`MAX_CURSOR_CHARS`) raises the length kept inline (several
    replicas: every cursor must be self-contained).
    """

    def __init__(
        self, key: bytes | Callable[[], bytes] | None = None, *, inline_limit: int = INLINE_CURSOR_CHARS
    ) -> None:
        self._key_source = key
        self._inline_limit = min(inline_limit, MAX_CURSOR_CHARS)
        self._key_bytes: bytes | None = None
        self._aead: Any = None
        self._stash: OrderedDict[str, tuple[str, int, str]] = OrderedDict()

    @property
    def _key(self) -> bytes:
        if self._key_bytes is None:
            source = self._key_source
            self._key_bytes = (
                source() if callable(source) else source if source is not None else secrets.token_bytes(32)
            )
        return self._key_bytes

    @property
    def _cipher(self) -> Any:
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # lazy: ~20 ms, first listing only

            self._aead = AESGCM(hashlib.sha256(self._key).digest() if len(self._key) != 32 else self._key)
        return self._aead

    def encode(self, state: CursorState) -> str:
        data: dict[str, object] = {"u": state.url, "s": state.skip, "c": state.scope}
        cursor = self._sign(data)
        if len(cursor) <= self._inline_limit:
            return cursor
        ref = secrets.token_urlsafe(12)
        self._stash[ref] = (state.url, state.skip, state.scope)
        while len(self._stash) > STASH_SIZE:
            self._stash.popitem(last=False)
        return self._sign({"r": ref, "c": state.scope})

    def _sign(self, data: dict[str, object]) -> str:
        payload = json.dumps(data, separators=(",", ":")).encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = nonce + self._cipher.encrypt(nonce, payload, _AAD)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def decode(self, cursor: str, scope: str, what: str) -> CursorState:
        """The state inside ``cursor``.

        Raises:
            InvalidCursor: not a cursor of this bridge, edited, or from another list (``what``
                names the listing for the message, e.g. "the asset search"; ``listing`` is ``scope``
                up to its first ``:``, for the surface's hint).
        """
        listing = scope.split(":", 1)[0]
        bad = InvalidCursor(_BAD.format(what=what), listing=listing)
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
            raise bad
        from cryptography.exceptions import InvalidTag

        body = cursor.strip()
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if len(sealed) <= _NONCE_BYTES:
                raise bad
            payload = self._cipher.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _AAD)
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidTag):
            raise bad from None
        if isinstance(data, dict) and isinstance(data.get("r"), str) and data.get("c") == scope:
            stashed = self._stash.get(data["r"])
            if stashed is None:
                raise InvalidCursor(_EXPIRED.format(what=what), listing=listing, start_again=True)
            return CursorState(*stashed)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("u"), str)
            or not isinstance(data.get("s"), int)
            or data["s"] < 0
            or data.get("c") != scope
        ):
            raise bad
        return CursorState(url=data["u"], skip=data["s"], scope=data["c"])
